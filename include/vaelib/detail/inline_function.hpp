#pragma once
// A callable stored inside its owner, never on the heap. Backward closures live in tape
// nodes; std::function would allocate for most of them on every step. The closure must be
// trivially copyable (it captures handles and scalars, never arrays), so the wrapper is too.

#include <cstddef>
#include <new>
#include <type_traits>

namespace vaelib::detail {

template <class Signature, std::size_t Capacity>
class InlineFunction;

template <class R, class... Args, std::size_t Capacity>
class InlineFunction<R(Args...), Capacity> {
 public:
  InlineFunction() = default;

  template <class F>
  void assign(const F& f) {
    static_assert(std::is_trivially_copyable_v<F>,
                  "a backward closure must capture only handles and scalars (trivially copyable)");
    static_assert(sizeof(F) <= Capacity, "backward closure too large: capture fewer values");
    static_assert(alignof(F) <= alignof(std::max_align_t), "backward closure over-aligned");
    ::new (static_cast<void*>(m_storage)) F(f);
    m_invoke = [](const std::byte* storage, Args... args) -> R {
      return (*std::launder(reinterpret_cast<const F*>(storage)))(static_cast<Args>(args)...);
    };
  }

  void reset() noexcept { m_invoke = nullptr; }
  explicit operator bool() const noexcept { return m_invoke != nullptr; }
  R operator()(Args... args) const { return m_invoke(m_storage, static_cast<Args>(args)...); }

 private:
  alignas(std::max_align_t) std::byte m_storage[Capacity];
  R (*m_invoke)(const std::byte*, Args...) = nullptr;
};

}  // namespace vaelib::detail
