// rotina::select: Go's select statement, inside goroutines
// (`co_await select(...)`) and on plain threads (`select_blocking(...)`).
// Typed cases over the channel core; the commit protocol (poll, enqueue,
// withdraw) is compiled once in actors/src/select.cpp. Includes no CAF header.
#pragma once

#include <coroutine>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "rotina/chan.hpp"
#include "rotina/detail/park_current.hpp"
#include "rotina/detail/select_case.hpp"
#include "rotina/task.hpp"

namespace rotina {

namespace detail {

/// A uniformly random number in [0, n), from a per-thread xorshift generator.
uint32_t fast_random(uint32_t n) noexcept;

/// The commit protocol of one select (see docs/design.md, "How select
/// commits"), compiled once in select.cpp. Returns the index of a case that
/// completed without waiting, or -1 after linking one waiter per case (the
/// caller then sleeps until a channel claims the select). `park(ctx)` is
/// called under the locks before any waiter becomes visible and returns the
/// parker that a channel claiming the select wakes.
int32_t select_begin(select_case_base** cases, int32_t n, select_state* sel,
                     parker* (*park)(void* ctx), void* ctx);

/// After a parked select woke: withdraws the losing cases and reads the
/// winner's result. Returns the winner's index.
int32_t select_finish(select_case_base** cases, int32_t n,
                      const select_state& sel) noexcept;

/// Whether a case of the select is on a channel of another node.
bool select_has_remote(select_case_base** cases, int32_t n) noexcept;

/// A select with a case on a channel of another node (docs/distribution.md):
/// tries the cases one by one in a uniformly random order (Go's pollorder;
/// each try is atomic at the channel's owner, the first that proceeds
/// commits), runs the default if none could and there is one, else waits
/// until any case's channel reports that it may proceed, and tries again.
/// Returns the chosen case's index.
task<int32_t> select_remote(select_case_base** cases, int32_t n);

/// `select_blocking`'s commit and sleep, on a plain thread: returns the index
/// of the chosen case (its handler not yet run). Aborts on a scheduler
/// worker; blocks forever if no case can ever proceed.
int32_t select_blocking_impl(select_case_base** cases, int32_t n);

/// The cases of one select, owned, with pointers to their common base.
template <class... Cases>
class select_cases {
public:
  static constexpr int32_t size = sizeof...(Cases);

  static_assert(size >= 1, "a select needs at least one case");
  static_assert(size <= 16, "a select has at most 16 cases");
  static_assert((0 + ... + (is_default_case_v<Cases> ? 1 : 0)) <= 1,
                "a select has at most one default case");

  explicit select_cases(Cases&&... cases) : cases_(std::move(cases)...) {
    // nop
  }

  select_cases(const select_cases&) = delete;
  select_cases& operator=(const select_cases&) = delete;

  /// Binds the pointers; call once the cases sit where they stay.
  select_case_base** bind() noexcept {
    std::apply(
      [this](auto&... xs) {
        int32_t i = 0;
        ((ptrs_[i++] = &xs), ...);
      },
      cases_);
    return ptrs_;
  }

  select_case_base** ptrs() noexcept {
    return ptrs_;
  }

private:
  std::tuple<Cases...> cases_;
  select_case_base* ptrs_[size] = {};
};

/// Awaiter of `co_await select(...)`. Owns the cases; not an aggregate.
template <class... Cases>
class [[nodiscard]] select_awaiter {
public:
  static constexpr int32_t size = sizeof...(Cases);

  explicit select_awaiter(Cases&&... cases) : cases_(std::move(cases)...) {
    // nop
  }

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    h_ = h;
    auto ptrs = cases_.bind();
    if (select_has_remote(ptrs, size)) {
      // Another node's channel cannot be locked from here: run the remote
      // path as a child task of this goroutine, until it waits or finishes.
      // (No symmetric transfer back to h for a ready select: g++ 12 does not
      // make it a tail call, and a loop of ready selects would overflow the
      // stack.) It can resume only in a later run of this goroutine's actor,
      // so setting its continuation afterwards is race-free.
      remote_ = select_remote(ptrs, size);
      remote_.handle().resume();
      if (remote_.done())
        return false;
      remote_.handle().promise().set_continuation(h);
      return true;
    }
    chosen_ = select_begin(ptrs, size, &sel_, &park_self, this);
    return chosen_ < 0;
  }

  /// Returns the index of the case that ran (its position in the argument
  /// list).
  int32_t await_resume() {
    if (remote_.valid())
      chosen_ = remote_.handle().promise().take();
    else if (parked_)
      chosen_ = select_finish(cases_.ptrs(), size, sel_);
    cases_.ptrs()[chosen_]->run_handler();
    return chosen_;
  }

private:
  static parker* park_self(void* ptr) {
    auto self = static_cast<select_awaiter*>(ptr);
    self->parked_ = true;
    return park_current(self->h_, &cancel, self);
  }

  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<select_awaiter*>(ptr);
    bool completed = false;
    for (int32_t i = 0; i < size; ++i)
      completed |= self->cases_.ptrs()[i]->withdraw();
    return completed;
  }

