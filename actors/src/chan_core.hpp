// rotina::detail::chan_core: the in-process channel, Go's hchan. Internal
// (not installed): chan.cpp and select.cpp use it; everything else reaches it
// through the entry points of <rotina/detail/chan_base.hpp>. The locked
// operations are inline here so that both compile them into their entry
// points; the invariants are at the top of chan.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <utility>

#include "rotina/detail/chan_base.hpp"
#include "rotina/detail/spinlock.hpp"
#include "rotina/detail/waiter.hpp"
#include "rotina/detail/wake_list.hpp"

namespace rotina::detail {

/// Frees a channel's identity (defined with the channel actor, in
/// chan_actor.cpp).
void destroy_identity(chan_identity** slot) noexcept;

/// The local implementation of chan_base: an untyped ring buffer of
/// `type().size`-byte slots, two wait queues and a spinlock. Its invariants are
/// written at the top of chan.cpp.
class chan_core final : public chan_base {
public:
  // -- constructors, destructors, and assignment operators --------------------

  /// Takes `buf` (cap * type.size bytes, aligned to type.align; null if cap is
  /// 0), freed with the channel.
  chan_core(size_t cap, const elem_type& type, runtime* rt, unsigned char* buf);

  ~chan_core() override;

  // -- the seam ---------------------------------------------------------------

  op_status send(void* value, const park_fn* park) override;

  op_status recv(void* out, const park_fn* park) override;

  bool close() override;

  bool cancel(waiter* w) noexcept override;

  size_t len() override;

  std::pair<size_t, size_t> waiting() override;

  bool watch(bool is_send, waiter* w) override;

  void unwatch(waiter* w) noexcept override;

  /// Whether a send (`is_send`) or a receive could proceed now.
  bool ready_locked(bool is_send) const noexcept {
    if (is_send)
      return closed_ || recvq_.has_live() || count_ + reserved_ < cap();
    return count_ > 0 || sendq_.has_live() || (closed_ && reserved_ == 0);
  }

  // -- operations under the lock (select locks several channels first) --------

  spinlock& lock() noexcept {
    return lock_;
  }

  /// chansend without blocking. Moves from `*value` only on `done`.
  inline op_status send_locked(void* value, wake_list& wakes) noexcept;

  /// chanrecv without blocking, into the raw storage `out`.
  inline op_status recv_locked(void* out, wake_list& wakes) noexcept;

  /// closechan; false if already closed.
  bool close_locked(wake_list& wakes);

  // -- credit for remote senders (docs/design.md, "Sends: rendezvous,
  //    buffering and credit") ---------------------------------------------

  /// Reserves up to `want` free slots for a remote sender (none once
  /// closed); returns how many.
  size_t reserve(size_t want);

  /// A value sent under credit arrives: fills one reserved slot (or goes to
  /// the first waiting receiver). Delivered even after a close: its send
  /// completed before. Needs a reservation.
  void push_reserved(void* value);

  /// Returns `k` unused reservations.
  void unreserve(size_t k);

  size_t reserved() noexcept {
    std::lock_guard<spinlock> guard{lock_};
    return reserved_;
  }

  void enqueue_send_locked(waiter* w) noexcept {
    sendq_.push_back(w);
  }

  void enqueue_recv_locked(waiter* w) noexcept {
    recvq_.push_back(w);
  }

  /// A whole send: lock, attempt, park if asked, unlock, wake. Inline so that
  /// the entry point (chan_send) and the virtual member share one body. The
  /// common case (room in the buffer, no receiver waiting) completes here
  /// without a wake_list; everything else goes to send_slow. Both run the
  /// same steps under the lock as send_locked, so the outcome is the same.
  op_status send_impl(void* value, const park_fn* park) {
    lock_.lock();
    if (!closed_ && recvq_.empty() && count_ + reserved_ < cap()) {
      // send_locked's buffer branch (chan.go send: "Space is available in the
      // channel buffer. Enqueue the element to send.").
      push_locked(value);
      lock_.unlock();
      return op_status::done;
    }
    return send_slow(value, park);
  }

  /// A whole receive, like send_impl: the common case (a buffered value, no
  /// sender waiting) completes here, the rest in recv_slow.
  op_status recv_impl(void* out, const park_fn* park) {
    lock_.lock();
    if (count_ > 0 && sendq_.empty()) {
      // recv_locked's buffer branch with no sender to move in.
      pop_locked(out);
      lock_.unlock();
      return op_status::done;
    }
    return recv_slow(out, park);
  }

  /// Unlinks `w` if one of this channel's queues still holds it.
  static void unlink_locked(waiter* w) noexcept {
    if (w->list != nullptr)
      w->list->unlink(w);
  }

private:
  // -- slow paths (out of line: they need a wake_list) ------------------------

