// kernel.cpp - the Kernel instance: pools, tasks, RCU grace periods, reports.
#include "core/kernel.h"

#include <algorithm>
#include <cstdio>

#include "core/model_fn.h"

namespace vmafuzz::core {

namespace detail {
Platform* g_running_platform = nullptr;
const BugSet* g_running_bugs = nullptr;
ModelFnStack* g_model_fn_stack = nullptr;
}  // namespace detail

namespace detail {
Kernel* g_running_kernel = nullptr;

void no_running_kernel() { harness_bug("no running Kernel (missing KernelScope)"); }
}  // namespace detail
using detail::g_running_kernel;

KernelScope::KernelScope(Kernel& k) {
  if (g_running_kernel) harness_bug("nested KernelScope");
  g_running_kernel = &k;
  detail::g_running_platform = &k.platform();
  detail::g_running_bugs = k.injected_bugs_ptr();
  install_lock_version(k.lock_version(), k.version_only_platform());
}

KernelScope::~KernelScope() {
  g_running_kernel = nullptr;
  detail::g_running_platform = nullptr;
  detail::g_running_bugs = nullptr;
  install_lock_version(LockVersion{}, nullptr);
}

Kernel::Kernel(Platform& platform, ReportSink* sink) : platform_(&platform), sink_(sink) {}

Kernel::~Kernel() = default;

void Kernel::reset() {
  if (g_running_kernel == this) harness_bug("Kernel::reset while it runs");
  injected_ = BugSet{};
  lock_version_ = LockVersion{};
  version_only_ = nullptr;
  stats_.vma_lock_success = 0;
  stats_.vma_lock_abort = 0;
  stats_.vma_lock_miss = 0;
  stats_.reports = 0;
  rcu_pending_.clear();
  rcu_pending_count_ = 0;
  vma_free_list_.clear();
  // Objects point at each other (VMAs at mms, nodes at VMAs): destroyed
  // together, none is read in a destructor.
  maple_nodes_.clear();
  vmas_.clear();
  mms_.clear();
  tasks_.clear();
}

namespace {
// Kernel's members, in order (see task_struct_members in task.cpp).
struct kernel_members {
  Platform* platform;
  ReportSink* sink;
  BugSet injected;
  LockVersion lock_version;
  Platform* version_only;
  KernelStats stats;
  std::mutex alloc_lock;
  StablePool<task_struct> tasks;
  StablePool<vm_area_struct> vmas;
  std::vector<vm_area_struct*> vma_free_list;
  StablePool<mm_struct> mms;
  StablePool<maple_node> maple_nodes;
  std::mutex rcu_lock;
  std::vector<rcu_head*> rcu_pending;
  std::atomic<int> rcu_pending_count;
};
static_assert(sizeof(Kernel) == sizeof(kernel_members), "a new Kernel member: add it to KernelState");
static_assert(sizeof(KernelStats) == 4 * sizeof(std::atomic<uint64_t>), "a new counter: add it to KernelState");
}  // namespace

void Kernel::save_state(KernelState& s) const {
  Guard g(alloc_lock_, *platform_);
  s.tasks.resize(tasks_.size());
  for (size_t i = 0; i < tasks_.size(); ++i) task_save(tasks_[i], s.tasks[i]);
  s.vmas.resize(vmas_.size());
  for (size_t i = 0; i < vmas_.size(); ++i) vma_save(vmas_[i], s.vmas[i]);
  s.mms.resize(mms_.size());
  for (size_t i = 0; i < mms_.size(); ++i) mm_save(mms_[i], s.mms[i]);
  s.maple_nodes.resize(maple_nodes_.size());
  for (size_t i = 0; i < maple_nodes_.size(); ++i) maple_node_save(maple_nodes_[i], s.maple_nodes[i]);
  s.vma_free_list = vma_free_list_;
  s.rcu_pending = rcu_pending_;
  s.rcu_pending_count = rcu_pending_count_.load(std::memory_order_relaxed);
  s.vma_lock_success = stats_.vma_lock_success.load(std::memory_order_relaxed);
  s.vma_lock_abort = stats_.vma_lock_abort.load(std::memory_order_relaxed);
  s.vma_lock_miss = stats_.vma_lock_miss.load(std::memory_order_relaxed);
  s.reports = stats_.reports.load(std::memory_order_relaxed);
}

void Kernel::restore_state(const KernelState& s) {
  if (g_running_kernel == this) harness_bug("Kernel::restore_state while it runs");
  if (tasks_.size() < s.tasks.size() || vmas_.size() < s.vmas.size() || mms_.size() < s.mms.size() ||
      maple_nodes_.size() < s.maple_nodes.size()) {
    harness_bug("Kernel::restore_state: the saved objects are gone");
  }
  injected_ = BugSet{};
  lock_version_ = LockVersion{};
  version_only_ = nullptr;
  stats_.vma_lock_success = s.vma_lock_success;
  stats_.vma_lock_abort = s.vma_lock_abort;
  stats_.vma_lock_miss = s.vma_lock_miss;
  stats_.reports = s.reports;
  // Not assign(): for the empty vectors a setup leaves, a call and 40
  // instructions each.
  rcu_pending_.clear();
  for (rcu_head* h : s.rcu_pending) rcu_pending_.push_back(h);
  rcu_pending_count_ = s.rcu_pending_count;
  vma_free_list_.clear();
  for (vm_area_struct* v : s.vma_free_list) vma_free_list_.push_back(v);
  // As reset(): the objects allocated since the save are destroyed together.
  maple_nodes_.truncate(s.maple_nodes.size());
  vmas_.truncate(s.vmas.size());
  mms_.truncate(s.mms.size());
  tasks_.truncate(s.tasks.size());
  for (size_t i = 0; i < s.tasks.size(); ++i) task_restore(tasks_[i], s.tasks[i]);
  for (size_t i = 0; i < s.vmas.size(); ++i) vma_restore(vmas_[i], s.vmas[i]);
  for (size_t i = 0; i < s.mms.size(); ++i) mm_restore(mms_[i], s.mms[i]);
  for (size_t i = 0; i < s.maple_nodes.size(); ++i) maple_node_restore(maple_nodes_[i], s.maple_nodes[i]);
}

void Kernel::set_lock_version(LockVersion v, Platform* version_only) {
  lock_version_ = v;
  version_only_ = version_only;
  if (g_running_kernel == this) install_lock_version(v, version_only);
}

void Kernel::report(const CoreReport& r) {
  stats_.reports.fetch_add(1, std::memory_order_relaxed);
  if (sink_) {
    sink_->on_report(r);
    return;
  }
  const ReportSiteInfo& info = report_site_info(r.site);
  std::fprintf(stderr, "vmafuzz core: %.*s %.*s: %.*s (pid %d, object %p)\n",
               static_cast<int>(report_class_name(info.report_class).size()), report_class_name(info.report_class).data(),
               static_cast<int>(info.name.size()), info.name.data(), static_cast<int>(info.message.size()),
               info.message.data(), r.pid, r.object);
}

task_struct* Kernel::task_create(std::string_view comm) {
  Guard g(alloc_lock_, *platform_);
  if (tasks_.size() >= 64) harness_bug("more than 64 tasks (RCU bookkeeping uses a 64-bit mask)");
  return &tasks_.emplace_back(static_cast<int>(tasks_.size()), comm);
}

int Kernel::task_count() const {
  Guard g(alloc_lock_, *platform_);
  return static_cast<int>(tasks_.size());
}

task_struct* Kernel::task(int pid) {
  Guard g(alloc_lock_, *platform_);
  return &tasks_.at(static_cast<size_t>(pid));
}

vm_area_struct* Kernel::vm_area_cache_alloc() {
  Guard g(alloc_lock_, *platform_);
  vm_area_struct* vma;
  if (!vma_free_list_.empty()) {
    vma = vma_free_list_.back();
    vma_free_list_.pop_back();
  } else {
    vma = &vmas_.emplace_back();
    vma->obj_id = static_cast<int>(vmas_.size()) - 1;
  }
  vma->cache_free.store(false, std::memory_order_relaxed);
  ++vma->generation;
  platform().plain_access(vma, PlainField::kVmStart, PlainOp::kAlloc);
  return vma;
}

void Kernel::vm_area_cache_free(vm_area_struct* vma) {
  {
    Guard g(alloc_lock_, *platform_);
    if (!vma->cache_free.exchange(true, std::memory_order_relaxed)) {
      vma_free_list_.push_back(vma);
      return;
    }
  }
  core_report(ReportSite::vm_area_double_free, vma);
}

int Kernel::vm_area_cache_size() const {
  Guard g(alloc_lock_, *platform_);
  return static_cast<int>(vmas_.size());
}

vm_area_struct* Kernel::vm_area_cache_object(int obj_id) {
  Guard g(alloc_lock_, *platform_);
  return &vmas_.at(static_cast<size_t>(obj_id));
}

mm_struct* Kernel::mm_cache_alloc() {
  Guard g(alloc_lock_, *platform_);
  mm_struct* mm = &mms_.emplace_back();
  mm->id = static_cast<int>(mms_.size()) - 1;
  return mm;
}

int Kernel::mm_count() const {
  Guard g(alloc_lock_, *platform_);
  return static_cast<int>(mms_.size());
}

mm_struct* Kernel::mm(int id) {
  Guard g(alloc_lock_, *platform_);
  return &mms_.at(static_cast<size_t>(id));
}

maple_node* Kernel::maple_node_alloc() {
  Guard g(alloc_lock_, *platform_);
  return &maple_nodes_.emplace_back();
}

void Kernel::rcu_retire(rcu_head* head) {
  uint64_t readers = 0;
  {
    Guard g(alloc_lock_, *platform_);
    for (size_t i = 0; i < tasks_.size(); ++i) {
      const task_struct& t = tasks_[i];
      if (t.rcu_read_lock_nesting.load(std::memory_order_relaxed) > 0) readers |= uint64_t{1} << t.pid;
    }
  }
  Guard g(rcu_lock_, *platform_);
  head->retired = true;
  head->readers_left_to_quiesce = readers;
  if (!readers) {
    head->freed = true;
    return;
  }
  rcu_pending_.push_back(head);
  rcu_pending_count_.fetch_add(1, std::memory_order_relaxed);
}

bool Kernel::rcu_is_freed(const rcu_head* head) {
  Guard g(rcu_lock_, *platform_);
  return head->freed;
}

void Kernel::rcu_quiescent_state(task_struct* t) {
  if (rcu_pending_count_.load(std::memory_order_relaxed) == 0) return;
  Guard g(rcu_lock_, *platform_);
  const uint64_t bit = uint64_t{1} << t->pid;
  auto done = [bit](rcu_head* h) {
    h->readers_left_to_quiesce &= ~bit;
    if (h->readers_left_to_quiesce) return false;
    h->freed = true;
    return true;
  };
  auto end = std::remove_if(rcu_pending_.begin(), rcu_pending_.end(), done);
  rcu_pending_count_.fetch_sub(static_cast<int>(rcu_pending_.end() - end), std::memory_order_relaxed);
  rcu_pending_.erase(end, rcu_pending_.end());
}

}  // namespace vmafuzz::core
