// The rotina scheduler's deque lock.
#pragma once

#include <atomic>
#include <cstdint>

#include "sched_tuning.hpp"

namespace rotina::detail::sched {

// -- spinlock ----------------------------------------------------------------

/// Test-and-test-and-set lock for the deques. Critical sections are a few
/// loads/stores (plus a rare buffer growth); a waiter yields its time slice
/// after a while so a preempted holder on an oversubscribed machine can run.
class spin_lock {
public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire))
        return;
      unsigned spins = 0;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          cpu_relax();
        } else {
          std::this_thread::yield();
          spins = 0;
        }
      }
    }
  }

  void unlock() noexcept {
    locked_.store(false, std::memory_order_release);
  }

private:
  std::atomic<bool> locked_{false};
};

} // namespace rotina::detail::sched
