// rotina::detail::waiter and wait_list: Go's sudog and waitq. Header-light on
// purpose: <rotina/chan.hpp> includes it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rotina/detail/parker.hpp"
#include "rotina/detail/select_state.hpp"

namespace rotina::detail {

class wait_list;
struct waiter;

/// Fires a notify-only waiter: claims its select_state once and wakes its
/// parker (under the popping channel's lock). Defined in chan.cpp.
void fire_notify(waiter* w) noexcept;

/// A goroutine (or thread) waiting on one channel, Go's sudog. Lives in the
/// awaiter, so in the coroutine frame of the parked goroutine; all members are
/// trivially destructible (see docs/design.md on g++ 12). A channel links it in
/// its send or receive queue under the channel lock; whoever unlinks it under
/// that lock owns the right to complete it.
struct waiter {
  waiter* next = nullptr;
  waiter* prev = nullptr;
  /// The sleeper to wake.
  parker* who = nullptr;
  /// The select this waiter belongs to, or null for a plain send or receive.
  select_state* sel = nullptr;
  /// Send: points to the value to take. Receive: raw storage for the value.
  void* slot = nullptr;
  /// The case index within its select.
  int32_t case_index = 0;
  /// Set by the completing party: true if a value moved, false if closed.
  bool ok = false;
  /// Set by the completing party (under the channel lock).
  bool completed = false;
  /// Set with `completed` when the operation failed without moving a value
  /// (a remote channel's owner was lost): the woken party raises the
  /// channel's fault (chan_raise_fault).
  bool failed = false;
  /// A notify-only waiter (a select with a case on a remote channel waiting
  /// for any of its cases to become ready): it never takes part in a value
  /// move; the party that pops it fires it (fire_notify) and moves on.
  bool notify = false;
  /// The queue this waiter is linked in, or null (guarded by the channel's
  /// lock).
  wait_list* list = nullptr;

  /// Claims this waiter for completion. Plain waiters always succeed; a select
  /// waiter succeeds only if its select was still open.
  bool claim() noexcept {
    if (notify) {
      fire_notify(this);
      return false;
    }
    return sel == nullptr || sel->try_claim(case_index);
  }
};

/// A FIFO of waiters, intrusive and doubly linked: O(1) push, pop and unlink.
class wait_list {
public:
  bool empty() const noexcept {
    return head_ == nullptr;
  }

  void push_back(waiter* w) noexcept {
    w->next = nullptr;
    w->prev = tail_;
    if (tail_ != nullptr)
      tail_->next = w;
    else
      head_ = w;
    tail_ = w;
    w->list = this;
  }

  waiter* pop_front() noexcept {
    auto w = head_;
    if (w != nullptr)
      unlink(w);
    return w;
  }

  void unlink(waiter* w) noexcept {
    if (w->prev != nullptr)
      w->prev->next = w->next;
    else
      head_ = w->next;
    if (w->next != nullptr)
      w->next->prev = w->prev;
    else
      tail_ = w->prev;
    w->next = w->prev = nullptr;
    w->list = nullptr;
  }

  /// Pops waiters until one can be claimed (skipping waiters of selects that
  /// another case already won) and returns it, or null.
  waiter* pop_claimed() noexcept {
    while (auto w = pop_front())
      if (w->claim())
        return w;
    return nullptr;
  }

  /// Whether a waiter that could be claimed now is queued (not a notify-only
  /// one, not one of a select that another case already won).
  bool has_live() const noexcept {
    for (auto w = head_; w != nullptr; w = w->next)
      if (!w->notify
          && (w->sel == nullptr || w->sel->winner() == select_state::open))
        return true;
    return false;
  }

  size_t size() const noexcept {
    size_t n = 0;
    for (auto w = head_; w != nullptr; w = w->next)
      ++n;
    return n;
  }

private:
  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
};

} // namespace rotina::detail
