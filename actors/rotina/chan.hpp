// rotina::chan<T>: Go's channels. Typed handles and awaiters over the untyped
// channel core (detail/chan_base.hpp, compiled once in actors/src/chan.cpp).
//
// Includes no CAF header (and no <memory>, <atomic> or <mutex>): a file that
// includes only this header preprocesses to ~15,000 lines (test
// compile.chan_header_is_light). A channel's actor identity, for other actors
// and nodes, is opt-in: <rotina/chan_actor.hpp>. Panics are
// rotina::panic_error from <rotina/error.hpp>, which catching code includes.
#pragma once

#include <cstddef>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "rotina/detail/chan_awaiters.hpp"
#include "rotina/detail/chan_base.hpp"

namespace caf {
class actor;
} // namespace caf

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

/// Shared by chan, send_chan and recv_chan: the counted channel reference.
template <class T>
class chan_handle {
public:
  // Instantiates T's element-type table, and with it the checks on T.
  static_assert(elem_type_of<T>.size == sizeof(T));

  chan_handle() noexcept = default;

  explicit chan_handle(chan_ref st) noexcept : st_(std::move(st)) {
    // nop
  }

  /// Go's len(ch): the number of values buffered now. 0 for a nil channel.
  size_t len() const noexcept {
    return chan_len(st_.get());
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
  /// receive from and close this channel. Spawned on first use. Defined in
  /// <rotina/chan_actor.hpp> (opt-in: it brings CAF's headers); include it
  /// where you call this.
  caf::actor actor() const;

  /// Channels compare equal if they are the same channel, like Go's `==`.
  friend bool operator==(const chan_handle& x, const chan_handle& y) noexcept {
    return x.st_ == y.st_;
  }

  /// The channel (for select, the channel actor and tests).
  const chan_ref& state() const noexcept {
    return st_;
  }

protected:
  // -- typed shells over the core, shared by the directional views ----------

  bool try_send_impl(T& value) const {
    if (!st_)
      return false;
    switch (chan_send(st_.get(), &value, nullptr)) {
    case op_status::done:
      return true;
    case op_status::closed:
      panic_send_on_closed();
    default:
      return false;
    }
  }

  try_recv_result<T> try_recv_impl() const {
    if (!st_)
      return {recv_status::empty, std::nullopt};
    value_slot<T> slot;
    switch (chan_recv(st_.get(), slot.raw(), nullptr)) {
    case op_status::done:
      slot.set_full();
      return {recv_status::received, slot.take()};
    case op_status::closed:
      return {recv_status::closed, std::nullopt};
    default:
      return {recv_status::empty, std::nullopt};
    }
  }

  std::optional<T> recv_blocking_impl() const {
    value_slot<T> slot;
    if (chan_recv_blocking(st_.get(), slot.raw()))
      slot.set_full();
    return slot.take();
  }

  chan_ref st_;
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
///
/// T must be nothrow move constructible and at most 64 KiB (Go: "channel
/// element type too large (>64kB)"); both are checked at compile time.
template <class T>
class chan : public detail::chan_handle<T> {
public:
  using value_type = T;
  using super = detail::chan_handle<T>;

  chan() noexcept = default;

  explicit chan(detail::chan_ref st) noexcept : super(std::move(st)) {
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
    return this->try_send_impl(value);
  }

  /// try_recv is Go's `select { case v, ok := <-ch: default: }`: never blocks.
  try_recv_result<T> try_recv() const {
    return this->try_recv_impl();
  }

  /// close is Go's `close(ch)`: later sends panic, receivers get the buffered
  /// values and then "closed" forever, blocked receivers wake with "closed"
  /// and blocked senders wake with a panic. Throws panic_error "close of closed
  /// channel" or "close of nil channel".
  void close() const {
    detail::chan_close(this->st_.get());
  }

  /// send_blocking is `send` for a plain thread (main, a std::thread, a
  /// go_blocking body): blocks the OS thread. Throws panic_error on a closed
  /// channel; blocks forever on a nil one. Inside a goroutine (on a scheduler
  /// worker) it aborts with a message: write `co_await ch.send(v)` there.
  void send_blocking(T value) const {
    detail::chan_send_blocking(this->st_.get(), &value);
  }

  /// recv_blocking is `recv` for a plain thread: blocks the OS thread until a
  /// value arrives (returns it) or the channel is closed and drained (returns
  /// std::nullopt). Blocks forever on a nil channel; aborts with a message on
  /// a scheduler worker, like send_blocking.
  std::optional<T> recv_blocking() const {
    return this->recv_blocking_impl();
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
  detail::send_awaiter<T> send(T value) const {
    return detail::send_awaiter<T>{this->st_.get(), std::move(value)};
  }

  /// See chan<T>::try_send.
  [[nodiscard]] bool try_send(T value) const {
    return this->try_send_impl(value);
  }

  /// See chan<T>::send_blocking.
  void send_blocking(T value) const {
    detail::chan_send_blocking(this->st_.get(), &value);
  }

  /// See chan<T>::close. Go allows closing a send-only channel.
  void close() const {
    detail::chan_close(this->st_.get());
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
    return this->try_recv_impl();
  }

  /// See chan<T>::recv_blocking.
  std::optional<T> recv_blocking() const {
    return this->recv_blocking_impl();
  }
};

/// make_chan is Go's `make(chan T, capacity)`: a new channel with room for
/// `capacity` buffered values (0 is unbuffered). The runtime is where the
/// channel's actor identity lives once other actors or nodes need it. Throws
/// panic_error "makechan: size out of range" if `capacity * sizeof(T)`
/// cannot be allocated (Go's check in makechan).
template <class T>
chan<T> make_chan(runtime& rt, size_t capacity) {
  return chan<T>{
    detail::make_chan_impl(&rt, capacity, detail::elem_type_of<T>)};
}

/// make_chan without a capacity: the runtime's `rotina.default-capacity`
/// (default 0, unbuffered, as Go's `make(chan T)`). Deviation from Go: Go has
/// no such setting.
template <class T>
chan<T> make_chan(runtime& rt) {
  return make_chan<T>(rt, detail::default_capacity_of(rt));
}

namespace detail {

runtime& require_current_runtime(const char* what);

/// make_chan with a runtime that may be null (then the channel can have no
/// actor identity), for the library's own channels (a context's done channel).
template <class T>
chan<T> make_chan_in(runtime* rt, size_t capacity) {
  return chan<T>{make_chan_impl(rt, capacity, elem_type_of<T>)};
}

} // namespace detail

/// make_chan inside a goroutine: the channel belongs to the goroutine's
/// runtime. Throws panic_error (errc::misuse) outside a goroutine.
template <class T>
chan<T> make_chan(size_t capacity) {
  return make_chan<T>(
    detail::require_current_runtime("rotina::make_chan without a runtime"),
    capacity);
}

/// make_chan inside a goroutine, with the runtime's default capacity.
template <class T>
chan<T> make_chan() {
  return make_chan<T>(
    detail::require_current_runtime("rotina::make_chan without a runtime"));
}

} // namespace rotina
