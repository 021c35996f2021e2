// rotina scheduler v2: rotina's own coordinator and worker for CAF 0.17.6.
//
// Why: CAF 0.17's work-stealing policy steals with a queue walk (spawning N
// actors from one handler is O(N^2)) and polls/sleeps 50 us when idle (work
// from outside the pool waits); its sharing policy takes a mutex and may call
// futex wake on every enqueue. v1 was a policy for CAF's
// caf::scheduler::coordinator<Policy>; its worker loop
// (caf::scheduler::worker<Policy>::run, not customizable by a policy) costs
// per job a CAF_PUSH_AID_FROM_PTR(dynamic_cast<abstract_actor*>(job)): an RTTI
// cross-cast (__do_dyncast + strcmp of type names across shared objects) and
// two logger::thread_local_aid calls (shared spinlock + hash of the thread
// id), even in CAF builds with CAF_LOG_LEVEL_QUIET. v2 keeps v1's queues and
// protocol unchanged and replaces the coordinator and the worker loop (see
// docs/scheduler.md for the profile and numbers):
//   rotina_coordinator : caf::scheduler::abstract_coordinator
//                        start/stop/enqueue/clock, the shared counters
//   rotina_worker      : caf::execution_unit
//                        exec_later (runnext) and the run loop
// Worker loop: dequeue -> job->resume(this, max_throughput) -> resume_later:
// push to the own deque; done / awaiting_message: intrusive_ptr_release(job);
// shutdown_execution_unit: count as idle forever and return (exactly CAF's
// worker<Policy>::run minus the logger bookkeeping, see kWorkerLogger).
//
// Data per worker W:
//   next   -- W's "runnext" slot (one job, atomic pointer). exec_later() from
//             W's own thread (a message to an idle actor, a spawn, a goroutine
//             wake) puts the job here; the previous occupant moves to the back
//             of W's deque.
//   queue  -- W's deque: a ring buffer of resumable* behind a small spinlock,
//             with an atomic mirror of its length (`size`) for lock-free
//             emptiness checks. O(1) amortized at both ends.
//   resumes-- number of jobs W started (written by W only).
// Global (rotina_coordinator): mutex `mtx` + condition variable `cv` +
// `tokens` (pending wake-ups, guarded by mtx), and the atomic counters
// `spinning` (workers searching for work, not parked), `sleepers` (workers
// registered in park(), light or deep), `deep` (sleepers waiting without
// timeout), `idle` (workers parked or exited).
//
// Invariants
//   I1  A job is in exactly one place: one next slot, one deque, or being run.
//       Every transfer is an atomic exchange/CAS on `next` or happens under
//       the deque's spinlock, so no job is run twice or lost.
//   I2  Only W writes a non-null value into W.next (exec_later is called by
//       CAF and by the goroutine layer only from the worker's own thread). W
//       empties its own next slot before it searches or parks, so a non-null
//       next means W is busy.
//   I3  Deques are FIFO: every push goes to the back (kicked next jobs,
//       external/central jobs, resume_later); the owner pops the front;
//       thieves take up to half (max 32) from the back. After kMaxNextStreak
//       consecutive runs from the next slot the owner serves its deque front
//       first, so a ping-ponging pair cannot starve the deque.
//   I4  Thieves never take a next slot that is moving. A searching worker
//       snapshots (next, resumes) of every victim when it starts spinning and
//       steals a next slot (CAS old->nullptr) only if both are unchanged when
//       the spin ends (>= kSpinTime later): the victim is stuck in one long
//       job. So ping-pong stays on one core (like Go's runnext) and a stuck
//       runnext job still runs elsewhere (no deadlock behind a long handler).
//   I5  stop() drains the next slot and the deque of every worker after all
//       workers were joined, with cleanup_and_release, until a full pass finds
//       nothing (cleanup can make other actors runnable); an enqueue that
//       races with or follows stop() drains the deque it pushed to itself
//       (`stopped_`, Dekker-style on seq_cst size/flag), so nothing leaks.
//
// Sleep/wake protocol (all counter ops and `size` stores/loads below are
// seq_cst, so they are in one total order S).
//   Stealable push (deque push_back):   size.store; if spinning==0 &&
//                                       sleepers>0: wake_one().
//   Next-slot push (next was empty):     next.exchange; if spinning==0 &&
//                                       deep>0: wake_one().
//   Park (worker found nothing after spinning kSpinTime), under mtx:
//       spinning--; sleepers++; idle++;
//       if any deque size>0: do not wait (retry search).
//       else if idle==num_workers: deep++, then if any next slot is
//            non-null: deep-- (light sleep instead);
//       wait on cv for tokens>0, without timeout if deep, else with a timeout
//            (100 us doubling to 2 ms while nothing is found);
//       on leaving: if tokens>0 take one (the waker already counted us in
//       `spinning`), else spinning++ ourselves; sleepers--; idle--; deep--.
//   wake_one(), under mtx: if tokens < sleepers: tokens++, spinning++,
//       notify_one.
//   No lost wake-up: a parking worker increments `sleepers` (and `deep`)
//   before it reads the deque sizes (next slots); an enqueuer writes the size
//   (next slot) before it reads `spinning`/`sleepers` (`deep`). In S either
//   the parker's read comes after the enqueuer's write (it sees the job and
//   does not sleep), or the enqueuer's read comes after the parker's
//   increment (it wakes someone). If the enqueuer saw spinning>0 instead, the
//   spinner's `spinning--` comes later in S than that read, so its park-time
//   check sees the job. A token, once granted under mtx, is consumed by the
//   next waiter that checks the predicate, so a notify cannot fall between a
//   waiter's check and its wait. Light sleepers (some worker is busy) wake by
//   timeout and search again; they are the "watchers" that take a stuck next
//   slot (I4) without costing the busy worker a futex call per message.
//   Cost when busy: a push does one seq_cst store and two loads of read-mostly
//   lines; a futex wake happens only when no worker is spinning and someone
//   is parked (per idle->busy transition, not per message).
//   When a spinner finds work and it was the last spinner while stealable
//   work remains and someone sleeps, it wakes one more worker (spreads bursts).
//   Shutdown: a worker that runs the shutdown helper counts itself as idle
//   forever, so the remaining ones can still deep-sleep; stop()'s shutdown
//   helper is an ordinary external push.

