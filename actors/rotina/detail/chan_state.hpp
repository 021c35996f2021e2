// The in-process state of a channel: Go's hchan. Every operation on a channel
// of this process, from a goroutine, a plain thread or the channel's actor
// (which serves other nodes), goes through this state under its spinlock.
//
// Invariants (under lock_):
// - count_ <= cap_; buffered values sit in buf_[head_ .. head_+count_) mod
// cap_.
// - If recvq_ is non-empty then count_ == 0 (receivers wait only on an empty
//   buffer); stale select waiters may break this until popped.
// - If sendq_ is non-empty then count_ == cap_ (senders wait only on a full
//   buffer; for cap_ == 0 both hold trivially).
// - After closed_ is set, no waiter is ever added to sendq_ or recvq_, and
//   both queues are empty.
// - A waiter is completed (value moved, `completed` and `ok` set) only by the
//   party that unlinked it under lock_ and won its claim.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>

#include "rotina/detail/wait_queue.hpp"

namespace rotina {
class runtime;
} // namespace rotina

namespace rotina::detail {

struct chan_identity;

/// Frees a channel's identity slot (defined with the channel actor).
void destroy_identity(chan_identity* id) noexcept;

/// Outcome of one attempt at a channel operation under the lock.
enum class op_status {
  /// The operation completed (a value moved).
  done,
  /// The channel is closed: a receive got "closed", a send must panic.
  closed,
  /// The operation would block.
  blocked,
};

/// The untyped half of a channel: what select needs to lock and order
/// channels of different element types.
class chan_core {
public:
  explicit chan_core(size_t cap, runtime* rt) noexcept : cap_(cap), rt_(rt) {
    // nop
  }

  chan_core(const chan_core&) = delete;
  chan_core& operator=(const chan_core&) = delete;

  ~chan_core() {
    if (auto id = identity_.load(std::memory_order_acquire))
      destroy_identity(id);
  }

  /// The slot that remembers the channel's actor; created on first use.
  std::atomic<chan_identity*>& identity_slot() noexcept {
    return identity_;
  }

  spinlock& lock() noexcept {
    return lock_;
  }

  size_t cap() const noexcept {
    return cap_;
  }

  /// The runtime the channel was made in (for its actor identity).
  runtime* rt() const noexcept {
    return rt_;
  }

  size_t len() noexcept {
    std::lock_guard<spinlock> guard{lock_};
    return count_;
  }

  bool closed() noexcept {
    std::lock_guard<spinlock> guard{lock_};
    return closed_;
  }

  /// How many senders and receivers wait now (O(n); for tests and tools).
  std::pair<size_t, size_t> waiting() noexcept {
    std::lock_guard<spinlock> guard{lock_};
    return {sendq_.size(), recvq_.size()};
  }

  /// Unlinks `w` if it is still linked in one of this channel's queues. Call
  /// under lock().
  static void unlink_locked(waiter* w) noexcept {
    if (w->list != nullptr)
      w->list->unlink(w);
  }

  void enqueue_recv_locked(waiter* w) noexcept {
    recvq_.push_back(w);
  }

  void enqueue_send_locked(waiter* w) noexcept {
    sendq_.push_back(w);
  }

protected:
  // The lock on a line of its own: a goroutine spinning for it does not take
  // the line with the buffer indices away from the holder.
  alignas(64) spinlock lock_;
  alignas(64) const size_t cap_;
  size_t head_ = 0;
  size_t count_ = 0;
  bool closed_ = false;
  wait_list recvq_;
  wait_list sendq_;
  runtime* rt_;
  std::atomic<chan_identity*> identity_{nullptr};
};

/// The typed half: the ring buffer and the value moves.
template <class T>
class chan_state : public chan_core {
public:
  chan_state(size_t cap, runtime* rt) : chan_core(cap, rt) {
    if (cap_ > 0)
      buf_ = static_cast<T*>(
        ::operator new (sizeof(T) * cap_, std::align_val_t{alignof(T)}));
  }

  ~chan_state() {
    for (size_t i = 0; i < count_; ++i)
      buf_[(head_ + i) % cap_].~T();
    if (buf_ != nullptr)
      ::operator delete (buf_, std::align_val_t{alignof(T)});
  }

  /// Go's chansend without blocking: hands `value` to a waiting receiver or
  /// buffers it. Call under lock(). Moves from `value` only on `done`.
  op_status send_locked(T& value, wake_list& wakes) {
    if (closed_)
      return op_status::closed;
    if (auto w = recvq_.pop_claimed()) {
      new (w->slot) T(std::move(value));
      w->ok = true;
      w->completed = true;
      wakes.add(w);
      return op_status::done;
    }
    if (count_ < cap_) {
      new (buf_ + (head_ + count_) % cap_) T(std::move(value));
      ++count_;
      return op_status::done;
    }
    return op_status::blocked;
  }

  /// Go's chanrecv without blocking: takes the oldest buffered value (refilling
  /// the buffer from a blocked sender), or the value of a blocked sender, into
  /// the raw storage `out`. On `closed` nothing is constructed. Call under
  /// lock().
  op_status recv_locked(void* out, wake_list& wakes) {
    if (count_ > 0) {
      auto& front = buf_[head_];
      new (out) T(std::move(front));
      front.~T();
      head_ = (head_ + 1) % cap_;
      --count_;
      // A slot is free: the longest-waiting sender moves its value in.
      if (auto w = sendq_.pop_claimed()) {
        new (buf_ + (head_ + count_) % cap_)
          T(std::move(*static_cast<T*>(w->slot)));
        ++count_;
        w->ok = true;
        w->completed = true;
        wakes.add(w);
      }
      return op_status::done;
    }
    if (auto w = sendq_.pop_claimed()) {
      new (out) T(std::move(*static_cast<T*>(w->slot)));
      w->ok = true;
      w->completed = true;
      wakes.add(w);
      return op_status::done;
    }
    return closed_ ? op_status::closed : op_status::blocked;
  }

  /// Go's closechan: marks the channel closed and completes every waiter with
  /// ok == false. Returns false if it was already closed. Call under lock().
  bool close_locked(wake_list& wakes) {
    if (closed_)
      return false;
    closed_ = true;
    while (auto w = recvq_.pop_claimed()) {
      w->ok = false;
      w->completed = true;
      wakes.add(w);
    }
    while (auto w = sendq_.pop_claimed()) {
      w->ok = false;
      w->completed = true;
      wakes.add(w);
    }
    return true;
  }

private:
  T* buf_ = nullptr;
};

} // namespace rotina::detail
