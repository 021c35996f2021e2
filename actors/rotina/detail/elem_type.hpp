// rotina::detail::elem_type: what the untyped channel core needs to know of a
// channel's element type (Go's hchan.elemtype): size, alignment, and how to
// move-construct and destroy one value.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace rotina::detail {

/// Go's limit on a channel's element size ("channel element type too large
/// (>64kB)", cmd/compile). rotina applies it too: values pass through the
/// stacks of worker threads in try_recv and the *_blocking calls.
inline constexpr size_t max_elem_size = size_t{1} << 16;

/// The element-type table of a channel, one per T, compiled into the caller.
struct elem_type {
  /// sizeof(T) and alignof(T).
  size_t size;
  size_t align;
  /// True if T is trivially copyable: the core copies bytes and never calls
  /// `move` or `destroy`.
  bool trivial;
  /// Move-constructs a T at `dst` from the T at `src` (which stays alive, moved
  /// from). Never throws: element types are nothrow move constructible.
  void (*move)(void* dst, void* src) noexcept;
  /// Destroys the T at `p`.
  void (*destroy)(void* p) noexcept;
};

template <class T>
void elem_move(void* dst, void* src) noexcept {
  new (dst) T(std::move(*static_cast<T*>(src)));
}

template <class T>
void elem_destroy(void* p) noexcept {
  static_cast<T*>(p)->~T();
}

/// The table of T. Checks at compile time what Go checks when it compiles a
/// channel type, plus what the untyped core relies on.
template <class T>
constexpr elem_type make_elem_type() noexcept {
  static_assert(!std::is_reference_v<T>, "a channel carries values");
  static_assert(std::is_move_constructible_v<T>,
                "a channel's element type must be move constructible");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "a channel's element type must be nothrow move constructible "
                "(a move that throws while a receiver is parked would lose "
                "the receiver); mark the move constructor noexcept");
  static_assert(std::is_nothrow_destructible_v<T>,
                "a channel's element type must be nothrow destructible");
  static_assert(sizeof(T) <= max_elem_size,
                "channel element type too large (>64kB): pass a "
                "std::unique_ptr or std::shared_ptr to it instead (Go's limit "
                "too)");
  return elem_type{sizeof(T), alignof(T), std::is_trivially_copyable_v<T>,
                   &elem_move<T>, &elem_destroy<T>};
}

template <class T>
inline constexpr elem_type elem_type_of = make_elem_type<T>();

} // namespace rotina::detail
