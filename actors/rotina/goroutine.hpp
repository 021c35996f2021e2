// rotina::go: Go's `go` statement. Every goroutine is a CAF actor that runs a
// C++20 coroutine body.
#pragma once

#include <chrono>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <caf/fwd.hpp>

#include "rotina/error.hpp"
#include "rotina/task.hpp"

namespace rotina {

class runtime;

namespace detail {

class goroutine_env;

/// Type-erased body of a goroutine or of an errgroup task: the callable and its
/// arguments, kept alive until the body finishes (a lambda coroutine reads its
/// captures through the closure).
class body_base {
public:
  virtual ~body_base() = default;

  /// Starts the body. A coroutine body is created (with `cont`, if not null,
  /// as the coroutine to resume when it finishes) and its handle returned for
  /// the caller to resume. A plain callable runs to completion here, as does
  /// a coroutine function that throws before its first suspension; then null
  /// is returned and outcome() tells how it ended.
  virtual std::coroutine_handle<> start(std::coroutine_handle<> cont
                                        = nullptr) noexcept = 0;

  /// The body's outcome once it finished: empty on success, the returned error
  /// (for bodies returning `rotina::error`), or the escaped exception as an
  /// `errc::panic` error.
  virtual error outcome() noexcept = 0;

  /// Destroys a suspended coroutine body early (its goroutine was killed).
  virtual void abandon() noexcept = 0;
};

/// Converts an escaped exception into an error (panic_error keeps its code).
error error_from_exception(std::exception_ptr ex) noexcept;

/// Aligned to a cache line: a goroutine's body sits next to other
/// goroutines' allocations (its coroutine frame, their bodies), and the
/// smallest bodies (48 bytes) otherwise shared lines with frames written on
/// the other worker (the sieve row got 20% slower, docs/benchmarks.md).
template <class F, class... Args>
class alignas(64) body final : public body_base {
public:
  using result_type = std::invoke_result_t<F&, Args&...>;

  static constexpr bool is_coroutine = is_task<result_type>::value;

  static_assert(
    std::is_same_v<
      result_type,
      void> || std::is_same_v<result_type, error> || std::is_same_v<result_type, task<>> || std::is_same_v<result_type, task<error>>,
    "a goroutine or errgroup body must return void, rotina::error, "
    "rotina::task<> or rotina::task<rotina::error>");

  template <class G, class... Xs>
  explicit body(G&& f, Xs&&... xs)
    : f_(std::forward<G>(f)), args_(std::forward<Xs>(xs)...) {
    // nop
  }

  std::coroutine_handle<>
  start(std::coroutine_handle<> cont) noexcept override {
    try {
      if constexpr (is_coroutine) {
        task_ = std::apply(f_, args_);
        if (cont)
          task_.handle().promise().set_continuation(cont);
        return task_.handle();
      } else if constexpr (std::is_same_v<result_type, error>) {
        set_result(std::apply(f_, args_));
      } else {
        std::apply(f_, args_);
      }
    } catch (...) {
      set_result(error_from_exception(std::current_exception()));
    }
    return nullptr;
  }

  error outcome() noexcept override {
    if constexpr (is_coroutine) {
      if (!task_.valid())
        return result(); // threw before its first suspension
      auto& promise = task_.handle().promise();
      if (auto ex = promise.exception())
        return error_from_exception(ex);
      if constexpr (std::is_same_v<result_type, task<error>>) {
        try {
          return promise.take();
        } catch (...) {
          return error_from_exception(std::current_exception());
        }
      }
      return {};
    } else {
      return result();
    }
  }

  void abandon() noexcept override {
    if constexpr (is_coroutine)
      task_ = result_type{};
  }

private:
  F f_;
  std::tuple<Args...> args_;
  /// The running body, for coroutine bodies.
  std::conditional_t<is_coroutine, result_type, std::monostate> task_;
  void set_result(error err) {
    if (err)
      result_ = std::make_unique<error>(std::move(err));
  }

