// errno.h - the kernel error codes and ERR_PTR helpers the model uses
// (include/uapi/asm-generic/errno-base.h, include/linux/err.h).
//
// EINTR and EAGAIN are the C library's macros; on Linux they have the kernel's
// values, which the static_asserts pin.
#pragma once

#include <cerrno>
#include <cstdint>

static_assert(EINTR == 4 && EAGAIN == 11, "kernel errno values");

namespace vmafuzz::core {

inline constexpr int MAX_ERRNO = 4095;

template <class T>
T* ERR_PTR(long error) {
  return reinterpret_cast<T*>(static_cast<intptr_t>(error));
}
template <class T>
bool IS_ERR(const T* ptr) {
  return reinterpret_cast<uintptr_t>(ptr) >= static_cast<uintptr_t>(-MAX_ERRNO);
}
template <class T>
bool IS_ERR_OR_NULL(const T* ptr) {
  return ptr == nullptr || IS_ERR(ptr);
}
template <class T>
long PTR_ERR(const T* ptr) {
  return static_cast<long>(reinterpret_cast<intptr_t>(ptr));
}

}  // namespace vmafuzz::core