  select_cases<Cases...> cases_;
  select_state sel_;
  std::coroutine_handle<> h_;
  int32_t chosen_ = -1;
  bool parked_ = false;
  task<int32_t> remote_;
};

template <class>
constexpr bool always_false_v = false;

template <class... Cases>
void check_select_cases() {
  static_assert(
    (std::is_base_of_v<select_case_base, std::decay_t<Cases>> && ...),
    "select takes recv_case, send_case, timeout_case and "
    "default_case arguments");
}

} // namespace detail

/// recv_case is Go's `case v, ok := <-ch:` in a select. The handler gets
/// std::optional<T> (std::nullopt means closed and drained) or nothing. A case
/// on a nil channel is never chosen.
template <class T, class H = detail::no_handler>
detail::recv_case<T, std::decay_t<H>>
recv_case(const detail::chan_handle<T>& ch, H&& handler = {}) {
  return {ch.state(), std::forward<H>(handler)};
}

/// recv_case that stores what it received into `out` (std::nullopt if the
/// channel was closed), for case bodies that must co_await: branch on the
/// index that `co_await select(...)` returns.
template <class T>
detail::recv_case<T, std::optional<T>*>
recv_case(const detail::chan_handle<T>& ch, std::optional<T>& out) {
  return {ch.state(), &out};
}

/// Go rejects a receive from a send-only channel at compile time ("invalid
/// operation: cannot receive from send-only channel"); so does rotina.
template <class T, class... Args>
void recv_case(const send_chan<T>&, Args&&...) {
  static_assert(detail::always_false_v<T>,
                "recv_case on a send_chan: cannot receive from send-only "
                "channel (Go: chan<- T)");
}

/// send_case is Go's `case ch <- v:` in a select. Choosing it on a closed
/// channel throws panic_error "send on closed channel", as Go panics. A case
/// on a nil channel is never chosen.
template <class T, class U, class H = detail::no_handler>
detail::send_case<T, std::decay_t<H>>
send_case(const detail::chan_handle<T>& ch, U&& value, H&& handler = {}) {
  return {ch.state(), T(std::forward<U>(value)), std::forward<H>(handler)};
}

/// Go rejects a send to a receive-only channel at compile time ("invalid
/// operation: cannot send to receive-only channel"); so does rotina.
template <class T, class... Args>
void send_case(const recv_chan<T>&, Args&&...) {
  static_assert(detail::always_false_v<T>,
                "send_case on a recv_chan: cannot send to receive-only "
                "channel (Go: <-chan T)");
}

/// default_case is Go's `default:` in a select: if no other case is ready,
/// it runs and the select does not block.
template <class H = detail::no_handler>
detail::default_case<std::decay_t<H>> default_case(H&& handler = {}) {
  return detail::default_case<std::decay_t<H>>{std::forward<H>(handler)};
}

/// select is Go's select statement, inside a goroutine:
/// `co_await select(case...)`. Blocks the goroutine until at least one case
/// can proceed, then commits exactly one, chosen uniformly at random among the
/// ready ones, runs its handler and returns its index. With a default case it
/// never blocks. No value is taken from a channel by a case that was not
/// chosen, also when many goroutines select on the same channels at once.
/// Handlers run on the goroutine and cannot co_await: branch on the returned
/// index for case bodies that must.
///
/// g++ 12 note: a lambda that captures non-trivially destructible values by
/// copy, written inside the co_await expression, is destroyed twice (GCC bug);
/// capture by reference or name the lambda first (docs/design.md).
template <class... Cases>
detail::select_awaiter<std::decay_t<Cases>...> select(Cases&&... cases) {
  detail::check_select_cases<Cases...>();
  return detail::select_awaiter<std::decay_t<Cases>...>{std::move(cases)...};
}

/// select_blocking is Go's select statement on a plain thread (main, a
/// std::thread, a go_blocking body; Go's main can select): blocks the OS
/// thread until one case proceeds, with the same rules as `select`, runs its
/// handler and returns its index. With a default case it never blocks; with
/// only nil channels and no default it blocks forever, as Go's `select {}`.
/// For a timeout, use `recv_case(after(rt, d))` (timeout_case needs a
/// goroutine's runtime). Inside a goroutine (on a scheduler worker) it aborts
/// with a message: write `co_await select(...)` there.
template <class... Cases>
int32_t select_blocking(Cases&&... cases) {
  detail::check_select_cases<Cases...>();
  detail::select_cases<std::decay_t<Cases>...> cs{std::move(cases)...};
  auto chosen = detail::select_blocking_impl(cs.bind(), cs.size);
  cs.ptrs()[chosen]->run_handler();
  return chosen;
}

} // namespace rotina
