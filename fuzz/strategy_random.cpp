// strategy_random.cpp - a uniformly random runnable task at every scheduling point.
//
// The seed (8 choice bytes, little-endian) drives a splitmix64 generator, so
// the whole run is a function of the input. Used as the "scheduler alone,
// random schedules" baseline; fuzzing favours the switch list. In .sched text
// "random seed 0x<16 hex digits>"; its one mutation redraws the seed (the
// stream has no structure to keep).
#include <bit>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>

#include "fuzz/sched_lexer.h"
#include "fuzz/strategy_random.h"
#include "fuzz/strategy_registry.h"

namespace vmafuzz::fuzz {
namespace {

constexpr size_t kSeedBytes = 8;

uint64_t read_seed(const Scenario& sc) {
  ChoiceSource cs(sc.choices);
  return read_random_seed(cs);
}

std::vector<uint8_t> write_seed(uint64_t seed) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < kSeedBytes; ++i) out.push_back(static_cast<uint8_t>(seed >> (8 * i)));
  return out;
}

class RandomType final : public StrategyType {
 public:
  StrategyKind kind() const override { return StrategyKind::kRandom; }
  std::string_view name() const override { return "random"; }
  std::unique_ptr<Strategy> make(int /*pct_depth*/) const override { return std::make_unique<RandomStrategy>(); }

  // Exactly the 8 seed bytes.
  std::vector<uint8_t> canonical_choices(const Scenario& sc) const override { return write_seed(read_seed(sc)); }

  std::string print_schedule(const Scenario& sc) const override {
    char buf[32];
    std::snprintf(buf, sizeof buf, " seed 0x%016llx\n", static_cast<unsigned long long>(read_seed(sc)));
    return buf;
  }

  void parse_schedule(SchedLexer& in, const SchedLine& l, Scenario& sc) const override {
    in.expect_word(l, 2, "seed");
    const std::string what = "a seed of '0x' and 1 to 16 hex digits";
    if (l.tokens.size() < 4) in.fail_at(l, 3, what);
    const std::string_view s = l.tokens[3].text;
    uint64_t seed = 0;
    if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) in.fail_at(l, 3, what);
    const auto [end, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), seed, 16);
    if (ec != std::errc() || end != s.data() + s.size()) in.fail_at(l, 3, what);
    in.expect_end(l, 4);
    sc.choices = write_seed(seed);
  }

  ScheduleMutation mutate(Scenario& sc, SplitMix64& rng) const override {
    if (sc.choices.size() < kSeedBytes) sc.choices.resize(kSeedBytes, 0);
    for (size_t i = 0; i < kSeedBytes; ++i) sc.choices[i] = rng.byte();
    return ScheduleMutation::kRedrawSeed;
  }

  std::string_view hunt_help() const override { return "a uniformly random runnable task at every scheduling point"; }

  std::vector<DictHeader> dict_headers() const override { return {{2, 1}, {3, 1}}; }
};

}  // namespace

const StrategyType& random_strategy_type() {
  static const RandomType type;
  return type;
}

}  // namespace vmafuzz::fuzz
