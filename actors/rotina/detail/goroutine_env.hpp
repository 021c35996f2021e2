// Per-runtime state of the goroutine layer: the live goroutines (so shutdown
// can cancel them and report the ones that never end) and the count of
// pending timers. Owned by the runtime as an extension (runtime::extension);
// no process-global state. Internal to actors/src.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "rotina/detail/timer_service.hpp"
#include "rotina/detail/wait_queue.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

class goroutine_actor;

class goroutine_env final : public runtime_extension,
                            public std::enable_shared_from_this<goroutine_env> {
public:
  explicit goroutine_env(runtime& rt);

  /// The env of `rt`, created on first use (runtime::extension).
  static goroutine_env& of(runtime& rt);

  /// The env of `rt` if it exists, else null.
  static goroutine_env* find(runtime& rt) noexcept;

  runtime& rt() noexcept {
    return *rt_;
  }

  /// Links a goroutine that starts now (counted as live).
  void add(goroutine_actor* g);

  /// Unlinks and uncounts a goroutine that ended.
  void remove(goroutine_actor* g);

  /// Counts a goroutine that is queued but has no actor yet (a pending
  /// goroutine, goroutine.cpp) as live.
  void add_pending() noexcept {
    live_count_.fetch_add(1, std::memory_order_relaxed);
    pending_.fetch_add(1, std::memory_order_seq_cst);
  }

  /// A pending goroutine got its actor `g`: links it (already counted).
  void bind_pending(goroutine_actor* g);

  /// A pending goroutine that will never run (canceled, or dropped by the
  /// scheduler at shutdown): uncounts it.
  void drop_pending() noexcept {
    pending_.fetch_sub(1, std::memory_order_seq_cst);
    live_count_.fetch_sub(1, std::memory_order_relaxed);
  }

  /// Keeps the actor of a finished goroutine for reuse (Go's gfput). False
  /// if the pool is full or closed (canceled): then the actor quits.
  bool pool_put(goroutine_actor* g) noexcept;

  /// A kept actor to run a new goroutine on (Go's gfget), or null.
  goroutine_actor* pool_get() noexcept;

  /// Actors kept at most: a burst of finishing goroutines keeps this many
  /// (about 1.2 KB each), the rest end as before.
  static constexpr size_t pool_capacity = 1024;

  /// Number of live goroutines (Go's runtime.NumGoroutine), pending ones
  /// included.
  size_t live() const noexcept {
    return live_count_.load(std::memory_order_relaxed);
  }

  /// Schedules `e` on the runtime's timer service at `when` and counts it as
  /// live work until the entry calls timer_done(). Returns false (nothing
  /// counted) if the timer service was stopped.
  bool start_timer(std::shared_ptr<timer_entry> e,
                   timer_clock::time_point when);

  /// Ends the live work of one started timer.
  void timer_done();

  // -- runtime_extension ------------------------------------------------------

  /// Kills every live goroutine (runtime shutdown).
  void cancel() override;

  /// True if every live goroutine is parked and no timer is pending, twice in
  /// a row with no wake in between.
  bool idle() override;

  bool on_calling_thread() const noexcept override;

  void describe_running(std::string& out) override;

  /// True once cancel ran: goroutines that start later quit at once.
  bool canceled() const noexcept {
    return canceled_.load(std::memory_order_seq_cst);
  }

  /// One shard of the live-goroutine registry: an intrusive list under a
  /// spinlock. Spawning and ending goroutines spread over the shards, so the
  /// workers rarely meet on one lock.
  struct alignas(64) live_shard {
    spinlock lock;
    goroutine_actor* head = nullptr;
  };

  static constexpr size_t num_shards = 16;

private:
  template <class F>
  void for_each_live(F f);

  void link(goroutine_actor* g);

  uint64_t asleep_signature();

  runtime* rt_;
  live_shard shards_[num_shards];
  std::atomic<size_t> live_count_{0};
  /// Goroutines counted in live_count_ that have no actor yet (not linked).
  std::atomic<size_t> pending_{0};
  std::atomic<size_t> timers_pending_{0};
  std::atomic<bool> canceled_{false};
  // The pool of finished actors (guarded by pool_lock_). Each keeps its
  // self-reference (keep_alive_) while pooled; cancel() closes the pool and
  // kills them.
  alignas(64) spinlock pool_lock_;
  bool pool_closed_ = false;
  size_t pool_size_ = 0;
  goroutine_actor* pool_[pool_capacity];
};

} // namespace rotina::detail
