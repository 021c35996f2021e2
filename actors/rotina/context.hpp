// rotina::context: Go's package context. A tree of contexts in which
// cancellation flows from parents to children; done() is a channel that is
// closed on cancellation, so it works in select like Go's ctx.Done().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "rotina/chan.hpp"
#include "rotina/error.hpp"
#include "rotina/select.hpp"
#include "rotina/task.hpp"
#include "rotina/time.hpp"

namespace rotina {

class runtime;

/// The element type of a done channel: Go's `struct{}`.
struct unit {};

namespace detail {

class context_node;

using context_ptr = std::shared_ptr<context_node>;

} // namespace detail

/// context_key<V> is a key for context values, Go's unexported key type idiom:
/// a key is identified by its address (declare it once, e.g. as an `inline`
/// variable) and carries the type of its value, so lookups are type-safe.
template <class V>
class context_key {
public:
  explicit constexpr context_key(const char* name) noexcept : name_(name) {
    // nop
  }

  context_key(const context_key&) = delete;
  context_key& operator=(const context_key&) = delete;

  const char* name() const noexcept {
    return name_;
  }

private:
  const char* name_;
};

/// context is Go's context.Context: carries a cancellation signal, a deadline
/// and values across goroutines. A context is an immutable handle; copies
/// refer to the same context. A default-constructed context is nil, Go's
/// `var ctx context.Context`: deriving from it panics as Go's With* do
/// ("cannot create context from nil parent") and so do its accessors (Go
/// dereferences nil); start a tree with background() or todo(). All member
/// functions are safe to call from any goroutine or thread.
class context {
public:
  // -- constructors, destructors, and assignment operators --------------------

  /// The nil context: Go's zero value of the context.Context interface.
  context() noexcept = default;

  explicit context(detail::context_ptr node) noexcept : node_(std::move(node)) {
    // nop
  }

  // -- properties -------------------------------------------------------------

  /// done is Go's ctx.Done(): a channel that is closed when the context is
  /// canceled (or its deadline passes); it never carries a value. Use it as
  /// `recv_case(ctx.done())` in a select, or `co_await ctx.done().recv()` to
  /// wait. For a context that can never be canceled (background, or only
  /// values above it) it is the nil channel, which is never ready. Throws
  /// panic_error on a nil context (as do err, deadline, value and cause).
  recv_chan<unit> done() const;

  /// err is Go's ctx.Err(): empty while the context is live, then
  /// errc::canceled ("context canceled") or errc::deadline_exceeded
  /// ("context deadline exceeded") forever. Go's rule holds: "If Done is not
  /// yet closed, Err returns nil" (both change in one critical section).
  error err() const;

  /// deadline is Go's ctx.Deadline(): the time at which the context will be
  /// canceled with deadline_exceeded, or nullopt if there is none (the
  /// earliest of its own and its ancestors' deadlines).
  std::optional<clock::time_point> deadline() const;

  /// value is Go's ctx.Value(key): the value stored under `key` by the
  /// nearest with_value on the path to the root, or null.
  template <class V>
  const V* value(const context_key<V>& key) const {
    return static_cast<const V*>(value_impl(&key));
  }

  /// The runtime this context's timers and after_func goroutines use (set by
  /// background(rt) or taken from the goroutine that derived a context), or
  /// null.
  runtime* rt() const noexcept;

  const detail::context_ptr& node() const noexcept {
    return node_;
  }

  /// Whether this is the nil context (default-constructed).
  bool nil() const noexcept {
    return node_ == nullptr;
  }

  /// to_string is Go's String() of a context, for diagnostics: the chain of
  /// constructors from the root, e.g. "context.Background.WithCancel",
  /// "context.TODO.WithValue(user, alice)",
  /// "context.Background.WithDeadline(m=+3.25s [1.999s])" (the deadline on
  /// rotina::clock, seconds since its epoch, and the time left). "<nil>" for
  /// the nil context. Deviation from Go: Go prints a wall-clock deadline;
  /// rotina's deadlines live on the monotonic clock only.
  std::string to_string() const;