  error result() const {
    return result_ != nullptr ? *result_ : error{};
  }

  /// The outcome of a plain callable, or of a coroutine function that threw
  /// before it suspended; null while empty (an error is ~128 bytes, and every
  /// queued or parked goroutine holds its body).
  std::unique_ptr<error> result_;
};

/// Options for spawning one goroutine.
struct go_options {
  /// Shown in error reports; defaults to "goroutine-<actor id>".
  std::string name;
  /// Give the goroutine its own thread (a detached actor) because its body
  /// blocks the OS thread (file I/O, a C library).
  bool blocking = false;
  /// Where go() was called (static storage), or null if unknown; shown in
  /// the report of a shutdown that timed out.
  const char* file = nullptr;
  unsigned line = 0;
};

/// Called once when a goroutine ends, on the goroutine's actor, with its
/// outcome (empty error on success). Used by supervisors.
using exit_hook = std::function<void(const error&)>;

/// Spawns a goroutine running `b` and returns its actor. From inside a
/// goroutine the child is spawned from the parent's actor, so it starts on the
/// parent's worker. From a plain thread, throws panic_error (errc::misuse)
/// once `rt` started to cancel work in shutdown().
caf::actor spawn_goroutine(runtime* rt, std::unique_ptr<body_base> b,
                           go_options opts, exit_hook on_exit = nullptr);

/// Starts a goroutine running `b` without returning its actor (go,
/// go_named). Inside a goroutine of `rt` on a scheduler worker it queues a
/// small pending record on that worker, and the goroutine gets its actor when
/// a worker runs it (Go's g on a run queue, goroutine.cpp); elsewhere it is
/// spawn_goroutine.
void start_goroutine(runtime* rt, std::unique_ptr<body_base> b,
                     go_options opts);

/// The runtime of the goroutine running on this thread, or null.
runtime* current_runtime() noexcept;

/// Throws panic_error (errc::misuse) naming `what` if called outside a
/// goroutine.
runtime& require_current_runtime(const char* what);

template <class F, class... Args>
std::unique_ptr<body_base> make_body(F&& f, Args&&... args) {
  using impl = body<std::decay_t<F>, std::decay_t<Args>...>;
  return std::make_unique<impl>(std::forward<F>(f),
                                std::forward<Args>(args)...);
}

size_t num_goroutine_impl(runtime& rt) noexcept;

/// `d` in nanoseconds, saturated at nanoseconds::max() / min() instead of
/// overflowing (1000 years is longer than Go's longest Duration, 292 years:
/// it means "for ever").
template <class Rep, class Period>
constexpr std::chrono::nanoseconds
saturate_ns(std::chrono::duration<Rep, Period> d) noexcept {
  using ns = std::chrono::nanoseconds;
  if constexpr (std::ratio_less_equal_v<Period, std::nano>) {
    return std::chrono::duration_cast<ns>(d);
  } else {
    constexpr auto limit
      = std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(
        ns::max());
    if (d >= limit)
      return ns::max();
    if (d <= -limit)
      return ns::min();
    return std::chrono::duration_cast<ns>(d);
  }
}

} // namespace detail

/// The runtime argument of go(): converts implicitly from `runtime&` and
/// records where go() was called (like Go's goroutine "created by" line in
/// a traceback).
class spawn_target {
public:
  spawn_target(runtime& rt, const char* file = __builtin_FILE(),
               unsigned line = __builtin_LINE()) noexcept
    : rt_(&rt), file_(file), line_(line) {
    // nop
  }

  runtime& rt() const noexcept {
    return *rt_;
  }

