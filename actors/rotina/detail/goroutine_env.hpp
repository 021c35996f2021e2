// Per-runtime state of the goroutine layer: the live goroutines (so shutdown
// can cancel them) and the timer actor. Internal to actors/src.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "rotina/detail/wait_queue.hpp"

namespace rotina {
class runtime;
} // namespace rotina

namespace rotina::detail {

class goroutine_actor;

/// Something a timer does when it fires, on the timer actor.
class timer_job {
public:
  virtual ~timer_job() = default;

  /// Runs when the delay passed. Returns the delay until it wants to run
  /// again, or a negative duration when it is done. A job ends its live work
  /// itself (goroutine_env::timer_done) when it fired for the last time or
  /// was stopped.
  virtual std::chrono::nanoseconds fire() = 0;
};

class goroutine_env : public std::enable_shared_from_this<goroutine_env> {
public:
  explicit goroutine_env(runtime& rt);

  /// The env of `rt`, created on first use. Registers the cancel hook.
  static std::shared_ptr<goroutine_env> of(runtime& rt);

  runtime& rt() noexcept {
    return *rt_;
  }

  caf::actor_system& sys() noexcept {
    return *sys_;
  }

  void add(goroutine_actor* g);

  void remove(goroutine_actor* g);

  /// Schedules `job` to fire after `delay` on the timer actor. Counts as live
  /// work until the job reports that it is done.
  void schedule(std::shared_ptr<timer_job> job, std::chrono::nanoseconds delay);

  /// Ends the live work of one scheduled timer job.
  void timer_done();

  /// True if every live goroutine is parked and no timer is pending, twice in
  /// a row with no wake in between (see runtime::on_idle_check).
  bool idle();

  /// Kills every live goroutine and the timer actor (runtime shutdown).
  void cancel_all();

  /// True once cancel_all ran: goroutines that start later quit at once.
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

  runtime* rt_;
  caf::actor_system* sys_;
  std::mutex mtx_;
  live_shard shards_[num_shards];
  caf::actor timers_;
  std::atomic<size_t> timers_pending_{0};
  std::atomic<bool> canceled_{false};

  uint64_t asleep_signature();
};

} // namespace rotina::detail
