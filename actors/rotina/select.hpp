// rotina::select: Go's select statement.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "rotina/chan.hpp"
#include "rotina/detail/park.hpp"
#include "rotina/task.hpp"

namespace rotina {

namespace detail {

/// A uniformly random number in [0, n), from a per-thread xorshift generator.
uint32_t fast_random(uint32_t n) noexcept;

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
    std::lock_guard<spinlock> guard{c->lock()};
    chan_core::unlink_locked(&w_);
    on_withdrawn();
    return w_.completed;
  }

  /// Reads the result a waker left in the waiter of the winning case.
  virtual void take_from_waiter() = 0;

  /// Runs the case's handler (after the select committed to this case).
  virtual void run_handler() = 0;

protected:
  ~select_case_base() = default;

  /// Called under the lock after unlinking; keeps a value that was delivered
  /// to a case that lost (only possible when the goroutine is canceled).
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

  ~recv_case() {
    if (has_value_)
      value_ptr()->~T();
  }

  chan_core* core() noexcept override {
    return st_.get();
  }

  op_status try_locked(wake_list& wakes) override {
    auto result = st_->recv_locked(storage_, wakes);
    if (result == op_status::done)
      has_value_ = true;
    return result;
  }

  void enqueue_locked(parker* who, select_state* sel, int32_t idx) override {
    w_.who = who;
    w_.sel = sel;
    w_.case_index = idx;
    w_.slot = storage_;
    st_->enqueue_recv_locked(&w_);
  }

  void take_from_waiter() override {
    if (w_.completed && w_.ok)
      has_value_ = true;
  }

  void run_handler() override {
    std::optional<T> value;
    if (has_value_) {
      value.emplace(std::move(*value_ptr()));
      value_ptr()->~T();
      has_value_ = false;
    }
    if constexpr (std::is_same_v<H, std::optional<T>*>)
      *h_ = std::move(value);
    else
      invoke_handler(h_, std::move(value));
  }

private:
  void on_withdrawn() noexcept override {
    if (w_.completed && w_.ok)
      has_value_ = true;
  }

  T* value_ptr() noexcept {
    return std::launder(reinterpret_cast<T*>(storage_));
  }

