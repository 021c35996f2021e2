// The supervisor actor behind wait_group and errgroup: it monitors goroutine
// actors and reports each one's end (returned, threw, killed) to the group's
// shared state. Internal to rotina.
#pragma once

#include <cstddef>
#include <memory>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "rotina/error.hpp"

namespace rotina {
class runtime;
} // namespace rotina

namespace rotina::detail {

/// The shared state of a group, as its supervisor actor sees it.
class supervised {
public:
  virtual ~supervised() = default;

  /// A monitored goroutine actor ended. `outcome` is decoded from the down
  /// message's exit reason (empty: the body returned normally; errc::killed:
  /// the actor was killed or shut down; else the body's error or panic).
  /// `shutdown` is true when the runtime's shutdown killed it. Runs on the
  /// supervisor actor.
  virtual void on_down(caf::actor_id who, error outcome, bool shutdown) = 0;
};

/// Spawns a hidden supervisor actor that reports to `target`. The actor holds
/// `target` strongly; whoever holds the returned handle keeps the actor alive.
caf::actor spawn_supervisor(runtime& rt, std::shared_ptr<supervised> target);

/// Makes `sup` monitor `goroutine`: when the goroutine's actor ends, `sup`
/// receives a down message (at once if it already ended). Sends no message to
/// `sup` itself.
void supervise(const caf::actor& sup, const caf::actor& goroutine);

/// The strong handle of a group's supervisor, held only while the group has
/// monitored goroutines: that keeps the actor alive exactly as long as a down
/// message may still arrive (CAF ends an unreferenced actor even if it
/// monitors others), and lets it go away with the group afterwards.
/// Not thread-safe: call under the group's lock.
class supervisor_link {
public:
  /// Counts one more monitored goroutine and returns the supervisor, spawning
  /// it if none is alive.
  caf::actor acquire(runtime& rt, const std::shared_ptr<supervised>& target) {
    if (!sup_)
      sup_ = spawn_supervisor(rt, target);
    ++watched_;
    return sup_;
  }

  /// Counts one monitored goroutine as gone (a down message was handled).
  /// Returns the supervisor handle to drop outside the lock when it was the
  /// last one.
  caf::actor release() {
    if (watched_ > 0 && --watched_ == 0)
      return std::move(sup_);
    return {};
  }

  /// Returns the supervisor, if one is alive.
  const caf::actor& get() const noexcept {
    return sup_;
  }

private:
  caf::actor sup_;
  size_t watched_ = 0;
};

} // namespace rotina::detail
