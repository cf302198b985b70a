// scenario_codec_test.cpp - the operation table's legality column, format
// versions, and the shared text and header encoders.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fuzz/scenario.h"
#include "fuzz/scenario_codec.h"

namespace vmafuzz::fuzz {
namespace {

using M = DecodeLockState::Mmap;

std::vector<std::string> names(const std::vector<OpKind>& ops) {
  std::vector<std::string> out;
  for (const OpKind k : ops) out.emplace_back(op_info(k).name);
  return out;
}

// FROZEN. The binary selector indexes these lists (kind = legal[sel % n]), so
// every existing input's meaning depends on their exact contents and order in
// version 1. If this fails, an edit of VMAFUZZ_OPS changed what old files
// mean: give a new operation since = kFormatVersion + 1 and places after the
// existing ones instead.
TEST(OperationTable, Version1LegalListsAreFrozen) {
  const std::vector<std::string> nothing = {"fault",          "mprotect",        "mprotect-killable", "munmap",
                                            "mmap",           "fork",            "downgrade",         "kill",
                                            "mmap_read_lock", "mmap_write_lock", "lock_vma_under_rcu"};
  EXPECT_EQ(names(legal_ops(DecodeLockState{}, 1)), nothing);
  EXPECT_EQ(names(legal_ops(DecodeLockState{M::kRead, false}, 1)),
            (std::vector<std::string>{"mmap_read_unlock", "lock_vma_under_rcu"}));
  EXPECT_EQ(names(legal_ops(DecodeLockState{M::kWrite, false}, 1)),
            (std::vector<std::string>{"mmap_write_unlock", "mmap_write_downgrade", "vma_start_write",
                                      "vma_start_write_killable", "vma_modify"}));
  EXPECT_EQ(names(legal_ops(DecodeLockState{M::kNone, true}, 1)), (std::vector<std::string>{"vma_end_read"}));
  EXPECT_EQ(names(legal_ops(DecodeLockState{M::kRead, true}, 1)),
            (std::vector<std::string>{"vma_end_read", "mmap_read_unlock"}));
  // Unreachable (lock_vma_under_rcu is not legal under the mmap write lock),
  // but it has always read as "a VMA read lock".
  EXPECT_EQ(names(legal_ops(DecodeLockState{M::kWrite, true}, 1)), (std::vector<std::string>{"vma_end_read"}));
}

TEST(OperationTable, TransitionsComeFromTheEffectColumn) {
  const DecodeLockState none;
  EXPECT_EQ(next_lock_state(none, OpKind::kMmapReadLock).mmap, M::kRead);
  EXPECT_EQ(next_lock_state(none, OpKind::kMmapWriteLock).mmap, M::kWrite);
  EXPECT_EQ(next_lock_state({M::kWrite, false}, OpKind::kMmapWriteDowngrade).mmap, M::kRead);
  EXPECT_EQ(next_lock_state({M::kWrite, false}, OpKind::kMmapWriteUnlock).mmap, M::kNone);
  EXPECT_EQ(next_lock_state({M::kRead, true}, OpKind::kMmapReadUnlock).mmap, M::kNone);
  EXPECT_TRUE(next_lock_state(none, OpKind::kLockVmaUnderRcu).vma_read);
  EXPECT_FALSE(next_lock_state({M::kRead, true}, OpKind::kVmaEndRead).vma_read);
  for (const OpInfo& info : op_table()) {
    if (info.level != OpLevel::kCaller) continue;
    // Callers take and drop their own locks, and start only with nothing held.
    EXPECT_EQ(info.effect, LockEffect::kKeep) << info.name;
    EXPECT_EQ(info.legal.substr(1), "----") << info.name;
  }
}

// A made-up version 2 that adds an operation: version 1's lists do not have
// it, version 2's have it after every version-1 operation of that state.
TEST(FormatVersion, AnOperationIsLegalOnlyFromTheVersionThatIntroducedIt) {
  std::vector<OpInfo> table(op_table().begin(), op_table().end());
  table.push_back(OpInfo{"mmap_read_trylock", OpLevel::kPrimitive, OpArg::kNone, 2, "b----", LockEffect::kMmapRead});
  const OpKind added = static_cast<OpKind>(table.size() - 1);
  for (const DecodeLockState s : {DecodeLockState{}, DecodeLockState{M::kRead, false}, DecodeLockState{M::kWrite, false},
                                  DecodeLockState{M::kNone, true}, DecodeLockState{M::kRead, true}}) {
    const std::vector<OpKind> v1 = legal_ops(table, s, 1);
    EXPECT_EQ(v1, legal_ops(s, 1)) << "the made-up row changed version 1";
    const std::vector<OpKind> v2 = legal_ops(table, s, 2);
    if (lock_state_of(s) == LockState::kNone) {
      ASSERT_EQ(v2.size(), v1.size() + 1);
      EXPECT_EQ(v2.back(), added);
      EXPECT_EQ(std::vector<OpKind>(v2.begin(), v2.end() - 1), v1) << "version 1's selectors keep their meaning";
    } else {
      EXPECT_EQ(v2, v1);
    }
  }
}

TEST(FormatVersion, EveryOperationOfThisBuildIsInItsVersion) {
  for (const OpInfo& info : op_table()) {
    EXPECT_GE(info.since, 1) << info.name;
    EXPECT_LE(info.since, kFormatVersion) << info.name;
  }
}

std::vector<uint8_t> version_99_file() {
  // Header with bit 7, the marker [99][99 ^ check], then what would follow.
  return {static_cast<uint8_t>(encode_header({}) | kHeaderVersionBit), 99, 99 ^ kVersionCheck, 0x01, 0x03, 0x00,
          0x00, 0x07, 0x00, 0x00, 0x2a};
}

TEST(FormatVersion, StrictCheckRefusesAVersionThisBuildDoesNotRead) {
  const std::vector<uint8_t> b = version_99_file();
  const std::optional<FormatVersionError> e = check_format_version(b.data(), b.size());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->offset, 1u);
  EXPECT_EQ(e->version, 99);
}

TEST(FormatVersion, DecoderIsTotalOnAVersionItDoesNotKnow) {
  const std::vector<uint8_t> b = version_99_file();
  EXPECT_EQ(read_format_version(b.data(), b.size()).version, 1);
  EXPECT_EQ(read_format_version(b.data(), b.size()).marker_bytes, 0u);
  const Scenario sc = decode_scenario(b.data(), b.size());
  const char* why = nullptr;
  EXPECT_TRUE(is_canonical_scenario(sc, &why)) << why;
  // Read as version 1, bit 7 ignored: what every build before versions read.
  std::vector<uint8_t> clear = b;
  clear[0] &= static_cast<uint8_t>(~kHeaderVersionBit);
  EXPECT_EQ(decode_scenario(clear.data(), clear.size()), sc);
}

// Raw fuzzer inputs have bit 7 set half the time (tests/fuzz/crashes/ holds
// one): without a valid marker they are version 1 and the strict check lets
// them through, so `vmafuzz run` reads them as the fuzz target does.
TEST(FormatVersion, BitSevenWithoutAValidMarkerIsVersion1) {
  std::mt19937 rng(7);
  int refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b(3 + rng() % 40);
    for (uint8_t& c : b) c = static_cast<uint8_t>(rng());
    b[0] |= kHeaderVersionBit;
    const bool marked = b[1] >= 2 && b[2] == (b[1] ^ kVersionCheck);
    EXPECT_EQ(check_format_version(b.data(), b.size()).has_value(), marked && b[1] > kFormatVersion);
    refused += marked;
    if (marked && b[1] <= kFormatVersion) continue;  // a version this build reads (version 2: the flags byte)
    std::vector<uint8_t> clear = b;
    clear[0] &= static_cast<uint8_t>(~kHeaderVersionBit);
    ASSERT_EQ(decode_scenario(b.data(), b.size()), decode_scenario(clear.data(), clear.size()));
  }
  EXPECT_LT(refused, 200);  // about 1 in 256
  // Version 1 is never marked: a "marker" naming 0 or 1 is data.
  for (const uint8_t v : {0, 1}) {
    const std::vector<uint8_t> b = {kHeaderVersionBit, v, static_cast<uint8_t>(v ^ kVersionCheck), 0};
    EXPECT_FALSE(check_format_version(b.data(), b.size()).has_value());
  }
}