  /// Contexts compare equal if they are the same context.
  friend bool operator==(const context& x, const context& y) noexcept {
    return x.node_ == y.node_;
  }

private:
  const void* value_impl(const void* key) const;

  detail::context_ptr node_;
};

/// The function that cancels a context: Go's context.CancelFunc. Calling it
/// more than once, or after the context was canceled otherwise, does nothing.
/// Copies cancel the same context.
class cancel_func {
public:
  cancel_func() noexcept = default;

  explicit cancel_func(std::weak_ptr<detail::context_node> node) noexcept
    : node_(std::move(node)) {
    // nop
  }

  void operator()() const;

private:
  std::weak_ptr<detail::context_node> node_;
};

/// Go's context.CancelCauseFunc: cancels with errc::canceled and records
/// `cause` (an empty cause records errc::canceled).
class cancel_cause_func {
public:
  cancel_cause_func() noexcept = default;

  explicit cancel_cause_func(std::weak_ptr<detail::context_node> node) noexcept
    : node_(std::move(node)) {
    // nop
  }

  void operator()(error cause) const;

private:
  std::weak_ptr<detail::context_node> node_;
};

/// Go's String() of a context (see context::to_string).
std::string to_string(const context& ctx);

/// background is Go's context.Background(): the root of every context tree,
/// never canceled, no deadline, no values; its String() is
/// "context.Background". Contexts derived from it find their runtime (for
/// timers and after_func) from the goroutine that derives them. Every call
/// returns the same context.
context background() noexcept;

/// background(rt) is background() bound to `rt`: contexts derived from it use
/// `rt` for their timers and after_func goroutines, also when derived on a
/// plain thread. Deviation from Go: Go has one process-wide runtime.
context background(runtime& rt);

/// todo is Go's context.TODO(): like background() (never canceled, no
/// deadline, no values), a placeholder where it is unclear which context to
/// use; its String() is "context.TODO".
context todo() noexcept;

/// todo(rt) is todo() bound to `rt` (see background(rt)).
context todo(runtime& rt);

/// with_cancel is Go's context.WithCancel: a child of `parent` that is
/// canceled (err() == errc::canceled) when the returned function is called or
/// when `parent` is canceled, whichever happens first; then with the parent's
/// error. A child of an already canceled parent is canceled at once. Never
/// blocks. Throws panic_error (errc::misuse) "cannot create context from nil
/// parent" if `parent` is nil, as Go panics; so do every with_* function and
/// after_func.
std::pair<context, cancel_func> with_cancel(const context& parent);

/// with_cancel_cause is Go's context.WithCancelCause: like with_cancel, but
/// the function takes the cause, which cause() reports.
std::pair<context, cancel_cause_func> with_cancel_cause(const context& parent);

/// with_deadline is Go's context.WithDeadline: like with_cancel, and canceled
/// with errc::deadline_exceeded at `t`. If the parent's deadline is earlier,
/// the child simply inherits it. A deadline in the past cancels at once.
/// Needs a runtime for the timer: the parent's (background(rt)) or the
/// calling goroutine's; throws panic_error (errc::misuse) if there is none.
std::pair<context, cancel_func> with_deadline(const context& parent,
                                              clock::time_point t);

/// with_timeout is Go's context.WithTimeout: with_deadline(parent, now + d).
std::pair<context, cancel_func> with_timeout(const context& parent,
                                             std::chrono::nanoseconds d);

/// with_value is Go's context.WithValue: a child of `parent` that carries
/// `value` under `key` and shares the parent's cancellation and deadline.
template <class V, class U>
context with_value(const context& parent, const context_key<V>& key, U&& value);

/// cause is Go's context.Cause: the cause given to the cancel_cause_func
/// that canceled the context (or one of its ancestors), else err(); empty
/// while the context is live.
error cause(const context& ctx);

/// The function after_func returns: Go's `stop func() bool`. Returns true if
/// it kept f from running, false if f was already started or stopped.
class after_func_stop {
public:
  after_func_stop() noexcept = default;

