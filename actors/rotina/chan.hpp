// rotina::chan<T>: Go's channels. A typed mailbox with an in-process fast path
// and an actor identity that other nodes address.
#pragma once

#include <coroutine>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "rotina/detail/chan_state.hpp"
#include "rotina/detail/park.hpp"
#include "rotina/error.hpp"

#include <caf/actor.hpp>

namespace rotina {

class runtime;

template <class T>
class chan;
template <class T>
class send_chan;
template <class T>
class recv_chan;

/// How a non-blocking receive ended: Go's `v, ok := <-ch` in a select with a
/// default case.
enum class recv_status {
  /// A value was received.
  received,
  /// The channel is closed and drained.
  closed,
  /// Nothing to receive now (or the channel is nil).
  empty,
};

/// The result of `try_recv`: a status and, if `received`, the value.
template <class T>
struct [[nodiscard]] try_recv_result {
  recv_status status;
  std::optional<T> value;
};

namespace detail {

[[noreturn]] void throw_panic(errc code);

template <class T>
using chan_ptr = std::shared_ptr<chan_state<T>>;

/// Spawns (once) the actor that serves `st` to other actors and nodes.
template <class T>
caf::actor chan_actor_of(const chan_ptr<T>& st);

/// Awaiter of `co_await ch.send(v)`. Not an aggregate: g++ 12 destroys
/// aggregate temporaries in a co_await expression twice (docs/design.md).
template <class T>
class send_awaiter {
public:
  send_awaiter(chan_state<T>* st, T value) : st_(st), value_(std::move(value)) {
    // nop
  }

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    if (st_ == nullptr) {
      // Go: a send on a nil channel blocks forever.
      park_current(h, nullptr, nullptr);
      return true;
    }
    wake_list wakes;
    std::lock_guard<spinlock> guard{st_->lock()};
    switch (st_->send_locked(value_, wakes)) {
    case op_status::done:
      return false;
    case op_status::closed:
      closed_ = true;
      return false;
    default:
      w_.who = park_current(h, &cancel, this);
      w_.slot = &value_;
      st_->enqueue_send_locked(&w_);
      return true;
    }
  }

  void await_resume() const {
    if (closed_ || (w_.completed && !w_.ok))
      throw_panic(errc::send_on_closed);
  }

private:
  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<send_awaiter*>(ptr);
    std::lock_guard<spinlock> guard{self->st_->lock()};
    chan_core::unlink_locked(&self->w_);
    return self->w_.completed;
  }

  chan_state<T>* st_;
  T value_;
  waiter w_;
  bool closed_ = false;
};

/// Awaiter of `co_await ch.recv()`. The value arrives in raw storage so that a
/// waker on another thread can construct it in place.
template <class T>
class recv_awaiter {
public:
  explicit recv_awaiter(chan_state<T>* st) noexcept : st_(st) {
    // nop
  }

  recv_awaiter(const recv_awaiter&) = delete;
  recv_awaiter& operator=(const recv_awaiter&) = delete;

  ~recv_awaiter() {
    if (has_value_)
      value_ptr()->~T();
  }

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    if (st_ == nullptr) {
      // Go: a receive from a nil channel blocks forever.
      park_current(h, nullptr, nullptr);
      return true;
    }
    wake_list wakes;
    std::lock_guard<spinlock> guard{st_->lock()};
    switch (st_->recv_locked(storage_, wakes)) {
    case op_status::done:
      has_value_ = true;
      return false;
    case op_status::closed:
      return false;
    default:
      w_.who = park_current(h, &cancel, this);
      w_.slot = storage_;
      st_->enqueue_recv_locked(&w_);
      return true;
    }
  }

  std::optional<T> await_resume() {
    if (w_.completed && w_.ok)
      has_value_ = true;
    if (!has_value_)
      return std::nullopt;
    std::optional<T> result{std::move(*value_ptr())};
    value_ptr()->~T();
    has_value_ = false;
    return result;
  }

private:
  T* value_ptr() noexcept {
    return std::launder(reinterpret_cast<T*>(storage_));
  }

  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<recv_awaiter*>(ptr);
    std::lock_guard<spinlock> guard{self->st_->lock()};
    chan_core::unlink_locked(&self->w_);
    if (self->w_.completed && self->w_.ok)
      self->has_value_ = true; // destroyed by ~recv_awaiter with the frame
    return self->w_.completed;
  }

  chan_state<T>* st_;
  waiter w_;
  bool has_value_ = false;
  alignas(T) unsigned char storage_[sizeof(T)];
};

template <class T>
bool send_blocking_impl(chan_state<T>* st, T& value) {
  thread_parker parker;
  waiter w;
  {
    wake_list wakes;
    std::lock_guard<spinlock> guard{st->lock()};
    switch (st->send_locked(value, wakes)) {
    case op_status::done:
      return true;
    case op_status::closed:
      return false;
    default:
      w.who = &parker;
      w.slot = &value;
      st->enqueue_send_locked(&w);
    }
  }
  parker.wait();
  std::lock_guard<spinlock> guard{st->lock()};
  return w.ok;
}

