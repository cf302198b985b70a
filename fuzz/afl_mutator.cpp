// afl_mutator.cpp - the schedule mutator (schedule_mutator.h) as an AFL++
// custom mutator library (AFL_CUSTOM_MUTATOR_LIBRARY; AFL++'s
// docs/custom_mutators.md). AFL++ calls it in its custom stage, before havoc;
// unless AFL_CUSTOM_MUTATOR_ONLY is set, havoc's byte mutations still run,
// and they are what change the program bytes (docs/FUZZING.md, "AFL++").
//
// The same function as fuzz_vma_lock's LLVMFuzzerCustomMutator:
// mutate_schedule_bytes(). Its seeds are a SplitMix64 stream seeded by
// afl_custom_init's seed (afl-fuzz -s N), so one seed gives one sequence of
// mutations. Built without AFL++'s instrumentation (fuzz/CMakeLists.txt):
// it runs inside afl-fuzz, not in the target.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <new>
#include <vector>

#include "fuzz/schedule_mutator.h"
#include "fuzz/splitmix64.h"

namespace {

struct Mutator {
  vmafuzz::fuzz::SplitMix64 seeds;
  std::vector<uint8_t> out;  // owned by us: *out_buf points here until the next call
  vmafuzz::fuzz::ScheduleMutation last{};
  bool mutated = false;
  char description[64] = {};
};

}  // namespace

#define VMAFUZZ_AFL_EXPORT extern "C" __attribute__((visibility("default")))

// `afl` is afl-fuzz's state (afl_state_t); nothing here needs it.
VMAFUZZ_AFL_EXPORT void* afl_custom_init(void* /*afl*/, unsigned int seed) {
  auto* m = new (std::nothrow) Mutator;
  if (m) m->seeds = vmafuzz::fuzz::SplitMix64(seed);
  return m;
}

// How many schedule mutations AFL++'s custom stage makes of each queue entry
// it picks (without this function: as many as havoc makes, about 256). A
// shift that wins a race is about one draw in forty of a seed like S5, so 32
// draws find it in most picks, while havoc, which changes the programs, keeps
// most of the executions. Fewer than havoc's: with as many, the custom stage
// doubled what each entry cost and AFL++ reached fewer entries (docs/BENCHMARKS.md,
// "AFL++ with the schedule mutator").
constexpr unsigned kSchedulesPerEntry = 32;
VMAFUZZ_AFL_EXPORT unsigned afl_custom_fuzz_count(void* /*data*/, const uint8_t* /*buf*/, size_t /*buf_size*/) {
  return kSchedulesPerEntry;
}

// One schedule mutation of buf. AFL++ offers no second input to mix in
// (add_buf is its splice partner): the schedule mutator has no crossover.
VMAFUZZ_AFL_EXPORT size_t afl_custom_fuzz(void* data, uint8_t* buf, size_t buf_size, uint8_t** out_buf,
                                          uint8_t* /*add_buf*/, size_t /*add_buf_size*/, size_t max_size) {
  auto* m = static_cast<Mutator*>(data);
  m->out = vmafuzz::fuzz::mutate_schedule_encoded(buf, buf_size, m->seeds.next(), &m->last);
  m->mutated = m->out.size() <= max_size;
  if (!m->mutated) m->out.assign(buf, buf + buf_size);  // would not fit: the input unchanged
  *out_buf = m->out.data();
  return m->out.size();
}

// Names the last mutation: AFL++ puts it in the queue file's name
// (id:000014,src:000000+000008,...,vmafuzz-shift-preemption), which is how a
// run shows that the library was called and what it found.
VMAFUZZ_AFL_EXPORT const char* afl_custom_describe(void* data, size_t max_description_len) {
  auto* m = static_cast<Mutator*>(data);
  const std::string_view what = m->mutated ? vmafuzz::fuzz::schedule_mutation_name(m->last) : "unchanged";
  std::snprintf(m->description, sizeof m->description, "vmafuzz-%.*s", static_cast<int>(what.size()), what.data());
  if (max_description_len < sizeof m->description) m->description[max_description_len] = '\0';
  return m->description;
}

VMAFUZZ_AFL_EXPORT void afl_custom_deinit(void* data) { delete static_cast<Mutator*>(data); }