  after_func_stop(std::weak_ptr<detail::context_node> node,
                  uint64_t id) noexcept
    : node_(std::move(node)), id_(id) {
    // nop
  }

  bool operator()() const;

private:
  std::weak_ptr<detail::context_node> node_;
  uint64_t id_ = 0;
};

/// after_func is Go's context.AfterFunc: runs `f` in its own goroutine once
/// `ctx` is done (at once if it is done already). Needs a runtime (see
/// with_deadline); throws panic_error (errc::misuse) if there is none or if
/// `ctx` is nil.
after_func_stop after_func(const context& ctx, std::function<void()> f);

// -- context-aware channel operations and sleep -------------------------------

/// The outcome of `co_await recv(ctx, ch)`: a value, "closed", or the
/// context's error. Not an aggregate (g++ 12, docs/design.md).
template <class T>
class [[nodiscard]] recv_result {
public:
  /// Closed and drained.
  recv_result() noexcept = default;

  explicit recv_result(T value) : value_(std::move(value)) {
    // nop
  }

  explicit recv_result(error err) : err_(std::move(err)) {
    // nop
  }

  /// A value was received.
  bool ok() const noexcept {
    return value_.has_value();
  }

  /// The channel is closed and drained.
  bool closed() const noexcept {
    return !value_ && !err_;
  }

  /// The context's error if it ended the receive, else empty.
  const error& err() const noexcept {
    return err_;
  }

  std::optional<T>& value() noexcept {
    return value_;
  }

  T& operator*() noexcept {
    return *value_;
  }

private:
  std::optional<T> value_;
  error err_;
};

namespace detail {

/// Awaiter of `co_await recv(ctx, ch)`: a two-case select over `ch` and
/// ctx.done(). Written as an awaiter, not a template coroutine: clang 14 with
/// -fsanitize=function cannot compile coroutines in COMDAT sections. Neither
/// copyable nor movable (its select cases point into it); returned as a
/// prvalue.
template <class T>
class ctx_recv_awaiter {
public:
  ctx_recv_awaiter(context ctx, const chan_handle<T>& ch)
    : ctx_(std::move(ctx)), sel_(rotina::recv_case(ch, value_),
                                 rotina::recv_case(ctx_.done(), done_)) {
    // nop
  }

  ctx_recv_awaiter(const ctx_recv_awaiter&) = delete;
  ctx_recv_awaiter& operator=(const ctx_recv_awaiter&) = delete;

  bool await_ready() {
    early_ = ctx_.err();
    return static_cast<bool>(early_);
  }

  bool await_suspend(std::coroutine_handle<> h) {
    return sel_.await_suspend(h);
  }

  recv_result<T> await_resume() {
    if (early_)
      return recv_result<T>{std::move(early_)};
    if (sel_.await_resume() == 1)
      return recv_result<T>{ctx_.err()};
    if (value_)
      return recv_result<T>{std::move(*value_)};
    return recv_result<T>{};
  }

private:
  context ctx_;
  std::optional<T> value_;
  std::optional<unit> done_;
  error early_;
  select_awaiter<detail::recv_case<T, std::optional<T>*>,
                 detail::recv_case<unit, std::optional<unit>*>>
    sel_;
};

/// Awaiter of `co_await send(ctx, ch, v)` (see ctx_recv_awaiter).
template <class T>
class ctx_send_awaiter {
public:
  ctx_send_awaiter(context ctx, const chan_handle<T>& ch, T value)
    : ctx_(std::move(ctx)), sel_(rotina::send_case(ch, std::move(value)),
                                 rotina::recv_case(ctx_.done(), done_)) {
    // nop
  }

  ctx_send_awaiter(const ctx_send_awaiter&) = delete;
  ctx_send_awaiter& operator=(const ctx_send_awaiter&) = delete;

  bool await_ready() {
    early_ = ctx_.err();
    return static_cast<bool>(early_);
  }

  bool await_suspend(std::coroutine_handle<> h) {
    return sel_.await_suspend(h);
  }

