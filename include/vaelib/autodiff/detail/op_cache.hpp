#pragma once
// OpCache: room in a tape record for one object of the recording op's own type (a workspace
// more structured than the record's `scratch` buffer: linear() keeps its input's nonzeros
// there). Made on the op's first use of the record and kept across clear(), like the record's
// buffers, so a steady-state step finds it in place and allocates nothing. A record reused by
// an op with another type replaces it. Ops reach it through vaelib::op_cache (tape.hpp).

#include <type_traits>

namespace vaelib::detail {

class OpCache {
 public:
  OpCache() = default;
  OpCache(const OpCache&) = delete;
  OpCache& operator=(const OpCache&) = delete;
  ~OpCache() { reset(); }

  /// The cached U, value-initialised on first use (destroying an object of another type the
  /// cache held).
  template <class U>
  U& get() {
    static_assert(std::is_same_v<U, std::remove_cvref_t<U>>, "OpCache holds plain object types");
    if (m_type != tag<U>()) {
      reset();
      m_object = new U();
      m_destroy = [](void* p) noexcept { delete static_cast<U*>(p); };
      m_type = tag<U>();
    }
    return *static_cast<U*>(m_object);
  }

  /// The cached U, or nullptr if the cache holds nothing or an object of another type.
  template <class U>
  U* find() noexcept {
    return m_type == tag<U>() ? static_cast<U*>(m_object) : nullptr;
  }
  template <class U>
  const U* find() const noexcept {
    return m_type == tag<U>() ? static_cast<const U*>(m_object) : nullptr;
  }

  bool empty() const noexcept { return m_object == nullptr; }

  /// Destroys the cached object, if any.
  void reset() noexcept {
    if (m_object != nullptr) m_destroy(m_object);
    m_object = nullptr;
    m_destroy = nullptr;
    m_type = nullptr;
  }

 private:
  template <class U>
  struct Tag {
    static constexpr char id = 0;  // one address per type, the same in every translation unit
  };
  template <class U>
  static const void* tag() noexcept {
    return &Tag<U>::id;
  }

  void* m_object = nullptr;
  void (*m_destroy)(void*) noexcept = nullptr;
  const void* m_type = nullptr;
};

}  // namespace vaelib::detail
