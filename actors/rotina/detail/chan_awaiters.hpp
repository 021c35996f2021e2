// The awaiters of `co_await ch.send(v)` and `co_await ch.recv()`, and the raw
// value storage they share with try_recv, the *_blocking calls, select cases
// and the channel actor: thin typed shells over the channel core.
#pragma once

#include <coroutine>
#include <new>
#include <optional>
#include <utility>

#include "rotina/detail/chan_base.hpp"
#include "rotina/detail/park_current.hpp"

namespace rotina::detail {

/// Raw, aligned storage for one T that a waker may construct in place.
template <class T>
class value_slot {
public:
  value_slot() noexcept = default;
  value_slot(const value_slot&) = delete;
  value_slot& operator=(const value_slot&) = delete;

  ~value_slot() {
    if (full_)
      ptr()->~T();
  }

  void* raw() noexcept {
    return storage_;
  }

  /// Marks the slot as holding a T (a core operation constructed one).
  void set_full() noexcept {
    full_ = true;
  }

  bool full() const noexcept {
    return full_;
  }

  /// Moves the value out, leaving the slot empty.
  std::optional<T> take() noexcept {
    if (!full_)
      return std::nullopt;
    std::optional<T> result{std::move(*ptr())};
    ptr()->~T();
    full_ = false;
    return result;
  }

private:
  T* ptr() noexcept {
    return std::launder(reinterpret_cast<T*>(storage_));
  }

  bool full_ = false;
  alignas(T) unsigned char storage_[sizeof(T)];
};

/// Awaiter of `co_await ch.send(v)`. Not an aggregate: g++ 12 destroys
/// aggregate temporaries in a co_await expression twice (docs/design.md). The
/// value waits in the awaiter (in the goroutine's frame), not on a stack.
template <class T>
class [[nodiscard]] send_awaiter {
public:
  send_awaiter(chan_base* st, T value) : st_(st), value_(std::move(value)) {
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
    h_ = h;
    park_fn park{&park_self, this};
    switch (chan_send(st_, &value_, &park)) {
    case op_status::done:
      return false;
    case op_status::closed:
      closed_ = true;
      return false;
    default:
      return true;
    }
  }

  void await_resume() const {
    if (w_.failed)
      chan_raise_fault(st_);
    if (closed_ || (w_.completed && !w_.ok))
      panic_send_on_closed();
  }

private:
  static waiter* park_self(void* ptr) {
    auto self = static_cast<send_awaiter*>(ptr);
    self->w_.who = park_current(self->h_, &cancel, self);
    self->w_.slot = &self->value_;
    return &self->w_;
  }

  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<send_awaiter*>(ptr);
    return chan_cancel(self->st_, &self->w_);
  }

  chan_base* st_;
  T value_;
  waiter w_;
  std::coroutine_handle<> h_;
  bool closed_ = false;
};

/// Awaiter of `co_await ch.recv()`. The value arrives in raw storage in the
/// awaiter, so that a waker on another thread can construct it in place.
template <class T>
class [[nodiscard]] recv_awaiter {
public:
  explicit recv_awaiter(chan_base* st) noexcept : st_(st) {
    // nop
  }

  recv_awaiter(const recv_awaiter&) = delete;
  recv_awaiter& operator=(const recv_awaiter&) = delete;

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    if (st_ == nullptr) {
      // Go: a receive from a nil channel blocks forever.
      park_current(h, nullptr, nullptr);
      return true;
    }
    h_ = h;
    park_fn park{&park_self, this};
    switch (chan_recv(st_, slot_.raw(), &park)) {
    case op_status::done:
      slot_.set_full();
      return false;
    case op_status::closed:
      return false;
    default:
      return true;
    }
  }

  std::optional<T> await_resume() {
    if (w_.failed)
      chan_raise_fault(st_);
    if (w_.completed && w_.ok)
      slot_.set_full();
    return slot_.take();
  }

private:
  static waiter* park_self(void* ptr) {
    auto self = static_cast<recv_awaiter*>(ptr);
    self->w_.who = park_current(self->h_, &cancel, self);
    self->w_.slot = self->slot_.raw();
    return &self->w_;
  }

  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<recv_awaiter*>(ptr);
    auto completed = chan_cancel(self->st_, &self->w_);
    if (self->w_.completed && self->w_.ok)
      self->slot_.set_full(); // destroyed with the frame
    return completed;
  }

  chan_base* st_;
  waiter w_;
  std::coroutine_handle<> h_;
  value_slot<T> slot_;
};

} // namespace rotina::detail
