// rotina's default CAF scheduler ("rotina" policy).
//
// The coordinator and worker live in runtime/src/scheduler.cpp; see the
// comment at the top of that file (and docs/scheduler.md) for the invariants
// and the sleep/wake protocol. This header is all the rest of the runtime
// needs:
//
//   caf::actor_system_config cfg;
//   ... parse ...
//   if (policy == "rotina")             // the default
//     rotina::detail::load_rotina_scheduler(cfg);
//   caf::actor_system sys{cfg};         // picks up the module factory
//
// CAF 0.17.6 creates every module from cfg.module_factories first and only
// builds its own stealing/sharing coordinator when no scheduler module was
// loaded that way, so `scheduler.policy` is ignored once this was called.
// `scheduler.max-threads` and `scheduler.max-throughput` keep working: the
// coordinator reads them in abstract_coordinator::init.
#pragma once

#include <cstdint>

namespace caf {
class actor_system;
class actor_system_config;
} // namespace caf

namespace rotina::detail {

/// Registers the rotina scheduler as the scheduler module of every
/// actor_system later built from `cfg`. Idempotent: calling it twice on the
/// same config registers one factory.
void load_rotina_scheduler(caf::actor_system_config& cfg);

/// True if `sys` runs on the rotina scheduler.
bool uses_rotina_scheduler(caf::actor_system& sys);

/// True on a worker thread of a rotina scheduler (of any actor system).
bool on_rotina_worker() noexcept;

/// Counters of the slow paths of the rotina scheduler (relaxed, for tests,
/// benchmarks and diagnostics; the fast paths are not counted).
struct scheduler_stats {
  uint64_t wakeups = 0;     // notify calls on the parking condition variable
  uint64_t parks = 0;       // waits on it (deep or timed)
  uint64_t steals = 0;      // successful batch steals from another deque
  uint64_t stolen_jobs = 0; // jobs moved by those steals
  uint64_t next_steals = 0; // runnext slots taken from a stuck worker
};

/// Returns the counters of `sys`' rotina scheduler (all zero if `sys` does
/// not use it).
scheduler_stats rotina_scheduler_stats(caf::actor_system& sys);

} // namespace rotina::detail
