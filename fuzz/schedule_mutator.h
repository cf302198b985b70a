// schedule_mutator.h - structure-aware mutations of an input's interleaving.
//
// libFuzzer's byte mutations treat the choice stream as noise: moving one
// preemption of a switch-list schedule by one scheduling point means hitting
// one byte of the tail with one of a few values, about one mutation in ten
// thousand. Yet that is the mutation concurrency bugs need most: a schedule
// that almost wins a race (S5 with B13: the reader preempted one access too
// late) becomes one that does. So the fuzz target's LLVMFuzzerCustomMutator
// gives three quarters of its mutations to these, which know what the choice
// bytes mean: each strategy's file defines its own (StrategyType::mutate,
// strategy_registry.h); today
//
//   switch-list  shift one preemption by a few scheduling points (most
//                often), change what one preemption does, insert, delete or
//                swap (run, action) pairs;
//   PCT          shift one change point by a few steps, or redraw the
//                priority permutation;
//   random       redraw the PRNG seed (its stream has no structure to keep).
//
// and, for every strategy, the C11 reads-from choices (Scenario::reads, one
// byte per load with more than one store to read): a stale read moves to a
// neighbouring load or changes its depth in a quarter of a C11 input's
// mutations, and one SC mutation in sixteen turns the input into C11 with a
// single stale read at one of its first loads (one C11 mutation in thirty-two
// turns it back), so a near miss of a store-buffer race is one shift away.
//
// The program (front bytes) is never changed here: it is re-encoded in
// canonical form, so appending choices cannot shift it. Mutations are a pure
// function of (input, seed): a libFuzzer run with -seed=N stays reproducible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz/scenario.h"
#include "fuzz/splitmix64.h"

namespace vmafuzz::fuzz {

enum class ScheduleMutation : uint8_t {
  kShiftPreemption,  // switch-list: one run length +-1..8
  kChangeAction,     // switch-list: one pair's action byte redrawn
  kInsertPreemption, // switch-list: a new pair
  kDeletePreemption, // switch-list: one pair removed
  kSwapPreemptions,  // switch-list: two adjacent pairs exchanged
  kShiftChangePoint, // PCT: one change point +-1..8 steps
  kRedrawPriorities, // PCT: the permutation bytes redrawn
  kRedrawSeed,       // random: the 8 seed bytes redrawn
  kShiftStaleRead,   // C11: one stale read moved to a load 1..8 away
  kChangeReadDepth,  // C11: one load's read redrawn (another store, or the latest)
  kFlipMemoryModel,  // SC -> C11 with one stale read, or C11 -> SC
  kMaxValue = kFlipMemoryModel,
};
std::string_view schedule_mutation_name(ScheduleMutation m);

// Mutate sc's schedule in place; returns what was done. Only sc.choices,
// sc.reads and sc.memory_model change; reads stay canonical (no trailing
// zeros, at most 255, none in SC).
ScheduleMutation mutate_schedule(Scenario& sc, uint64_t seed);

// The byte-level form the engines use: decode data[0, size), mutate the
// schedule, and return the canonical encoding (what was done in *done).
std::vector<uint8_t> mutate_schedule_encoded(const uint8_t* data, size_t size, uint64_t seed,
                                             ScheduleMutation* done = nullptr);
// In place, as libFuzzer's custom mutator hook wants it: the encoding written
// back over data. Returns the new size, or 0 if it would exceed max_size
// (data is then unchanged).
size_t mutate_schedule_bytes(uint8_t* data, size_t size, size_t max_size, uint64_t seed);

// For the strategies' mutations. A small signed shift, 1..8 either way: 1
// three times in four, then 2, then 3..8.
int small_delta(SplitMix64& rng);
// value + delta within [lo, hi]; if that leaves the range, value - delta
// (so the result differs from value whenever the range has room).
int shift_within(int value, int delta, int lo, int hi);

}  // namespace vmafuzz::fuzz
