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
#include "rotina/task.hpp"

namespace rotina {

namespace detail {

/// A uniformly random number in [0, n), from a per-thread xorshift generator.
uint32_t fast_random(uint32_t n) noexcept;

// -- the select half of the channel core, compiled once in select.cpp ---------

/// chansend without blocking, on a channel select has locked.
op_status select_poll_send_locked(chan_core* c, void* value, wake_list& wakes);

/// chanrecv without blocking, on a channel select has locked.
op_status select_poll_recv_locked(chan_core* c, void* out, wake_list& wakes);

/// Links `w` into a locked channel's send queue.
void select_enqueue_send_locked(chan_core* c, waiter* w) noexcept;

/// Links `w` into a locked channel's receive queue.
void select_enqueue_recv_locked(chan_core* c, waiter* w) noexcept;

/// Locks `c`, unlinks `w` if still linked; true if a waker completed `w`.
bool select_withdraw(chan_core* c, waiter* w) noexcept;

/// The local core behind a case's channel (null for nil).
inline chan_core* local_core(const chan_ref& c) noexcept {
  return c ? c->local() : nullptr;
}

/// One case of a select, type-erased for the commit protocol.
class select_case_base {
public:
  /// The channel to lock, or null for a nil channel or the default case.
  virtual chan_core* core() noexcept = 0;

  virtual bool is_default() const noexcept {
    return false;
  }

  /// Attempts the operation now. Call with core()'s lock held.
  virtual op_status try_locked(wake_list& wakes) = 0;

  /// Links this case's waiter into its channel. Call with core()'s lock held.
  virtual void enqueue_locked(parker* who, select_state* sel, int32_t idx) = 0;

  /// Unlinks the waiter if a channel still holds it (locks core()). After it
  /// returns, no other party touches this case's waiter.
  /// Returns true if a waker completed this case's waiter.
  virtual bool withdraw() noexcept {
    auto c = core();
    if (c == nullptr || w_.who == nullptr)
      return false;
    auto completed = select_withdraw(c, &w_);
    on_withdrawn();
    return completed;
  }

  /// Reads the result a waker left in the waiter of the winning case.
  virtual void take_from_waiter() = 0;

  /// Runs the case's handler (after the select committed to this case).
  virtual void run_handler() = 0;

protected:
  ~select_case_base() = default;

  /// Called after unlinking; keeps a value that was delivered to a case that
  /// lost (only possible when the goroutine is canceled).
  virtual void on_withdrawn() noexcept {
    // nop
  }

  waiter w_;
};

template <class H, class... Args>
void invoke_handler(H& h, Args&&... args) {
  if constexpr (std::is_invocable_v<H&, Args...>) {
    using r = std::invoke_result_t<H&, Args...>;
    static_assert(!is_task<r>::value,
                  "a select handler cannot be a coroutine: use the index "
                  "that co_await select(...) returns and co_await in the "
                  "case body");
    h(std::forward<Args>(args)...);
  } else {
    static_assert(std::is_invocable_v<H&>,
                  "a select handler takes the case's value or nothing");
    h();
  }
}

struct no_handler {
  template <class... Ts>
  void operator()(Ts&&...) const noexcept {
    // nop
  }
};

/// `recv_case(ch, handler)`. The handler gets std::optional<T> (nullopt if
/// the channel was closed), or nothing.
template <class T, class H>
class recv_case final : public select_case_base {
public:
  recv_case(chan_ptr<T> st, H h) : st_(std::move(st)), h_(std::move(h)) {
    // nop
  }

  recv_case(recv_case&& other) noexcept(std::is_nothrow_move_constructible_v<H>)
    : st_(std::move(other.st_)), h_(std::move(other.h_)) {
    // Moved before the select runs: no value, no linked waiter yet.
  }

  chan_core* core() noexcept override {
    return local_core(st_);
  }

  op_status try_locked(wake_list& wakes) override {
    auto result = select_poll_recv_locked(core(), slot_.raw(), wakes);
    if (result == op_status::done)
      slot_.set_full();
    return result;
  }

  void enqueue_locked(parker* who, select_state* sel, int32_t idx) override {
    w_.who = who;
    w_.sel = sel;
    w_.case_index = idx;
    w_.slot = slot_.raw();
    select_enqueue_recv_locked(core(), &w_);
  }

  void take_from_waiter() override {
    if (w_.completed && w_.ok)
      slot_.set_full();
  }

  void run_handler() override {
    auto value = slot_.take();
    if constexpr (std::is_same_v<H, std::optional<T>*>)
      *h_ = std::move(value);
    else
      invoke_handler(h_, std::move(value));
  }

private:
  void on_withdrawn() noexcept override {
    if (w_.completed && w_.ok)
      slot_.set_full();
  }

  chan_ptr<T> st_;
  H h_;
  value_slot<T> slot_;
};

/// `send_case(ch, value, handler)`.
template <class T, class H>
class send_case final : public select_case_base {
public:
  send_case(chan_ptr<T> st, T value, H h)
    : st_(std::move(st)), value_(std::move(value)), h_(std::move(h)) {
    // nop
  }

  chan_core* core() noexcept override {
    return local_core(st_);
  }

  op_status try_locked(wake_list& wakes) override {
    auto result = select_poll_send_locked(core(), &value_, wakes);
    if (result == op_status::closed)
      closed_ = true;
    return result;
  }

  void enqueue_locked(parker* who, select_state* sel, int32_t idx) override {
    w_.who = who;
    w_.sel = sel;
    w_.case_index = idx;
    w_.slot = &value_;
    select_enqueue_send_locked(core(), &w_);
  }

  void take_from_waiter() override {
    if (w_.completed && !w_.ok)
      closed_ = true;
  }

  void run_handler() override {
    // Go: a select that chose a send on a closed channel panics.
    if (closed_)
      panic_send_on_closed();
    invoke_handler(h_);
  }

private:
  chan_ptr<T> st_;
  T value_;
  H h_;
  bool closed_ = false;
};

/// `default_case(handler)`: makes the select non-blocking.
template <class H>
class default_case final : public select_case_base {
public:
  explicit default_case(H h) : h_(std::move(h)) {
    // nop
  }

  chan_core* core() noexcept override {
    return nullptr;
  }

  bool is_default() const noexcept override {
    return true;
  }

  op_status try_locked(wake_list&) override {
    return op_status::blocked;
  }

  void enqueue_locked(parker*, select_state*, int32_t) override {
    // nop
  }

  void take_from_waiter() override {
    // nop
  }

  void run_handler() override {
    invoke_handler(h_);
  }

private:
  H h_;
};

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

/// `select_blocking`'s commit and sleep, on a plain thread: returns the index
/// of the chosen case (its handler not yet run). Aborts on a scheduler
/// worker; blocks forever if no case can ever proceed.
int32_t select_blocking_impl(select_case_base** cases, int32_t n);

template <class Case>
constexpr bool is_default_case_v = false;

template <class H>
constexpr bool is_default_case_v<default_case<H>> = true;

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
    chosen_ = select_begin(cases_.bind(), size, &sel_, &park_self, this);
    return chosen_ < 0;
  }

  /// Returns the index of the case that ran (its position in the argument
  /// list).
  int32_t await_resume() {
    if (parked_)
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
