// strategy_registry_test.cpp - every registered strategy (fuzz/strategy_registry.h)
// keeps its own choice layout consistent: its canonical reading is a fixed
// point, its .sched schedule round-trips bytes -> text -> bytes to the
// canonical form, and its mutations change the schedule and stay decodable.
// A new strategy is tested here by being in fuzz/strategy_list.inc.
#include "fuzz/strategy_registry.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"

namespace vmafuzz::fuzz {
namespace {

constexpr int kScenarios = 2000;
constexpr uint64_t kSeedsPerScenario = 4;

// A random legal scenario under `type`: a decoded program, any PCT depth, and
// a random choice stream of 0 to 40 bytes (not canonical in general).
Scenario random_scenario(const StrategyType& type, std::mt19937& rng) {
  std::vector<uint8_t> program(1 + rng() % 60);
  for (uint8_t& b : program) b = static_cast<uint8_t>(rng());
  Scenario sc = decode_scenario(program.data(), program.size());
  sc.strategy = type.kind();
  sc.pct_depth = static_cast<uint8_t>(1 + rng() % 4);
  sc.choices.resize(rng() % 41);
  for (uint8_t& b : sc.choices) b = static_cast<uint8_t>(rng());
  return sc;
}

Scenario parse_ok(const std::string& text) {
  auto r = parse_sched(text, "registry.sched");
  if (const auto* e = std::get_if<SchedError>(&r)) {
    ADD_FAILURE() << e->to_string() << "\nin:\n" << text;
    return {};
  }
  return std::get<SchedFile>(r).scenario;
}

class EveryStrategy : public testing::TestWithParam<const StrategyType*> {};

TEST_P(EveryStrategy, HasItsKindsPlaceAndAUniqueName) {
  const StrategyType& type = *GetParam();
  EXPECT_EQ(&strategy_type(type.kind()), &type);
  EXPECT_EQ(strategy_type_named(type.name()), &type);
  EXPECT_EQ(strategy_name(type.kind()), type.name());
  StrategyKind kind{};
  ASSERT_TRUE(strategy_from_name(type.name(), &kind));
  EXPECT_EQ(kind, type.kind());
  EXPECT_NE(type.make(3), nullptr);
}

TEST_P(EveryStrategy, RoundTripsBytesTextBytesToTheCanonicalForm) {
  const StrategyType& type = *GetParam();
  std::mt19937 rng(static_cast<unsigned>(type.kind()) + 1);
  for (int i = 0; i < kScenarios; ++i) {
    const Scenario sc = random_scenario(type, rng);
    const Scenario canonical = canonical_form(sc);
    ASSERT_EQ(canonical.choices, type.canonical_choices(sc));
    ASSERT_EQ(canonical_form(canonical), canonical) << print_sched(sc);
    // bytes -> text -> bytes
    const std::string text = print_sched(sc);
    ASSERT_EQ(text.find("schedule " + std::string(type.name())), text.find("schedule ")) << text;
    const Scenario parsed = parse_ok(text);
    ASSERT_EQ(parsed, canonical) << text;
    ASSERT_EQ(print_sched(parsed), text);
    const std::vector<uint8_t> bytes = encode_scenario(parsed);
    ASSERT_EQ(decode_scenario(bytes.data(), bytes.size()), canonical) << text;
  }
}

TEST_P(EveryStrategy, MutationsChangeTheScheduleAndStayDecodable) {
  const StrategyType& type = *GetParam();
  std::mt19937 rng(static_cast<unsigned>(type.kind()) + 100);
  int mutations = 0;
  int changed = 0;
  std::set<ScheduleMutation> kinds;
  for (int i = 0; i < kScenarios; ++i) {
    const Scenario sc = random_scenario(type, rng);
    for (uint64_t seed = 0; seed < kSeedsPerScenario; ++seed) {
      Scenario m = sc;
      SplitMix64 draws(seed * 1000003 + static_cast<uint64_t>(i));
      kinds.insert(type.mutate(m, draws));
      // Only the choices change...
      ASSERT_EQ(m.mms, sc.mms);
      ASSERT_EQ(m.tasks, sc.tasks);
      ASSERT_EQ(m.strategy, sc.strategy);
      ASSERT_EQ(m.pct_depth, sc.pct_depth);
      // ... the result is a scenario like any other: its bytes decode to it
      // and its text parses back to its canonical form ...
      const std::vector<uint8_t> bytes = encode_scenario(m);
      ASSERT_EQ(decode_scenario(bytes.data(), bytes.size()), m);
      ASSERT_EQ(parse_ok(print_sched(m)), canonical_form(m));
      // ... and the schedule (what the strategy decides) usually changes; a
      // redraw may draw the same schedule, a swap may swap equal pairs.
      ++mutations;
      changed += canonical_form(m) != canonical_form(sc);
    }
  }
  EXPECT_GT(changed, mutations * 3 / 4) << changed << " of " << mutations;
  EXPECT_FALSE(kinds.empty());
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryStrategy, testing::ValuesIn(strategy_types().begin(), strategy_types().end()),
                         [](const testing::TestParamInfo<const StrategyType*>& info) {
                           std::string name(info.param->name());
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(StrategyRegistry, ListsEveryStrategyKindOnceInOrder) {
  ASSERT_EQ(strategy_types().size(), static_cast<size_t>(StrategyKind::kMaxValue) + 1);
  for (size_t i = 0; i < strategy_types().size(); ++i) {
    EXPECT_EQ(strategy_types()[i]->kind(), static_cast<StrategyKind>(i));
  }
  EXPECT_EQ(strategy_type_named("round-robin"), nullptr);
  EXPECT_EQ(strategy_name_list(strategy_types()), "switch-list, pct or random");
}

}  // namespace
}  // namespace vmafuzz::fuzz
