// The pieces every blocking operation shares: a spinlock for channel state, the
// waiter record (Go's sudog), the parker that a waiter wakes, and the claim
// flag of a select.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#endif
#include <thread>
#include <vector>

namespace rotina::detail {

// -- spinlock -----------------------------------------------------------------

/// A test-and-test-and-set lock for the few instructions a channel operation
/// holds it. A party that finds it taken backs off exponentially (1, 2, 4 ...
/// max_backoff pauses between looks), then also yields the thread so that a
/// preempted holder can finish. The back-off matters when two cores hammer one
/// channel (fanin): without it they trade the lock's cache line on every
/// operation (148 ns/item); with it the core that holds the line usually
/// takes the lock again, so operations run in batches (~70 ns/item,
/// docs/benchmarks.md). Put it on a cache line of its own (chan_core).
class spinlock {
public:
  void lock() noexcept {
    if (!flag_.exchange(true, std::memory_order_acquire))
      return;
    lock_slow();
  }

  bool try_lock() noexcept {
    return !flag_.load(std::memory_order_relaxed)
           && !flag_.exchange(true, std::memory_order_acquire);
  }

  void unlock() noexcept {
    flag_.store(false, std::memory_order_release);
  }

private:
  /// Pauses per look stop doubling here (256 pauses: ~6.5 us at the 25 ns a
  /// pause takes on this project's EPYC machines; ~65 us of looks before the
  /// first yield).
  static constexpr unsigned max_backoff = 256;
  /// Looks after which the waiter yields its thread as well, at every look.
  static constexpr int yield_after = 17;

  void lock_slow() noexcept {
    unsigned backoff = 1;
    for (int looks = 1;; ++looks) {
      for (unsigned i = 0; i < backoff; ++i)
        pause();
      if (backoff < max_backoff)
        backoff *= 2;
      if (!flag_.load(std::memory_order_relaxed)
          && !flag_.exchange(true, std::memory_order_acquire))
        return;
      if (looks >= yield_after) {
        looks = yield_after; // no overflow however long the wait
        std::this_thread::yield();
      }
    }
  }

  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }

  std::atomic<bool> flag_{false};
};

// -- parker -------------------------------------------------------------------

/// Something that sleeps until an operation completes: a goroutine (woken by
/// one message to its actor), an OS thread (woken through a semaphore), or a
/// channel actor answering a remote request.
class parker {
public:
  virtual ~parker() = default;

  /// Wakes the sleeper and drops the reference that `retain` took. Called at
  /// most once per park, never under a channel lock. The caller must not touch
  /// the parker afterwards: a woken thread may already have destroyed it.
  virtual void unpark() noexcept = 0;

  /// Keeps the parker alive from the moment a waker takes its waiter until
  /// `unpark` (a goroutine can be killed in between).
  virtual void retain() noexcept {
    // nop
  }
};

// -- select state -------------------------------------------------------------

/// The claim flag of one blocking select: -1 while open, else the index of the
/// case that won. Whoever moves it from -1 (a channel completing one of the
/// select's waiters, a timer, or the select itself finding a ready case after
/// it registered) commits the select; every other party must leave the
/// select's waiters alone.
class select_state {
public:
  static constexpr int32_t open = -1;

  bool try_claim(int32_t case_index) noexcept {
    auto expected = open;
    return winner_.compare_exchange_strong(expected, case_index,
                                           std::memory_order_acq_rel);
  }

  int32_t winner() const noexcept {
    return winner_.load(std::memory_order_acquire);
  }

private:
  std::atomic<int32_t> winner_{open};
};

// -- waiter -------------------------------------------------------------------

/// A goroutine (or thread) waiting on one channel, Go's sudog. Lives in the
/// awaiter, so in the coroutine frame of the parked goroutine; all members are
/// trivially destructible (see docs/design.md on g++ 12). A channel links it in
/// its send or receive queue under the channel lock; whoever unlinks it under
/// that lock owns the right to complete it.
class wait_list;

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
  /// The queue this waiter is linked in, or null (guarded by the channel's
  /// lock).
  class wait_list* list = nullptr;

  /// Claims this waiter for completion. Plain waiters always succeed; a select
  /// waiter succeeds only if its select was still open.
  bool claim() noexcept {
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

/// The parkers to wake once the channel lock is released. Copies the parker
/// pointers out of the waiters: once the lock is gone, a completed waiter's
/// memory may be freed (its goroutine can be killed) before it is woken.
class wake_list {
public:
  wake_list() = default;
  wake_list(const wake_list&) = delete;
  wake_list& operator=(const wake_list&) = delete;

  ~wake_list() {
    wake_all();
  }

  /// Takes `w`'s parker; call under the lock that completed `w`.
  void add(waiter* w) {
    auto p = w->who;
    p->retain();
    if (size_ < inline_capacity)
      inline_[size_++] = p;
    else
      more_.push_back(p);
  }

  /// Wakes everything collected. Must run without any channel lock held.
  void wake_all() noexcept {
    for (size_t i = 0; i < size_; ++i)
      wake(inline_[i]);
    size_ = 0;
    for (auto p : more_)
      wake(p);
    more_.clear();
  }

private:
  static void wake(parker* p) noexcept {
    p->unpark();
  }

  static constexpr size_t inline_capacity = 2;
  parker* inline_[inline_capacity];
  size_t size_ = 0;
  std::vector<parker*> more_;
};

} // namespace rotina::detail