  detail::go_options options() const {
    detail::go_options opts;
    opts.file = file_;
    opts.line = line_;
    return opts;
  }

private:
  runtime* rt_;
  const char* file_;
  unsigned line_;
};

/// num_goroutine is Go's runtime.NumGoroutine: the number of goroutines of
/// `rt` that started and have not finished yet.
inline size_t num_goroutine(runtime& rt) noexcept {
  return detail::num_goroutine_impl(rt);
}

/// go starts `f(args...)` as a new goroutine, like Go's `go f(args...)`: the
/// callable and the arguments are copied (or moved) now, the body runs later on
/// its own actor, and `go` never blocks. `f` may be a coroutine returning
/// `task<>` (it can then `co_await` channel operations) or a plain callable,
/// which runs to completion on its actor.
///
/// The goroutine lives until its body returns or throws, whether or not
/// anything references it. An exception escaping the body ends that goroutine
/// only: it is reported to its supervisor (wait_group, errgroup) or, without
/// one, printed to stderr with the goroutine's name.
///
/// Called from a plain thread once rt.shutdown() started to cancel work, it
/// throws panic_error (errc::misuse: "the runtime is shutting down").
template <class F, class... Args>
void go(spawn_target rt, F&& f, Args&&... args) {
  detail::start_goroutine(
    &rt.rt(),
    detail::make_body(std::forward<F>(f), std::forward<Args>(args)...),
    rt.options());
}

/// go from inside a goroutine: starts the new goroutine in the caller's
/// runtime. Throws panic_error (errc::misuse) outside a goroutine.
template <class F, class... Args>
requires(!std::is_same_v<std::remove_cvref_t<F>, runtime>) void go(
  F&& f, Args&&... args) {
  auto& rt = detail::require_current_runtime("rotina::go without a runtime");
  go(rt, std::forward<F>(f), std::forward<Args>(args)...);
}

/// go_blocking is `go` for a body that blocks its OS thread (file I/O, a C
/// library, a sleep without co_await): the goroutine gets a detached actor
/// with its own thread, so it never stalls the scheduler's workers.
/// Deviation from Go: Go's scheduler notices blocking system calls by itself.
template <class F, class... Args>
void go_blocking(spawn_target rt, F&& f, Args&&... args) {
  auto opts = rt.options();
  opts.blocking = true;
  detail::spawn_goroutine(
    &rt.rt(),
    detail::make_body(std::forward<F>(f), std::forward<Args>(args)...),
    std::move(opts));
}

/// go_named is `go` with a name for error reports and logs.
template <class F, class... Args>
void go_named(spawn_target rt, std::string name, F&& f, Args&&... args) {
  auto opts = rt.options();
  opts.name = std::move(name);
  detail::start_goroutine(
    &rt.rt(),
    detail::make_body(std::forward<F>(f), std::forward<Args>(args)...),
    std::move(opts));
}

/// The awaitable of `yield()` and `sleep()`. Holds only trivially destructible
/// members (safe as a temporary on g++ 12).
class [[nodiscard]] pause_awaiter {
public:
  explicit pause_awaiter(std::chrono::nanoseconds delay) noexcept
    : delay_(delay) {
    // nop
  }

  bool await_ready() const noexcept {
    return false;
  }

  void await_suspend(std::coroutine_handle<> h);

  void await_resume() const noexcept {
    // nop
  }

private:
  std::chrono::nanoseconds delay_;
};

/// yield lets other goroutines and actors run, like Go's runtime.Gosched: the
/// goroutine goes to the back of its worker's run queue and resumes when the
/// worker reaches it (no message, no clock).
inline pause_awaiter yield() noexcept {
  return pause_awaiter{std::chrono::nanoseconds{-1}};
}

/// sleep pauses the current goroutine for at least `d`, like Go's time.Sleep,
/// on the runtime's timer service. A zero or negative duration returns at once
/// (after a yield); a duration too long for the clock (nanoseconds::max(),
/// 1000 years) sleeps for ever instead of overflowing. Does not block the
/// worker thread.
template <class Rep, class Period>
pause_awaiter sleep(std::chrono::duration<Rep, Period> d) noexcept {
  return pause_awaiter{detail::saturate_ns(d)};
}

} // namespace rotina