template <class T>
std::optional<T> recv_blocking_impl(chan_state<T>* st) {
  thread_parker parker;
  waiter w;
  alignas(T) unsigned char storage[sizeof(T)];
  {
    wake_list wakes;
    std::lock_guard<spinlock> guard{st->lock()};
    switch (st->recv_locked(storage, wakes)) {
    case op_status::done:
      w.ok = true;
      break;
    case op_status::closed:
      return std::nullopt;
    default:
      w.who = &parker;
      w.slot = storage;
      st->enqueue_recv_locked(&w);
    }
  }
  if (w.who != nullptr) {
    parker.wait();
    std::lock_guard<spinlock> guard{st->lock()};
    if (!w.ok)
      return std::nullopt;
  }
  auto ptr = std::launder(reinterpret_cast<T*>(storage));
  std::optional<T> result{std::move(*ptr)};
  ptr->~T();
  return result;
}

/// Blocks the calling OS thread forever (an operation on a nil channel from a
/// plain thread).
[[noreturn]] void block_forever();

/// Shared by chan, send_chan and recv_chan: the state pointer.
template <class T>
class chan_handle {
public:
  chan_handle() noexcept = default;

  explicit chan_handle(chan_ptr<T> st) noexcept : st_(std::move(st)) {
    // nop
  }

  /// Go's len(ch): the number of values buffered now. 0 for a nil channel.
  size_t len() const noexcept {
    return st_ ? st_->len() : 0;
  }

  /// Go's cap(ch): the buffer capacity. 0 for a nil or unbuffered channel.
  size_t cap() const noexcept {
    return st_ ? st_->cap() : 0;
  }

  /// True for a nil channel (a default-constructed handle).
  bool nil() const noexcept {
    return st_ == nullptr;
  }

  /// The channel's actor: the identity other actors and nodes use to send to,
  /// receive from and close this channel. Spawned on first use.
  caf::actor actor() const;

  /// Channels compare equal if they are the same channel, like Go's `==`.
  friend bool operator==(const chan_handle& x, const chan_handle& y) noexcept {
    return x.st_ == y.st_;
  }

  /// The shared state (for select and the channel actor).
  const chan_ptr<T>& state() const noexcept {
    return st_;
  }

protected:
  chan_ptr<T> st_;
};

} // namespace detail

/// chan<T> is Go's `chan T`: a typed channel that carries only `T`. Copies of a
/// handle refer to the same channel. A default-constructed handle is the nil
/// channel: sends and receives on it block forever, its select cases are never
/// chosen, and closing it panics.
///
/// Capacity 0 makes an unbuffered channel: a send completes only when a
/// receiver takes the value, and a receive only when a sender provides one (Go
/// spec, "Channel types"). With capacity n > 0 a send blocks only when n values
/// are buffered and a receive only when none is. Values come out in the order
/// they went in; blocked senders and receivers are served first come, first
/// served.
template <class T>
class chan : public detail::chan_handle<T> {
public:
  using value_type = T;
  using super = detail::chan_handle<T>;

  static_assert(std::is_move_constructible_v<T>,
                "a channel's element type must be move constructible");
  static_assert(!std::is_reference_v<T>, "a channel carries values");

  chan() noexcept = default;

  explicit chan(detail::chan_ptr<T> st) noexcept : super(std::move(st)) {
    // nop
  }

  /// send is Go's `ch <- v`, inside a goroutine: `co_await ch.send(v)`.
  /// Suspends the goroutine (not its thread) until a receiver takes `v`
  /// (unbuffered) or the buffer has room. Throws panic_error "send on closed
  /// channel" if the channel is or becomes closed while waiting.
  detail::send_awaiter<T> send(T value) const {
    return detail::send_awaiter<T>{this->st_.get(), std::move(value)};
  }

  /// recv is Go's `v, ok := <-ch`, inside a goroutine: `co_await ch.recv()`
  /// yields the value, or std::nullopt once the channel is closed and its
  /// buffer drained (at once, forever). Suspends the goroutine while nothing is
  /// available.
  detail::recv_awaiter<T> recv() const {
    return detail::recv_awaiter<T>{this->st_.get()};
  }

  /// try_send is Go's `select { case ch <- v: default: }`: sends if a receiver
  /// is waiting or the buffer has room, else returns false at once. Throws
  /// panic_error "send on closed channel" on a closed channel; returns false on
  /// a nil one.
  [[nodiscard]] bool try_send(T value) const {
    if (!this->st_)
      return false;
    detail::wake_list wakes;
    std::lock_guard<detail::spinlock> guard{this->st_->lock()};
    switch (this->st_->send_locked(value, wakes)) {
    case detail::op_status::done:
      return true;
    case detail::op_status::closed:
      detail::throw_panic(errc::send_on_closed);
    default:
      return false;
    }
  }

