// rotina::detail::chan_core: the in-process channel, Go's hchan. Internal
// (not installed): chan.cpp and select.cpp use it; everything else reaches it
// through the entry points of <rotina/detail/chan_base.hpp>.
#pragma once

#include <cstddef>
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
  chan_core(size_t cap, const elem_type& type, runtime* rt,
            unsigned char* buf) noexcept;

  ~chan_core() override;

  // -- the seam ---------------------------------------------------------------

  op_status send(void* value, const park_fn* park) override;

  op_status recv(void* out, const park_fn* park) override;

  bool close() override;

  bool cancel(waiter* w) noexcept override;

  size_t len() override;

  std::pair<size_t, size_t> waiting() override;

  // -- operations under the lock (select locks several channels first) --------

  spinlock& lock() noexcept {
    return lock_;
  }

  /// chansend without blocking. Moves from `*value` only on `done`.
  op_status send_locked(void* value, wake_list& wakes) noexcept;

  /// chanrecv without blocking, into the raw storage `out`.
  op_status recv_locked(void* out, wake_list& wakes) noexcept;

  /// closechan; false if already closed.
  bool close_locked(wake_list& wakes);

  void enqueue_send_locked(waiter* w) noexcept {
    sendq_.push_back(w);
  }

  void enqueue_recv_locked(waiter* w) noexcept {
    recvq_.push_back(w);
  }

  /// Unlinks `w` if one of this channel's queues still holds it.
  static void unlink_locked(waiter* w) noexcept {
    if (w->list != nullptr)
      w->list->unlink(w);
  }

private:
  // -- value moves ------------------------------------------------------------

  void move_value(void* dst, void* src) const noexcept;

  void destroy_value(void* p) const noexcept {
    if (!trivial_)
      destroy_(p);
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

  // The lock on a line of its own: a goroutine spinning for it does not take
  // the line with the buffer indices away from the holder.
  alignas(64) spinlock lock_;
  alignas(64) size_t head_ = 0;
  size_t count_ = 0;
  bool closed_ = false;
  wait_list recvq_;
  wait_list sendq_;
  // Copied from chan_base and the element-type table: one indirection less
  // per operation, on the line of the indices.
  const size_t cap_;
  const size_t size_;
  const bool trivial_;
  void (*const move_)(void*, void*) noexcept;
  void (*const destroy_)(void*) noexcept;
  unsigned char* const buf_;
};

} // namespace rotina::detail