TEST(FormatVersion, EncoderWritesVersion1UnmarkedForEveryScenarioOfThisBuild) {
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> b(1 + rng() % 80);
    for (uint8_t& c : b) c = static_cast<uint8_t>(rng());
    const Scenario sc = decode_scenario(b.data(), b.size());
    EXPECT_EQ(format_version_needed(sc), 1);
    const std::vector<uint8_t> out = encode_scenario(sc);
    EXPECT_EQ(out[0] & kHeaderVersionBit, 0);
    EXPECT_EQ(out, encode_scenario(sc, 1));
  }
}

// The fuzz target decodes every input into one Scenario: nothing of the
// previous input may show through (fewer tasks, ops or choices, SC after C11).
TEST(Decoder, IntoAReusedScenarioIsAFreshDecode) {
  std::mt19937 rng(13);
  Scenario reused;
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> b(rng() % 90);
    for (uint8_t& c : b) c = static_cast<uint8_t>(rng());
    if (b.size() >= 4 && rng() % 3 == 0) {  // a version-2 file, C11 half the time
      b[0] |= kHeaderVersionBit;
      b[1] = 2;
      b[2] = 2 ^ kVersionCheck;
    }
    const uint8_t none = 0;
    const uint8_t* data = b.empty() ? &none : b.data();
    decode_scenario_into(data, b.size(), reused);
    ASSERT_EQ(reused, decode_scenario(data, b.size())) << "input " << i;
  }
}

TEST(HeaderEncoder, DecodesToItsFields) {
  for (int tasks = kMinTasks; tasks <= kMaxTasks; ++tasks) {
    for (const int mms : {1, 2}) {
      for (const StrategyKind strategy : {StrategyKind::kSwitchList, StrategyKind::kPct, StrategyKind::kRandom}) {
        for (int depth = 1; depth <= 4; ++depth) {
          const uint8_t h = encode_header({tasks, mms, strategy, depth});
          EXPECT_EQ(h & kHeaderVersionBit, 0);
          const Scenario sc = decode_scenario(&h, 1);
          EXPECT_EQ(static_cast<int>(sc.tasks.size()), tasks);
          EXPECT_EQ(static_cast<int>(sc.mms.size()), mms);
          EXPECT_EQ(sc.strategy, strategy);
          EXPECT_EQ(sc.pct_depth, depth);
          EXPECT_EQ(encode_scenario(sc)[0], h);
        }
      }
    }
  }
}

TEST(OpText, IsTheSchedSpelling) {
  EXPECT_EQ(op_text({OpKind::kMunmap, 3}), "munmap 3");
  EXPECT_EQ(op_text({OpKind::kKill, 1}), "kill T1");
  EXPECT_EQ(op_text({OpKind::kVmaEndRead, 0}), "vma_end_read");
  EXPECT_EQ(op_text({OpKind::kMprotectKillable, 0}), "mprotect-killable 0");
}

}  // namespace
}  // namespace vmafuzz::fuzz