  error await_resume() {
    if (early_)
      return std::move(early_);
    if (sel_.await_resume() == 1)
      return ctx_.err();
    return error{};
  }

private:
  context ctx_;
  std::optional<unit> done_;
  error early_;
  select_awaiter<detail::send_case<T, detail::no_handler>,
                 detail::recv_case<unit, std::optional<unit>*>>
    sel_;
};

} // namespace detail

/// recv with a context is Go's
/// `select { case v, ok := <-ch: ...; case <-ctx.Done(): ... }`, inside a
/// goroutine: `auto r = co_await recv(ctx, ch);`. Parks the goroutine until a
/// value arrives (r.ok()), the channel is closed and drained (r.closed()) or
/// ctx is done (r.err() is ctx.err()). Deviation from Go: if ctx is already
/// done the context wins, where Go's select would pick at random.
template <class T>
detail::ctx_recv_awaiter<T> recv(const context& ctx, const recv_chan<T>& ch) {
  return detail::ctx_recv_awaiter<T>{ctx, ch};
}

/// recv with a context on a bidirectional channel.
template <class T>
detail::ctx_recv_awaiter<T> recv(const context& ctx, const chan<T>& ch) {
  return detail::ctx_recv_awaiter<T>{ctx, ch};
}

/// send with a context is Go's
/// `select { case ch <- v: ...; case <-ctx.Done(): ... }`, inside a
/// goroutine: `error e = co_await send(ctx, ch, v);`. Parks the goroutine
/// until the value is taken or buffered (returns empty) or ctx is done
/// (returns ctx.err(); the value is dropped). Throws panic_error "send on
/// closed channel" on a closed channel. Deviation from Go: if ctx is already
/// done the context wins.
template <class T, class U>
detail::ctx_send_awaiter<T> send(const context& ctx, const send_chan<T>& ch,
                                 U&& value) {
  return detail::ctx_send_awaiter<T>{ctx, ch, T(std::forward<U>(value))};
}

/// send with a context on a bidirectional channel.
template <class T, class U>
detail::ctx_send_awaiter<T> send(const context& ctx, const chan<T>& ch,
                                 U&& value) {
  return detail::ctx_send_awaiter<T>{ctx, ch, T(std::forward<U>(value))};
}

/// sleep with a context pauses the goroutine for `d` or until ctx is done,
/// whichever comes first: `error e = co_await sleep(ctx, d);` returns empty
/// after a full sleep, ctx.err() if the context ended it.
task<error> sleep(context ctx, std::chrono::nanoseconds d);

// -- implementation details ---------------------------------------------------

namespace detail {

/// Renders a context value for String(), as Go's stringify: strings and
/// numbers as themselves, anything else "<not Stringer>".
template <class V>
std::string describe_value(const void* ptr) {
  const auto& v = *static_cast<const V*>(ptr);
  if constexpr (std::is_convertible_v<const V&, std::string_view>)
    return std::string{std::string_view{v}};
  else if constexpr (std::is_arithmetic_v<V>)
    return std::to_string(v);
  else
    return "<not Stringer>";
}

using describe_fn = std::string (*)(const void*);

/// Stores `value` under `key` (named `key_name`) in a new child of `parent`.
/// Throws panic_error if `parent` is nil.
context with_value_impl(const context& parent, const void* key,
                        const char* key_name, describe_fn describe,
                        std::shared_ptr<const void> value);

/// with_cancel_cause whose timers and after_funcs use `rt` if the parent has
/// no runtime (errgroup::with_context).
std::pair<context, cancel_cause_func>
with_cancel_cause_in(const context& parent, runtime* rt);

} // namespace detail

template <class V, class U>
context with_value(const context& parent, const context_key<V>& key,
                   U&& value) {
  if (parent.nil()) // before constructing the value
    return detail::with_value_impl(parent, &key, key.name(), nullptr, nullptr);
  return detail::with_value_impl(
    parent, &key, key.name(), &detail::describe_value<V>,
    std::make_shared<const V>(std::forward<U>(value)));
}

} // namespace rotina
