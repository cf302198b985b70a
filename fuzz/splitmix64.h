// splitmix64.h - the one PRNG of the fuzz layer (Steele, Lea, Flood:
// "Fast Splittable Pseudorandom Number Generators", OOPSLA 2014).
//
// Tiny, and its output is the same on every platform and build (<random>'s
// distributions are not), so whatever it drives is a function of its seed:
// the random strategy's schedule (strategy_random.cpp, seeded from choice
// bytes) and the schedule mutator's draws (schedule_mutator.cpp, seeded by
// libFuzzer).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vmafuzz::fuzz {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed = 0) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0 (the modulo bias is irrelevant here). For a
  // power of two the mask is the same value without the 64-bit division
  // (tens of cycles; the random strategy draws at every scheduling point),
  // and so is x % 3 by a constant, which the compiler multiplies (three
  // runnable tasks is the other common case).
  size_t below(size_t n) {
    const uint64_t x = next();
    if ((n & (n - 1)) == 0) return static_cast<size_t>(x & (n - 1));
    return static_cast<size_t>(n == 3 ? x % 3 : x % n);
  }
  uint8_t byte() { return static_cast<uint8_t>(next()); }

 private:
  uint64_t state_;
};

}  // namespace vmafuzz::fuzz