  /// send_impl past its fast path: called with the lock held, releases it,
  /// then wakes.
  [[gnu::noinline]] op_status send_slow(void* value, const park_fn* park) {
    wake_list wakes; // destroyed after the guard: wakes without the lock
    std::lock_guard<spinlock> guard{lock_, std::adopt_lock};
    auto result = send_locked(value, wakes);
    if (result == op_status::blocked && park != nullptr)
      enqueue_send_locked(park->call(park->ctx));
    return result;
  }

  /// recv_impl past its fast path, like send_slow.
  [[gnu::noinline]] op_status recv_slow(void* out, const park_fn* park) {
    wake_list wakes;
    std::lock_guard<spinlock> guard{lock_, std::adopt_lock};
    auto result = recv_locked(out, wakes);
    if (result == op_status::blocked && park != nullptr)
      enqueue_recv_locked(park->call(park->ctx));
    return result;
  }

  // -- buffer moves (under the lock) ------------------------------------------

  /// Moves `*value` into the slot after the last buffered value; needs
  /// count_ < cap().
  void push_locked(void* value) noexcept {
    auto cap = this->cap();
    auto pos = head_ + count_;
    if (pos >= cap)
      pos -= cap;
    move_value(slot(pos), value);
    ++count_;
  }

  /// Moves the oldest buffered value into `out` and frees its slot; needs
  /// count_ > 0.
  void pop_locked(void* out) noexcept {
    auto front = slot(head_);
    move_value(out, front);
    destroy_value(front);
    if (++head_ == cap())
      head_ = 0;
    --count_;
  }

  // -- value moves ------------------------------------------------------------

  inline void move_value(void* dst, void* src) const noexcept;

  void destroy_value(void* p) const noexcept {
    if (!trivial_)
      type().destroy(p);
  }

  unsigned char* slot(size_t i) const noexcept {
    return buf_ + i * size_;
  }

  /// Completes `w` (unlinked and claimed) and queues its parker for waking.
  static void complete(waiter* w, bool ok, wake_list& wakes) {
    w->ok = ok;
    w->completed = true;
    wakes.add(w);
  }

  // -- member variables -------------------------------------------------------

  // Layout: 192 B, three cache lines. Line 1: chan_base (read-mostly) and the
  // element size; line 2: the lock alone (a goroutine spinning for it does not
  // take the indices' line away from the holder); line 3: what an operation
  // reads and writes under the lock.
  const uint32_t size_;
  const bool trivial_;
  alignas(64) spinlock lock_;
  alignas(64) size_t head_ = 0;
  size_t count_ = 0;
  /// Slots promised to remote senders (credit granted, value not arrived):
  /// count_ + reserved_ <= cap().
  size_t reserved_ = 0;
  bool closed_ = false;
  wait_list recvq_;
  wait_list sendq_;
  unsigned char* const buf_;
};

inline void chan_core::move_value(void* dst, void* src) const noexcept {
  if (!trivial_) {
    type().move(dst, src);
    return;
  }
  // Constant sizes let the compiler inline the copy for the common cases.
  switch (size_) {
  case 1:
    std::memcpy(dst, src, 1);
    break;
  case 4:
    std::memcpy(dst, src, 4);
    break;
  case 8:
    std::memcpy(dst, src, 8);
    break;
  case 16:
    std::memcpy(dst, src, 16);
    break;
  default:
    std::memcpy(dst, src, size_);
  }
}

inline op_status chan_core::send_locked(void* value,
                                        wake_list& wakes) noexcept {
  if (closed_)
    return op_status::closed;
  if (auto w = recvq_.pop_claimed()) {
    // chan.go send: a receiver waits, so the buffer is empty; hand the value
    // straight to it.
    move_value(w->slot, value);
    complete(w, true, wakes);
    return op_status::done;
  }
  if (count_ + reserved_ < cap()) {
    push_locked(value);
    return op_status::done;
  }
  return op_status::blocked;
}

inline op_status chan_core::recv_locked(void* out, wake_list& wakes) noexcept {
  if (count_ > 0) {
    pop_locked(out);
    // chan.go recv: a slot is free, so the longest-waiting sender moves its
    // value in at the tail (the queue stays full, FIFO holds).
    if (count_ + reserved_ < cap())
      if (auto w = sendq_.pop_claimed()) {
        push_locked(w->slot);
        complete(w, true, wakes);
      }
    return op_status::done;
  }
  if (auto w = sendq_.pop_claimed()) {
    // Unbuffered (or a stale full buffer cannot be: count_ == 0 here): take
    // the sender's value directly.
    move_value(out, w->slot);
    complete(w, true, wakes);
    return op_status::done;
  }
  // Closed and drained, unless credited values are still owed (they are
  // completed sends from before the close: receive them first).
  return closed_ && reserved_ == 0 ? op_status::closed : op_status::blocked;
}

} // namespace rotina::detail
