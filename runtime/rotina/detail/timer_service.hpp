// One timer heap per runtime, on a thread of its own: Go's per-P timer heaps
// folded into one. Sleep, timers, tickers, select timeouts and context
// deadlines all go through it (docs/design.md, "Timers").
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace rotina::detail {

using timer_clock = std::chrono::steady_clock;

/// Something that happens at a point in time. Owned by shared_ptr: the heap
/// holds one reference while the entry is pending.
class timer_entry {
public:
  virtual ~timer_entry();

  /// Runs on the timer thread, outside the heap's lock, once `when` passed.
  /// Returns the next point in time to fire again (tickers), or
  /// timer_clock::time_point::min() when done.
  virtual timer_clock::time_point
  fire(timer_clock::time_point now) noexcept = 0;

private:
  friend class timer_service;

  timer_clock::time_point when_;
  /// Index in the heap, or npos while not pending.
  size_t index_ = static_cast<size_t>(-1);
};

/// A min-heap of timer entries served by one thread, started on first use.
///
/// Invariants (under mtx_):
/// - heap_[i]->index_ == i for every pending entry; every other entry has
///   index_ == npos; heap_ is a binary min-heap on when_.
/// - Once stopped_ is set, heap_ is empty and schedule() refuses entries.
/// - A deadline of time_point::max() means "never": such an entry stays
///   pending (and keeps its owner alive) until canceled or stopped.
class timer_service {
public:
  timer_service() = default;

  /// Calls stop().
  ~timer_service();

  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  /// now() + d, saturated: a duration that would overflow the clock (Go's
  /// "for ever", e.g. nanoseconds::max() or 1000 years) gives
  /// time_point::max(); a negative one gives now().
  static timer_clock::time_point deadline_after(std::chrono::nanoseconds d);

  /// t + d, saturated at time_point::max() (d >= 0).
  static timer_clock::time_point add_saturated(timer_clock::time_point t,
                                               std::chrono::nanoseconds d);

  /// Makes `e` fire at `when`. Returns false (and does nothing) once stop()
  /// ran. `e` must not be pending already.
  bool schedule(std::shared_ptr<timer_entry> e, timer_clock::time_point when);

  /// Removes `e` if it is still pending. Returns true if that prevented a
  /// fire (false if it is firing, fired, or was never scheduled).
  bool cancel(timer_entry& e) noexcept;

  /// Number of pending entries.
  size_t pending() const;

  /// Joins the thread and drops every pending entry (runtime shutdown).
  /// Idempotent.
  void stop();

private:
  void run();

  void push_locked(std::shared_ptr<timer_entry> e);

  std::shared_ptr<timer_entry> remove_locked(size_t i);

  void sift_up(size_t i);

  void sift_down(size_t i);

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<timer_entry>> heap_;
  std::thread thread_;
  bool stopped_ = false;
  /// True while the thread waits untimed or until a later deadline.
  bool sleeping_ = false;
};

} // namespace rotina::detail