#include "rotina/detail/scheduler.hpp"

#include <condition_variable>
#include <mutex>
#include <set>

#include "rotina_coordinator.hpp"

namespace rotina::detail::sched {

/// Sent to the workers by stop(): the worker that runs it exits its loop and
/// reports itself (the same helper as caf::scheduler::coordinator's).
class shutdown_helper final : public resumable, public caf::ref_counted {
public:
  resume_result resume(caf::execution_unit* ptr, size_t) override {
    std::unique_lock<std::mutex> guard{mtx};
    last_worker = ptr;
    cv.notify_all();
    return resumable::shutdown_execution_unit;
  }

  void intrusive_ptr_add_ref_impl() override {
    intrusive_ptr_add_ref(this);
  }

  void intrusive_ptr_release_impl() override {
    intrusive_ptr_release(this);
  }

  std::mutex mtx;
  std::condition_variable cv;
  caf::execution_unit* last_worker = nullptr;
};

void rotina_coordinator::stop() {
  // 1. Shut the workers down one by one. A helper may be stolen, so track
  //    which worker actually ran it. Workers never release it (as in CAF),
  //    hence one reference per worker on top of the initial one.
  shutdown_helper sh;
  std::set<caf::execution_unit*> alive;
  for (auto& w : workers_) {
    alive.insert(w.get());
    sh.ref();
  }
  while (!alive.empty()) {
    auto w = static_cast<rotina_worker*>(*alive.begin());
    push_stealable(*w, &sh);
    {
      std::unique_lock<std::mutex> guard{sh.mtx};
      sh.cv.wait(guard, [&] { return sh.last_worker != nullptr; });
    }
    alive.erase(sh.last_worker);
    sh.last_worker = nullptr;
  }
  // 2. Utility actors (the printer runs on its own thread).
  stop_actors();
  // 3. Join, then clean up whatever is still queued (I5). The clock keeps
  //    dispatching meanwhile: cleanup calls clock().cancel_timeouts.
  for (auto& w : workers_)
    w->thread().join();
  stopped_.store(true, std::memory_order_seq_cst);
  for (size_t found = 1; found > 0;) {
    found = 0;
    for (auto& w : workers_)
      found += drain(*w);
  }
  // 4. The clock thread.
  clock_.cancel_dispatch_loop();
  timer_.join();
}

rotina_coordinator* rotina_sched(caf::actor_system& sys) {
  return dynamic_cast<rotina_coordinator*>(&sys.scheduler());
}

} // namespace rotina::detail::sched

namespace rotina::detail {

using sched::rotina_coordinator;
using sched::rotina_sched;

void load_rotina_scheduler(caf::actor_system_config& cfg) {
  using fn_ptr = caf::actor_system::module* (*)(caf::actor_system&);
  for (auto& f : cfg.module_factories) {
    auto t = f.target<fn_ptr>();
    if (t != nullptr && *t == &rotina_coordinator::make)
      return;
  }
  cfg.module_factories.emplace_back(fn_ptr{&rotina_coordinator::make});
}

bool uses_rotina_scheduler(caf::actor_system& sys) {
  return rotina_sched(sys) != nullptr;
}

scheduler_stats rotina_scheduler_stats(caf::actor_system& sys) {
  scheduler_stats res;
  if (auto c = rotina_sched(sys)) {
    auto get = [](const std::atomic<uint64_t>& x) {
      return x.load(std::memory_order_relaxed);
    };
    res.wakeups = get(c->wakeups);
    res.parks = get(c->parks);
    res.steals = get(c->steals);
    res.stolen_jobs = get(c->stolen_jobs);
    res.next_steals = get(c->next_steals);
  }
  return res;
}

} // namespace rotina::detail
