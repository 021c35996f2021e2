// Tuning constants and small helpers of the rotina scheduler (see
// scheduler.cpp for the protocol they tune).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#endif

#include "caf/logger.hpp"
#include "caf/resumable.hpp"

namespace rotina::detail::sched {

using caf::resumable;
using steady = std::chrono::steady_clock;

// -- tuning ------------------------------------------------------------------

/// How long an out-of-work worker keeps searching before it parks.
constexpr auto kSpinTime = std::chrono::microseconds(20);
/// First and last timeout of a light (timed) sleep.
constexpr auto kLightMin = std::chrono::microseconds(100);
constexpr auto kLightMax = std::chrono::microseconds(2000);
/// Consecutive runs from the next slot before the deque front gets a turn.
constexpr uint32_t kMaxNextStreak = 32;
/// Max. jobs one steal moves (it moves up to half of the victim's deque).
constexpr size_t kStealBatch = 32;

/// Whether worker threads install CAF's thread-local logger and tag every job
/// with its actor id, as caf::scheduler::worker does. With CAF built at
/// CAF_LOG_LEVEL_QUIET (Debian) no log statement is compiled into CAF, so
/// nothing reads either: the thread-local logger is only consulted by
/// CAF_LOG_* (compiled out), by CAF_PUSH_AID/CAF_SET_AID (which do nothing
/// without a logger) and, at DEBUG level, by make_actor. Leaving it unset on
/// workers makes CAF's own CAF_PUSH_AID in scheduled_actor::resume/enqueue a
/// null check instead of two shared-spinlock hash-map updates each. With a
/// logging CAF build, workers behave like CAF's (log lines keep actor ids).
#ifdef ROTINA_SCHED_WORKER_LOGGER
constexpr bool kWorkerLogger = ROTINA_SCHED_WORKER_LOGGER != 0;
#else
constexpr bool kWorkerLogger = CAF_LOG_LEVEL > CAF_LOG_LEVEL_QUIET;
#endif

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

} // namespace rotina::detail::sched
