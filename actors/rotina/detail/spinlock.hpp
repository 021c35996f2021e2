// rotina::detail::spinlock: the lock of a channel (and of the goroutine
// registry's shards), held for the few instructions of one operation.
#pragma once

#include <atomic>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#endif
#include <thread>

namespace rotina::detail {

/// One pause of a spin-wait loop (x86's `pause`; nothing elsewhere).
inline void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

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

  /// Out of line: the rare path. Inlined, its loop grew the channel core's
  /// send/recv fast paths (more registers saved and restored per operation
  /// even when the lock was free; docs/benchmarks.md, "fanin").
  [[gnu::noinline]] void lock_slow() noexcept {
    unsigned backoff = 1;
    for (int looks = 1;; ++looks) {
      for (unsigned i = 0; i < backoff; ++i)
        cpu_pause();
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

  std::atomic<bool> flag_{false};
};

} // namespace rotina::detail
