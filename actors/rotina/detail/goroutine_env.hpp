// Per-runtime state of the goroutine layer: the live goroutines (so shutdown
// can cancel them) and the timer actor. Internal to actors/src.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

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

private:
  runtime* rt_;
  caf::actor_system* sys_;
  std::mutex mtx_;
  std::unordered_set<goroutine_actor*> live_;
  caf::actor timers_;
  std::atomic<size_t> timers_pending_{0};
  bool canceled_ = false;

  uint64_t asleep_signature();
};

} // namespace rotina::detail