  chan_ptr<T> st_;
  H h_;
  bool has_value_ = false;
  alignas(T) unsigned char storage_[sizeof(T)];
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
    return st_.get();
  }

  op_status try_locked(wake_list& wakes) override {
    auto result = st_->send_locked(value_, wakes);
    if (result == op_status::closed)
      closed_ = true;
    return result;
  }

  void enqueue_locked(parker* who, select_state* sel, int32_t idx) override {
    w_.who = who;
    w_.sel = sel;
    w_.case_index = idx;
    w_.slot = &value_;
    st_->enqueue_send_locked(&w_);
  }

  void take_from_waiter() override {
    if (w_.completed && !w_.ok)
      closed_ = true;
  }

  void run_handler() override {
    // Go: a select that chose a send on a closed channel panics.
    if (closed_)
      throw_panic(errc::send_on_closed);
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
/// commits"). Returns the index of a case that completed without waiting, or
/// -1 after linking one waiter per case (the caller then sleeps until a
/// channel claims the select). `park` is called under the locks before any
/// waiter becomes visible.
template <class Park>
int32_t select_begin(select_case_base** cases, int32_t n, select_state* sel,
                     Park&& park) {
  // Go's selectgo: lock every channel involved, in address order, so that
  // checking the cases and linking the waiters is one atomic step for every
  // other party.
  chan_core* locks[16];
  int32_t nlocks = 0;
  for (int32_t i = 0; i < n; ++i)
    if (auto c = cases[i]->core())
      locks[nlocks++] = c;
  std::sort(locks, locks + nlocks);
  nlocks = static_cast<int32_t>(std::unique(locks, locks + nlocks) - locks);
  // A random starting offset and a random step coprime to n visit every case
  // once in a uniformly random rotation: Go picks the ready case uniformly.
  int32_t order[16];
  for (int32_t i = 0; i < n; ++i)
    order[i] = i;
  for (int32_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[fast_random(static_cast<uint32_t>(i + 1))]);
  wake_list wakes;
  for (int32_t i = 0; i < nlocks; ++i)
    locks[i]->lock().lock();
  auto unlock_all = [&] {
    for (int32_t i = nlocks; i > 0; --i)
      locks[i - 1]->lock().unlock();
  };
  int32_t chosen = -1;
  int32_t dflt = -1;
  for (int32_t k = 0; k < n && chosen < 0; ++k) {
    auto i = order[k];
    if (cases[i]->is_default()) {
      dflt = i;
      continue;
    }
    if (cases[i]->core() == nullptr)
      continue; // nil channel: never ready
    switch (cases[i]->try_locked(wakes)) {
    case op_status::done:
      chosen = i;
      break;
    case op_status::closed:
      // A receive from a closed channel is ready; a send panics, which the
      // case reports when its handler runs.
      chosen = i;
      break;
    default:
      break;
    }
  }
  if (chosen < 0 && dflt >= 0)
    chosen = dflt;
  if (chosen < 0) {
    auto who = park();
    for (int32_t k = 0; k < n; ++k)
      if (cases[order[k]]->core() != nullptr)
        cases[order[k]]->enqueue_locked(who, sel, order[k]);
  }
  unlock_all();
  return chosen;
}

template <class Case>
constexpr bool is_default_case_v = false;

template <class H>
constexpr bool is_default_case_v<default_case<H>> = true;

/// Awaiter of `co_await select(...)`. Owns the cases; not an aggregate.
template <class... Cases>
class select_awaiter {
public:
  static constexpr int32_t size = sizeof...(Cases);

  static_assert(size <= 16, "a select has at most 16 cases");
  static_assert((0 + ... + (is_default_case_v<Cases> ? 1 : 0)) <= 1,
                "a select has at most one default case");

  explicit select_awaiter(Cases&&... cases) : cases_(std::move(cases)...) {
    // nop
  }

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    bind_cases();
    chosen_ = select_begin(ptrs_.data(), size, &sel_, [&] {
      parked_ = true;
      return park_current(h, &cancel, this);
    });
    return chosen_ < 0;
  }

  /// Returns the index of the case that ran (its position in the argument
  /// list).
  int32_t await_resume() {
    if (parked_) {
      chosen_ = sel_.winner();
      for (int32_t i = 0; i < size; ++i)
        if (i != chosen_)
          ptrs_[i]->withdraw();
      ptrs_[chosen_]->take_from_waiter();
    }
    ptrs_[chosen_]->run_handler();
    return chosen_;
  }

private:
  void bind_cases() noexcept {
    std::apply(
      [this](auto&... xs) {
        size_t i = 0;
        ((ptrs_[i++] = &xs), ...);
      },
      cases_);
  }

  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<select_awaiter*>(ptr);
    bool completed = false;
    for (auto c : self->ptrs_)
      completed |= c->withdraw();
    return completed;
  }

  std::tuple<Cases...> cases_;
  std::array<select_case_base*, size> ptrs_{};
  select_state sel_;
  int32_t chosen_ = -1;
  bool parked_ = false;
};

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

/// send_case is Go's `case ch <- v:` in a select. Choosing it on a closed
/// channel throws panic_error "send on closed channel", as Go panics. A case
/// on a nil channel is never chosen.
template <class T, class U, class H = detail::no_handler>
detail::send_case<T, std::decay_t<H>>
send_case(const detail::chan_handle<T>& ch, U&& value, H&& handler = {}) {
  return {ch.state(), T(std::forward<U>(value)), std::forward<H>(handler)};
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
  static_assert(
    (std::is_base_of_v<detail::select_case_base, std::decay_t<Cases>> && ...),
    "select takes recv_case, send_case, timeout_case and "
    "default_case arguments");
  return detail::select_awaiter<std::decay_t<Cases>...>{std::move(cases)...};
}

} // namespace rotina
