// scenario_codec.cpp - decode any bytes into a legal Scenario, and back.
#include "fuzz/scenario_codec.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/report.h"

namespace vmafuzz::fuzz {
namespace {

uint8_t front_byte(FuzzedDataProvider& fdp) {
  uint8_t b = 0;
  // ConsumeData() would memcpy from a null pointer when the input is empty.
  if (fdp.remaining_bytes() > 0) fdp.ConsumeData(&b, 1);
  return b;
}

uint8_t canonical_arg(const Op& op, int num_tasks) {
  switch (op_info(op.kind).arg) {
    case OpArg::kNone: return 0;
    case OpArg::kSlot: return static_cast<uint8_t>(op.arg % kSlots);
    case OpArg::kTask: return static_cast<uint8_t>(op.arg % num_tasks);
  }
  return 0;
}

// The version a valid marker names (bit 7, a version from 2 up and its check
// byte), known to this build or not; 0 if there is no valid marker.
int marker_version(const uint8_t* data, size_t size) {
  if (size < 3 || !(data[0] & kHeaderVersionBit)) return 0;
  const int version = data[1];
  return version >= 2 && data[2] == (data[1] ^ kVersionCheck) ? version : 0;
}

}  // namespace

uint8_t encode_header(const ScenarioHeader& h) {
  return static_cast<uint8_t>((h.tasks - kMinTasks) | (h.mms == 2 ? 1 << 2 : 0) | static_cast<int>(h.strategy) << 3 |
                              (h.pct_depth - 1) << 5);
}

FormatVersionRead read_format_version(const uint8_t* data, size_t size) {
  // Spelt so that with kFormatVersion == 1 the compiler drops the whole test:
  // this build reads no marker, so it decodes every input as builds before
  // versions did (and libFuzzer sees no comparison to learn a marker from).
  if (kFormatVersion >= 2 && size >= 3 && (data[0] & kHeaderVersionBit) && data[1] >= 2 &&
      data[1] <= kFormatVersion && data[2] == (data[1] ^ kVersionCheck)) {
    return {data[1], 2};
  }
  return {};
}

std::optional<FormatVersionError> check_format_version(const uint8_t* data, size_t size) {
  const int version = marker_version(data, size);
  if (version == 0 || version <= kFormatVersion) return std::nullopt;
  return FormatVersionError{1, version};
}

int format_version_needed(const Scenario& sc) {
  int version = sc.memory_model == MemoryModel::kC11 ? 2 : 1;
  for (const TaskProgram& p : sc.tasks) {
    for (const Op& op : p.ops) version = std::max(version, static_cast<int>(op_info(op.kind).since));
  }
  return version;
}

LockState lock_state_of(const DecodeLockState& s) {
  using M = DecodeLockState::Mmap;
  // (A VMA read lock under the mmap write lock is unreachable: lock_vma_under_rcu
  // is not legal there. It reads as "a VMA read lock", as it always has.)
  if (s.vma_read) return s.mmap == M::kRead ? LockState::kVmaReadMmapRead : LockState::kVmaRead;
  switch (s.mmap) {
    case M::kNone: return LockState::kNone;
    case M::kRead: return LockState::kMmapRead;
    case M::kWrite: return LockState::kMmapWrite;
  }
  return LockState::kNone;
}

std::vector<OpKind> legal_ops(std::span<const OpInfo> table, const DecodeLockState& s, int version) {
  const LockState state = lock_state_of(s);
  std::vector<std::pair<int, OpKind>> placed;
  for (size_t i = 0; i < table.size(); ++i) {
    const int place = legal_place(table[i], state);
    if (place >= 0 && table[i].since <= version) placed.emplace_back(place, static_cast<OpKind>(i));
  }
  std::sort(placed.begin(), placed.end());
  std::vector<OpKind> ops;
  ops.reserve(placed.size());
  for (const auto& [place, kind] : placed) ops.push_back(kind);
  return ops;
}

std::vector<OpKind> legal_ops(const DecodeLockState& s, int version) {
  if (version < 1 || version > kFormatVersion) return legal_ops(op_table(), s, version);
  const std::span<const OpKind> legal = legal_ops_view(s, version);
  return {legal.begin(), legal.end()};
}

namespace {

// Every version's legal lists, by lock state: computed once.
using LegalLists = std::array<std::vector<OpKind>, kNumLockStates>;
const LegalLists& legal_lists(int version) {
  static const std::array<LegalLists, kFormatVersion + 1> lists = [] {
    std::array<LegalLists, kFormatVersion + 1> l;
    for (int v = 1; v <= kFormatVersion; ++v) {
      for (int st = 0; st < kNumLockStates; ++st) {
        DecodeLockState ds;
        using M = DecodeLockState::Mmap;
        switch (static_cast<LockState>(st)) {
          case LockState::kNone: break;
          case LockState::kMmapRead: ds.mmap = M::kRead; break;
          case LockState::kMmapWrite: ds.mmap = M::kWrite; break;
          case LockState::kVmaRead: ds.vma_read = true; break;
          case LockState::kVmaReadMmapRead: ds = {M::kRead, true}; break;
        }
        l[static_cast<size_t>(v)][static_cast<size_t>(st)] = legal_ops(op_table(), ds, v);
      }
    }
    return l;
  }();
  if (version < 1 || version > kFormatVersion) core::harness_bug("legal_ops_view: no such format version");
  return lists[static_cast<size_t>(version)];
}

}  // namespace

std::span<const OpKind> legal_ops_view(const DecodeLockState& s, int version) {
  // The decoder asks for every operation it reads: computed once per version
  // and state, and read in place (no copy per operation).
  return legal_lists(version)[static_cast<size_t>(lock_state_of(s))];
}

DecodeLockState next_lock_state(const DecodeLockState& s, OpKind kind) {
  using M = DecodeLockState::Mmap;
  DecodeLockState n = s;
  switch (op_info(kind).effect) {
    case LockEffect::kKeep: break;
    case LockEffect::kMmapRead: n.mmap = M::kRead; break;
    case LockEffect::kMmapWrite: n.mmap = M::kWrite; break;
    case LockEffect::kMmapNone: n.mmap = M::kNone; break;
    case LockEffect::kVmaRead: n.vma_read = true; break;
    case LockEffect::kVmaNone: n.vma_read = false; break;
  }
  return n;
}

Scenario decode_scenario(const uint8_t* data, size_t size) {
  Scenario sc;
  decode_scenario_into(data, size, sc);
  return sc;
}

void decode_scenario_into(const uint8_t* data, size_t size, Scenario& sc) {
  FuzzedDataProvider fdp(data, size);
  // Every field is set afresh; clear() and resize() keep the storage.
  sc.memory_model = MemoryModel::kSC;
  sc.reads.clear();
  sc.choices.clear();
  const uint8_t header = front_byte(fdp);
  const FormatVersionRead format = read_format_version(data, size);
  for (size_t i = 0; i < format.marker_bytes; ++i) front_byte(fdp);
  const int num_tasks = kMinTasks + (header & 3) % (kMaxTasks - kMinTasks + 1);
  const bool two_mms = header >> 2 & 1;
  sc.strategy = static_cast<StrategyKind>((header >> 3 & 3) % (static_cast<int>(StrategyKind::kMaxValue) + 1));
  if (format.version >= 2 && (front_byte(fdp) & kFlagC11)) sc.memory_model = MemoryModel::kC11;
  sc.pct_depth = static_cast<uint8_t>(1 + (header >> 5 & 3));
  sc.mms.resize(two_mms ? 2 : 1);
  for (MmSetup& m : sc.mms) m.initial_vmas = front_byte(fdp);
  const uint8_t task_mm = two_mms ? front_byte(fdp) : 0;
  sc.tasks.resize(static_cast<size_t>(num_tasks));
  const LegalLists& lists = legal_lists(format.version);  // once, not per operation
  for (int t = 0; t < num_tasks; ++t) {
    TaskProgram& p = sc.tasks[static_cast<size_t>(t)];
    p.mm = static_cast<uint8_t>(task_mm >> t & 1);
    const int count = 1 + front_byte(fdp) % kMaxOpsPerTask;
    p.ops.clear();
    p.ops.reserve(static_cast<size_t>(count));
    DecodeLockState state;
    for (int i = 0; i < count; ++i) {
      const std::vector<OpKind>& legal = lists[static_cast<size_t>(lock_state_of(state))];
      const uint8_t selector = front_byte(fdp);
      Op op{legal[selector % legal.size()], front_byte(fdp)};
      op.arg = canonical_arg(op, num_tasks);
      p.ops.push_back(op);
      state = next_lock_state(state, op.kind);
    }
  }
  if (sc.memory_model == MemoryModel::kC11) {
    // [count][count reads-from choices], then the schedule's choices.
    const size_t count = std::min<size_t>(fdp.ConsumeIntegral<uint8_t>(), fdp.remaining_bytes());
    for (size_t i = 0; i < count; ++i) sc.reads.push_back(fdp.ConsumeIntegral<uint8_t>());
  }
  sc.choices.reserve(fdp.remaining_bytes());
  while (fdp.remaining_bytes() > 0) sc.choices.push_back(fdp.ConsumeIntegral<uint8_t>());
}

bool is_canonical_scenario(const Scenario& sc, const char** why) {
  auto fail = [why](const char* w) {
    if (why) *why = w;
    return false;
  };
  const int n = static_cast<int>(sc.tasks.size());
  if (n < kMinTasks || n > kMaxTasks) return fail("2 to 4 tasks");
  if (sc.mms.empty() || sc.mms.size() > kMaxMms) return fail("1 or 2 mms");
  if (sc.pct_depth < 1 || sc.pct_depth > 4) return fail("PCT depth 1 to 4");
  if (sc.memory_model != MemoryModel::kC11 && !sc.reads.empty()) return fail("reads-from choices only in c11 mode");
  if (sc.reads.size() > 255) return fail("at most 255 reads-from choices");
  for (const TaskProgram& p : sc.tasks) {
    if (p.mm >= sc.mms.size()) return fail("a task's mm does not exist");
    if (p.ops.empty() || p.ops.size() > static_cast<size_t>(kMaxOpsPerTask)) return fail("1 to 8 operations per task");
    DecodeLockState state;
    for (const Op& op : p.ops) {
      const std::vector<OpKind> legal = legal_ops(state);
      if (std::find(legal.begin(), legal.end(), op.kind) == legal.end()) {
        return fail("operation not allowed in the task's lock state at that point");
      }
      if (op.arg != canonical_arg(op, n)) return fail("operation argument out of range");
      state = next_lock_state(state, op.kind);
    }
  }
  return true;
}

std::vector<uint8_t> encode_scenario(const Scenario& sc, int version) {
  if (version == 0) version = format_version_needed(sc);
  std::vector<uint8_t> out;
  const int n = static_cast<int>(sc.tasks.size());
  const bool two_mms = sc.mms.size() == 2;
  out.push_back(encode_header({n, two_mms ? 2 : 1, sc.strategy, sc.pct_depth}));
  if (version >= 2) {
    out[0] |= kHeaderVersionBit;
    out.push_back(static_cast<uint8_t>(version));
    out.push_back(static_cast<uint8_t>(version ^ kVersionCheck));
    out.push_back(sc.memory_model == MemoryModel::kC11 ? kFlagC11 : 0);
  }
  for (const MmSetup& m : sc.mms) out.push_back(m.initial_vmas);
  if (two_mms) {
    uint8_t task_mm = 0;
    for (int t = 0; t < n; ++t) task_mm |= static_cast<uint8_t>((sc.tasks[static_cast<size_t>(t)].mm & 1) << t);
    out.push_back(task_mm);
  }
  for (const TaskProgram& p : sc.tasks) {
    out.push_back(static_cast<uint8_t>(p.ops.size() - 1));
    DecodeLockState state;
    for (const Op& op : p.ops) {
      const std::vector<OpKind> legal = legal_ops(state, version);
      out.push_back(static_cast<uint8_t>(std::find(legal.begin(), legal.end(), op.kind) - legal.begin()));
      out.push_back(op.arg);
      state = next_lock_state(state, op.kind);
    }
  }
  // The back is read last byte first.
  out.insert(out.end(), sc.choices.rbegin(), sc.choices.rend());
  if (sc.memory_model == MemoryModel::kC11) {
    out.insert(out.end(), sc.reads.rbegin(), sc.reads.rend());
    out.push_back(static_cast<uint8_t>(sc.reads.size()));
  }
  return out;
}

}  // namespace vmafuzz::fuzz
