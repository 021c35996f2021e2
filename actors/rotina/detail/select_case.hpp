// The cases of a select (Go's scase): recv_case, send_case, default_case and
// their type-erased base, which timeout_case (<rotina/time.hpp>) builds on.
// Typed shells over the select half of the channel core (select.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "rotina/chan.hpp"
#include "rotina/task.hpp"

namespace rotina::detail {

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

  /// The channel of another node this case is on, or null.
  virtual chan_base* remote() const noexcept {
    return nullptr;
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

  // -- the path of a select with a case on a remote channel ---------------

  /// Attempts the operation now, taking the channel's lock itself (a remote
  /// channel: one round trip to its owner).
  virtual op_status try_now() {
    return op_status::blocked;
  }

  /// Links the notify-only waiter `w` on this case's channel (see
  /// chan_base::watch); true if the case can proceed now.
  virtual bool watch(waiter*) {
    return false;
  }

  /// Unlinks `w` again.
  virtual void unwatch(waiter*) noexcept {
    // nop
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

  chan_base* remote() const noexcept override {
    return st_ && st_->local() == nullptr ? st_.get() : nullptr;
  }

  op_status try_locked(wake_list& wakes) override {
    auto result = select_poll_recv_locked(core(), slot_.raw(), wakes);
    if (result == op_status::done)
      slot_.set_full();
    return result;
  }

  op_status try_now() override {
    if (!st_)
      return op_status::blocked;
    auto result = chan_recv(st_.get(), slot_.raw(), nullptr);
    if (result == op_status::done)
      slot_.set_full();
    return result;
  }

  bool watch(waiter* w) override {
    return chan_watch(st_.get(), false, w);
  }

  void unwatch(waiter* w) noexcept override {
    chan_unwatch(st_.get(), w);
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

  chan_base* remote() const noexcept override {
    return st_ && st_->local() == nullptr ? st_.get() : nullptr;
  }

  op_status try_locked(wake_list& wakes) override {
    auto result = select_poll_send_locked(core(), &value_, wakes);
    if (result == op_status::closed)
      closed_ = true;
    return result;
  }

  op_status try_now() override {
    if (!st_)
      return op_status::blocked;
    auto result = chan_send(st_.get(), &value_, nullptr);
    if (result == op_status::closed)
      closed_ = true;
    return result;
  }

  bool watch(waiter* w) override {
    return chan_watch(st_.get(), true, w);
  }

  void unwatch(waiter* w) noexcept override {
    chan_unwatch(st_.get(), w);
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

template <class Case>
constexpr bool is_default_case_v = false;

template <class H>
constexpr bool is_default_case_v<default_case<H>> = true;

} // namespace rotina::detail