  /// try_recv is Go's `select { case v, ok := <-ch: default: }`: never blocks.
  try_recv_result<T> try_recv() const {
    if (!this->st_)
      return {recv_status::empty, std::nullopt};
    alignas(T) unsigned char storage[sizeof(T)];
    detail::op_status st;
    {
      detail::wake_list wakes;
      std::lock_guard<detail::spinlock> guard{this->st_->lock()};
      st = this->st_->recv_locked(storage, wakes);
    }
    if (st == detail::op_status::closed)
      return {recv_status::closed, std::nullopt};
    if (st == detail::op_status::blocked)
      return {recv_status::empty, std::nullopt};
    auto ptr = std::launder(reinterpret_cast<T*>(storage));
    try_recv_result<T> result{recv_status::received, std::move(*ptr)};
    ptr->~T();
    return result;
  }

  /// close is Go's `close(ch)`: later sends panic, receivers get the buffered
  /// values and then "closed" forever, blocked receivers wake with "closed"
  /// and blocked senders wake with a panic. Throws panic_error "close of closed
  /// channel" or "close of nil channel".
  void close() const {
    if (!this->st_)
      detail::throw_panic(errc::close_of_nil);
    bool ok;
    {
      detail::wake_list wakes;
      {
        std::lock_guard<detail::spinlock> guard{this->st_->lock()};
        ok = this->st_->close_locked(wakes);
      }
    }
    if (!ok)
      detail::throw_panic(errc::close_of_closed);
  }

  /// send_blocking is `send` for a plain thread (main, a std::thread, a
  /// go_blocking body): blocks the OS thread. Throws panic_error on a closed
  /// channel; blocks forever on a nil one.
  void send_blocking(T value) const {
    if (!this->st_)
      detail::block_forever();
    if (!detail::send_blocking_impl(this->st_.get(), value))
      detail::throw_panic(errc::send_on_closed);
  }

  /// recv_blocking is `recv` for a plain thread: blocks the OS thread until a
  /// value arrives (returns it) or the channel is closed and drained (returns
  /// std::nullopt). Blocks forever on a nil channel.
  std::optional<T> recv_blocking() const {
    if (!this->st_)
      detail::block_forever();
    return detail::recv_blocking_impl(this->st_.get());
  }
};

/// send_chan<T> is Go's `chan<- T`: a send-only view. A chan<T> converts to it
/// implicitly; it has no recv at compile time.
template <class T>
class send_chan : public detail::chan_handle<T> {
public:
  using value_type = T;
  using super = detail::chan_handle<T>;

  send_chan() noexcept = default;

  send_chan(const chan<T>& ch) noexcept : super(ch.state()) {
    // nop
  }

  /// See chan<T>::send.
  auto send(T value) const {
    return as_chan().send(std::move(value));
  }

  /// See chan<T>::try_send.
  [[nodiscard]] bool try_send(T value) const {
    return as_chan().try_send(std::move(value));
  }

  /// See chan<T>::send_blocking.
  void send_blocking(T value) const {
    as_chan().send_blocking(std::move(value));
  }

  /// See chan<T>::close. Go allows closing a send-only channel.
  void close() const {
    as_chan().close();
  }

private:
  chan<T> as_chan() const noexcept {
    return chan<T>{this->st_};
  }
};

/// recv_chan<T> is Go's `<-chan T`: a receive-only view. A chan<T> converts to
/// it implicitly; it has no send and no close at compile time.
template <class T>
class recv_chan : public detail::chan_handle<T> {
public:
  using value_type = T;
  using super = detail::chan_handle<T>;

  recv_chan() noexcept = default;

  recv_chan(const chan<T>& ch) noexcept : super(ch.state()) {
    // nop
  }

  /// See chan<T>::recv.
  detail::recv_awaiter<T> recv() const {
    return detail::recv_awaiter<T>{this->st_.get()};
  }

  /// See chan<T>::try_recv.
  try_recv_result<T> try_recv() const {
    return chan<T>{this->st_}.try_recv();
  }

  /// See chan<T>::recv_blocking.
  std::optional<T> recv_blocking() const {
    return chan<T>{this->st_}.recv_blocking();
  }
};

/// make_chan is Go's `make(chan T, capacity)`: a new channel with room for
/// `capacity` buffered values (0, the default, is unbuffered). The runtime is
/// where the channel's actor identity lives once other actors or nodes need
/// it.
template <class T>
chan<T> make_chan(runtime& rt, size_t capacity = 0) {
  return chan<T>{std::make_shared<detail::chan_state<T>>(capacity, &rt)};
}

namespace detail {
runtime& require_current_runtime(const char* what);
} // namespace detail

/// make_chan inside a goroutine: the channel belongs to the goroutine's
/// runtime. Throws std::logic_error outside a goroutine.
template <class T>
chan<T> make_chan(size_t capacity = 0) {
  return make_chan<T>(
    detail::require_current_runtime("rotina::make_chan without a runtime"),
    capacity);
}

} // namespace rotina

#include "rotina/detail/chan_actor.hpp"
