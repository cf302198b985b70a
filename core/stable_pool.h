// stable_pool.h - the Kernel's object pools: stable addresses, storage kept across runs.
//
// Like std::deque's emplace_back/at/size (objects never move), but clear()
// only destroys the objects and keeps their storage, so a Kernel reset for
// the next run (Kernel::reset) allocates nothing once the pools have grown.
// std::deque frees its blocks on clear(), and a maple_node fills a block of
// its own: one malloc per node per run.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "core/report.h"

namespace vmafuzz::core {

template <class T, size_t kChunk = 16>
class StablePool {
 public:
  StablePool() = default;
  ~StablePool() { clear(); }
  StablePool(const StablePool&) = delete;
  StablePool& operator=(const StablePool&) = delete;

  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == chunks_.size() * kChunk) [[unlikely]] grow();
    T* p = std::construct_at(slot(size_), std::forward<Args>(args)...);
    ++size_;
    return *p;
  }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return *slot(i); }
  const T& operator[](size_t i) const { return *slot(i); }
  T& at(size_t i) {
    if (i >= size_) harness_bug("StablePool: index out of range");
    return *slot(i);
  }
  // Destroys every object (newest first; nothing depends on the order) and
  // keeps the storage.
  void clear() { truncate(0); }
  // Destroys the objects from index n on (newest first); the first n stay.
  void truncate(size_t n) {
    while (size_ > n) std::destroy_at(slot(--size_));
  }

 private:
  struct Chunk {
    alignas(T) std::byte bytes[sizeof(T) * kChunk];
  };
  // Out of line: inlined, the allocation made emplace_back() save and restore
  // registers on every call (about 30 instructions), growing or not.
  [[gnu::noinline]] void grow() { chunks_.push_back(std::make_unique<Chunk>()); }
  T* slot(size_t i) const {
    return std::launder(reinterpret_cast<T*>(chunks_[i / kChunk]->bytes + sizeof(T) * (i % kChunk)));
  }

  std::vector<std::unique_ptr<Chunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace vmafuzz::core
