// rotina::task<T>: the coroutine type of goroutine bodies and their helpers.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "rotina/detail/gcc12_check.hpp"

namespace rotina {

template <class T = void>
class task;

namespace detail {

/// Throws panic_error with `what` (a misused task; defined in task.cpp).
[[noreturn]] void task_misuse(const char* what);

/// What a finished task hands back to the task that awaited it.
class task_promise_base {
public:
  struct final_awaiter {
    bool await_ready() const noexcept {
      return false;
    }

    template <class Promise>
    std::coroutine_handle<>
    await_suspend(std::coroutine_handle<Promise> h) const noexcept {
      // Symmetric transfer: resume whoever awaited us, or return to the
      // goroutine's actor if this was the body itself.
      if (auto next = h.promise().continuation_)
        return next;
      return std::noop_coroutine();
    }

    void await_resume() const noexcept {
      // nop
    }
  };

  std::suspend_always initial_suspend() const noexcept {
    return {};
  }

  final_awaiter final_suspend() const noexcept {
    return {};
  }

  void unhandled_exception() noexcept {
    exception_ = std::current_exception();
  }

  void set_continuation(std::coroutine_handle<> h) noexcept {
    continuation_ = h;
  }

  void rethrow_if_failed() {
    if (exception_)
      std::rethrow_exception(std::exchange(exception_, nullptr));
  }

  std::exception_ptr exception() const noexcept {
    return exception_;
  }

  /// Marks the task as awaited; false if it was awaited before.
  bool mark_awaited() noexcept {
    return !std::exchange(awaited_, true);
  }

protected:
  std::coroutine_handle<> continuation_;
  std::exception_ptr exception_;
  bool awaited_ = false;
};

template <class T>
class task_promise : public task_promise_base {
public:
  task<T> get_return_object() noexcept;

  template <class U>
  void return_value(U&& value) {
    value_.template emplace<1>(std::forward<U>(value));
  }

  T take() {
    rethrow_if_failed();
    return std::move(std::get<1>(value_));
  }

private:
  std::variant<std::monostate, T> value_;
};

template <>
class task_promise<void> : public task_promise_base {
public:
  task<void> get_return_object() noexcept;

  void return_void() noexcept {
    // nop
  }

  void take() {
    rethrow_if_failed();
  }
};

} // namespace detail

/// A lazily started coroutine returning `T`. A goroutine body is a callable
/// returning `task<>`; inside it, `co_await helper()` runs another task to
/// completion on the same goroutine, like calling a function in Go, and
/// rethrows what the helper threw.
///
/// A task runs only when awaited (or when `go` starts it) and is destroyed with
/// its handle. It is move-only.
template <class T>
class [[nodiscard]] task {
public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  // -- constructors, destructors, and assignment operators --------------------

  task() noexcept = default;

  explicit task(handle_type h) noexcept : h_(h) {
    // nop
  }

  task(task&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {
    // nop
  }

  task& operator=(task&& other) noexcept {
    if (this != &other) {
      if (h_)
        h_.destroy();
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }

  task(const task&) = delete;
  task& operator=(const task&) = delete;

  ~task() {
    if (h_)
      h_.destroy();
  }

  // -- properties -------------------------------------------------------------

  bool valid() const noexcept {
    return static_cast<bool>(h_);
  }

  bool done() const noexcept {
    return h_ && h_.done();
  }

  handle_type handle() const noexcept {
    return h_;
  }

  // -- awaiting ---------------------------------------------------------------

  /// Awaiter for `co_await some_task()`. Holds only a handle, so it is
  /// trivially destructible (safe as a temporary on g++ 12).
  class [[nodiscard]] awaiter {
  public:
    explicit awaiter(handle_type h) noexcept : h_(h) {
      // nop
    }

    bool await_ready() const noexcept {
      return false;
    }

    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
      h_.promise().set_continuation(caller);
      return h_;
    }

    T await_resume() {
      return h_.promise().take();
    }

  private:
    handle_type h_;
  };

  /// `co_await t` runs `t` to completion on this goroutine. A task runs
  /// once: awaiting an empty task (default-constructed or moved from) or one
  /// that was awaited before throws panic_error (a null or finished coroutine
  /// cannot be resumed).
  awaiter operator co_await() const& {
    if (!h_)
      detail::task_misuse("rotina: co_await on an empty task (default "
                          "constructed or moved from)");
    if (!h_.promise().mark_awaited())
      detail::task_misuse("rotina: co_await on a task that was already "
                          "awaited (a task runs once)");
    return awaiter{h_};
  }

private:
  handle_type h_;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}

inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>{
    std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}

template <class T>
struct is_task : std::false_type {};

template <class T>
struct is_task<task<T>> : std::true_type {};

} // namespace detail

} // namespace rotina
