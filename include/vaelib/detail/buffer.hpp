#pragma once
// A growable, 64-byte aligned, uninitialised array. Tape nodes keep one for their value and
// one for their gradient; `ensure` only allocates when a step needs more room than any step
// before it, which is what makes steady-state training steps allocation-free.

#include <cstddef>
#include <new>
#include <utility>

namespace vaelib::detail {

inline constexpr std::size_t buffer_alignment = 64;  // one cache line, one AVX-512 register

template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept
      : m_data(std::exchange(other.m_data, nullptr)), m_capacity(std::exchange(other.m_capacity, 0)) {}
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      release();
      m_data = std::exchange(other.m_data, nullptr);
      m_capacity = std::exchange(other.m_capacity, 0);
    }
    return *this;
  }
  ~Buffer() { release(); }

  /// Room for at least `n` elements; contents are unspecified after a reallocation.
  T* ensure(std::size_t n) {
    if (n > m_capacity || m_data == nullptr) {
      release();
      const std::size_t count = n == 0 ? 1 : n;
      m_data = static_cast<T*>(::operator new(count * sizeof(T), std::align_val_t{buffer_alignment}));
      m_capacity = count;
    }
    return m_data;
  }

  T* data() const noexcept { return m_data; }
  std::size_t capacity() const noexcept { return m_capacity; }

 private:
  void release() noexcept {
    if (m_data != nullptr) ::operator delete(m_data, std::align_val_t{buffer_alignment});
    m_data = nullptr;
    m_capacity = 0;
  }

  T* m_data = nullptr;
  std::size_t m_capacity = 0;
};

}  // namespace vaelib::detail
