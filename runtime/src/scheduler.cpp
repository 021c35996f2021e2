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

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#endif

#include "caf/abstract_actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/detail/set_thread_name.hpp"
#include "caf/detail/thread_safe_actor_clock.hpp"
#include "caf/execution_unit.hpp"
#include "caf/logger.hpp"
#include "caf/ref_counted.hpp"
#include "caf/resumable.hpp"
#include "caf/scheduled_actor.hpp"
#include "caf/scheduler/abstract_coordinator.hpp"

namespace rotina::detail {

namespace {

thread_local bool tl_on_worker = false;

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

// -- deque -------------------------------------------------------------------

/// Growable ring buffer of jobs behind a spin_lock.
class job_deque {
public:
  static constexpr size_t initial_capacity = 256;
  /// An emptied buffer larger than this is given back (after a spawn burst).
  static constexpr size_t shrink_above = size_t{1} << 16;

  job_deque() : buf_(new resumable*[initial_capacity]), cap_(initial_capacity) {
    // nop
  }

  job_deque(const job_deque&) = delete;
  job_deque& operator=(const job_deque&) = delete;

  /// Length as last published (seq_cst after pushes; see protocol above).
  size_t size(std::memory_order mo = std::memory_order_seq_cst) const noexcept {
    return size_.load(mo);
  }

  /// Appends `n` jobs. Publishes the new length with a seq_cst store.
  void push_back(resumable* const* jobs, size_t n) {
    std::unique_ptr<resumable*[]> old;
    {
      std::lock_guard<spin_lock> guard{lock_};
      if (count_ + n > cap_)
        old = grow(count_ + n);
      for (size_t i = 0; i < n; ++i)
        buf_[(head_ + count_ + i) & (cap_ - 1)] = jobs[i];
      count_ += n;
      size_.store(count_, std::memory_order_seq_cst);
    }
  }

  void push_back(resumable* job) {
    push_back(&job, 1);
  }

  /// Removes the oldest job (owner side). stop()'s drain reads the length
  /// with `mo` = seq_cst (I5).
  resumable* pop_front(std::memory_order mo = std::memory_order_relaxed) {
    if (size_.load(mo) == 0)
      return nullptr;
    std::unique_ptr<resumable*[]> old;
    resumable* job = nullptr;
    {
      std::lock_guard<spin_lock> guard{lock_};
      if (count_ == 0)
        return nullptr;
      job = buf_[head_];
      head_ = (head_ + 1) & (cap_ - 1);
      --count_;
      size_.store(count_, std::memory_order_release);
      if (count_ == 0 && cap_ > shrink_above)
        old = reset_buffer();
    }
    return job;
  }

  /// Moves up to half of the jobs (at most `max`) from the back into `out`,
  /// oldest first. Returns how many.
  size_t steal_back(resumable** out, size_t max) {
    if (size_.load(std::memory_order_relaxed) == 0)
      return 0;
    std::lock_guard<spin_lock> guard{lock_};
    auto n = std::min((count_ + 1) / 2, max);
    auto first = head_ + count_ - n;
    for (size_t i = 0; i < n; ++i)
      out[i] = buf_[(first + i) & (cap_ - 1)];
    count_ -= n;
    size_.store(count_, std::memory_order_release);
    return n;
  }

private:
  // Both return the old buffer so that it is freed after unlocking.
  std::unique_ptr<resumable* []> grow(size_t min_cap) {
    auto cap = cap_;
    while (cap < min_cap)
      cap *= 2;
    std::unique_ptr<resumable* []> buf { new resumable*[cap] };
    for (size_t i = 0; i < count_; ++i)
      buf[i] = buf_[(head_ + i) & (cap_ - 1)];
    buf.swap(buf_);
    cap_ = cap;
    head_ = 0;
    return buf;
  }

  std::unique_ptr<resumable* []> reset_buffer() {
    std::unique_ptr<resumable* []> buf { new resumable*[initial_capacity] };
    buf.swap(buf_);
    cap_ = initial_capacity;
    head_ = 0;
    return buf;
  }

  spin_lock lock_;
  std::unique_ptr<resumable*[]> buf_; // guarded by lock_
  size_t cap_;                        // power of two, guarded by lock_
  size_t head_ = 0;                   // guarded by lock_
  size_t count_ = 0;                  // guarded by lock_
  std::atomic<size_t> size_{0};       // mirror of count_
};

/// The actor clock of the rotina coordinator. CAF 0.17.6 calls
/// clock().cancel_timeouts(self) in every local_actor::cleanup, and
/// thread_safe_actor_clock implements it by pushing an event through a
/// 64-slot ring buffer (mutex + condition variable) to the clock thread:
/// every terminating actor takes that mutex, usually wakes the clock thread
/// (futex), and blocks once 64 events are pending. Only actors that ever set
/// an ordinary/multi/request timeout can have entries to cancel, so this clock
/// remembers their ids (sharded sets) and forwards cancel_timeouts for those
/// only. All other operations are CAF's.
class rotina_clock : public caf::detail::thread_safe_actor_clock {
public:
  using super = caf::detail::thread_safe_actor_clock;

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_ordinary_timeout(t, self, type, id);
  }

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override {
    note(self);
    super::set_request_timeout(t, self, id);
  }

  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_multi_timeout(t, self, type, id);
  }

  void cancel_timeouts(caf::abstract_actor* self) override {
    auto& s = shard_of(self);
    size_t had;
    {
      std::lock_guard<spin_lock> guard{s.lock};
      had = s.ids.erase(self->id());
    }
    if (had > 0)
      super::cancel_timeouts(self);
  }

private:
  struct alignas(64) shard {
    spin_lock lock;
    std::unordered_set<caf::actor_id> ids;
  };

  shard& shard_of(caf::abstract_actor* self) {
    return shards_[self->id() % shards_.size()];
  }

  void note(caf::abstract_actor* self) {
    auto& s = shard_of(self);
    std::lock_guard<spin_lock> guard{s.lock};
    s.ids.insert(self->id());
  }

  std::array<shard, 16> shards_;
};

// -- worker and coordinator ---------------------------------------------------

class rotina_coordinator;

/// One scheduler thread. Derives from caf::execution_unit only (no
/// caf::scheduler::worker): CAF calls exec_later() and reads system() and
/// proxy_registry_ptr(); nothing in CAF 0.17.6 casts an execution_unit to
/// its worker type.
class rotina_worker final : public caf::execution_unit {
public:
  rotina_worker(size_t id, rotina_coordinator* parent, size_t max_throughput);

  rotina_worker(const rotina_worker&) = delete;
  rotina_worker& operator=(const rotina_worker&) = delete;

  void start();

  /// Runnext: called by CAF (spawn, message to an idle actor) and by the
  /// goroutine layer (wake) from this worker's own thread only (I2).
  void exec_later(resumable* job) override;

  std::thread& thread() noexcept {
    return thread_;
  }

  size_t id() const noexcept {
    return id_;
  }

  // -- state read by other workers and the coordinator -----------------------

  job_deque queue;
  // Written by the owner on every resume / exec_later, read by thieves.
  alignas(64) std::atomic<resumable*> next{nullptr};
  std::atomic<uint64_t> resumes{0};

private:
  void run();
  resumable* dequeue();
  resumable* take_next() noexcept;
  resumable* steal();
  resumable* search();
  resumable* find_work();
  void park();
  uint64_t next_random() noexcept;

  // -- owner-only state ------------------------------------------------------

  alignas(64) uint32_t next_streak_ = 0;
  uint64_t rng_;
  std::chrono::microseconds light_timeout_ = kLightMin;
  struct snapshot {
    resumable* next;
    uint64_t resumes;
  };
  std::vector<snapshot> snap_;
  rotina_coordinator* parent_;
  size_t id_;
  size_t max_throughput_;
  std::thread thread_;
};

/// The scheduler module we install: creates the workers and the clock
/// thread, routes jobs from outside the pool (round robin onto the worker
/// deques), and shuts everything down like caf::scheduler::coordinator.
class rotina_coordinator final : public caf::scheduler::abstract_coordinator {
public:
  using super = caf::scheduler::abstract_coordinator;

  explicit rotina_coordinator(caf::actor_system& sys) : super(sys) {
    // nop
  }

  static caf::actor_system::module* make(caf::actor_system& sys) {
    return new rotina_coordinator(sys);
  }

  void init(caf::actor_system_config& cfg) override {
    super::init(cfg); // reads scheduler.max-threads / max-throughput
    if (num_workers_ == 0)
      num_workers_ = 1; // max-threads=0 would divide by zero in enqueue
  }

  void start() override {
    auto n = num_workers();
    workers_.reserve(n);
    for (size_t i = 0; i < n; ++i)
      workers_.emplace_back(new rotina_worker(i, this, max_throughput_));
    for (auto& w : workers_)
      w->start();
    // Timeouts and delayed messages.
    timer_ = std::thread{[this] {
      CAF_SET_LOGGER_SYS(&system());
      caf::detail::set_thread_name("caf.clock");
      system().thread_started();
      clock_.run_dispatch_loop();
      system().thread_terminates();
    }};
    super::start(); // spawns the (detached) printer utility actor
  }

  void stop() override;

  /// From outside the pool: a non-actor thread, a detached actor, the clock.
  void enqueue(resumable* job) override {
    auto i
      = next_worker_.fetch_add(1, std::memory_order_relaxed) % workers_.size();
    push_stealable(*workers_[i], job);
  }

  rotina_clock& clock() noexcept override {
    return clock_;
  }

  // -- used by the workers ---------------------------------------------------

  rotina_worker& worker(size_t i) noexcept {
    return *workers_[i];
  }

  /// Appends `job` to the back of `w`'s deque and wakes a parked worker if
  /// nobody is searching (protocol at the top).
  void push_stealable(rotina_worker& w, resumable* job) {
    w.queue.push_back(job);
    if (spinning.load(std::memory_order_seq_cst) == 0
        && sleepers.load(std::memory_order_seq_cst) > 0)
      wake_one();
    if (stopped_.load(std::memory_order_seq_cst))
      drain(w); // I5: stop() may have drained this deque already
  }

  void wake_one() {
    std::lock_guard<std::mutex> guard{mtx};
    if (tokens >= sleepers.load(std::memory_order_relaxed))
      return; // every registered sleeper already has a pending wake-up
    ++tokens;
    spinning.fetch_add(1, std::memory_order_seq_cst);
    wakeups.fetch_add(1, std::memory_order_relaxed);
    cv.notify_one();
  }

  bool any_stealable() const noexcept {
    for (auto& w : workers_)
      if (w->queue.size() > 0)
        return true;
    return false;
  }

  bool any_next() const noexcept {
    for (auto& w : workers_)
      if (w->next.load(std::memory_order_seq_cst) != nullptr)
        return true;
    return false;
  }

  // -- shared state (protocol at the top) ------------------------------------

  alignas(64) std::atomic<int> spinning{0};
  std::atomic<int> sleepers{0};
  std::atomic<int> deep{0};
  std::atomic<size_t> idle{0};
  alignas(64) std::mutex mtx;
  std::condition_variable cv;
  int tokens = 0; // guarded by mtx
  // slow-path statistics (relaxed)
  alignas(64) std::atomic<uint64_t> wakeups{0};
  std::atomic<uint64_t> parks{0};
  std::atomic<uint64_t> steals{0};
  std::atomic<uint64_t> stolen_jobs{0};
  std::atomic<uint64_t> next_steals{0};

private:
  /// Runs cleanup_and_release on every job left in `w`; returns how many.
  static size_t drain(rotina_worker& w) {
    size_t n = 0;
    if (auto job = w.next.exchange(nullptr, std::memory_order_seq_cst)) {
      cleanup_and_release(job);
      ++n;
    }
    while (auto job = w.queue.pop_front(std::memory_order_seq_cst)) {
      cleanup_and_release(job);
      ++n;
    }
    return n;
  }

  std::vector<std::unique_ptr<rotina_worker>> workers_;
  rotina_clock clock_;
  std::thread timer_;
  alignas(64) std::atomic<bool> stopped_{false};
};

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

// -- rotina_worker ------------------------------------------------------------

rotina_worker::rotina_worker(size_t id, rotina_coordinator* parent,
                             size_t max_throughput)
  : caf::execution_unit(&parent->system()),
    rng_(0x9E3779B97F4A7C15ull * (id + 1)), parent_(parent), id_(id),
    max_throughput_(max_throughput) {
  // nop
}

void rotina_worker::start() {
  thread_ = std::thread{[this] {
    if constexpr (kWorkerLogger)
      CAF_SET_LOGGER_SYS(&system());
    caf::detail::set_thread_name("rotina.worker");
    tl_on_worker = true;
    system().thread_started();
    run();
    system().thread_terminates();
  }};
}

void rotina_worker::run() {
  for (;;) {
    auto job = dequeue();
    resumes.store(resumes.load(std::memory_order_relaxed) + 1,
                  std::memory_order_relaxed);
    resumable::resume_result res;
    if constexpr (kWorkerLogger) {
      // As caf::scheduler::worker, but without the RTTI cross-cast.
      caf::abstract_actor* aptr = nullptr;
      auto st = job->subtype();
      if (st == resumable::scheduled_actor || st == resumable::io_actor)
        aptr = static_cast<caf::scheduled_actor*>(job);
      CAF_PUSH_AID(aptr != nullptr ? aptr->id() : 0);
      res = job->resume(this, max_throughput_);
    } else {
      res = job->resume(this, max_throughput_);
    }
    switch (res) {
    case resumable::resume_later:
      // keep the reference: the job stays in the loop
      parent_->push_stealable(*this, job);
      break;
    case resumable::done:
    case resumable::awaiting_message:
      // the job gets a new reference when it is enqueued again
      intrusive_ptr_release(job);
      break;
    case resumable::shutdown_execution_unit:
      // counted as idle from now on, so the others can still deep-sleep
      parent_->idle.fetch_add(1, std::memory_order_seq_cst);
      return;
    }
  }
}

void rotina_worker::exec_later(resumable* job) {
  auto old = next.exchange(job, std::memory_order_seq_cst);
  auto& p = *parent_;
  if (old != nullptr) {
    p.push_stealable(*this, old);
    return;
  }
  if (p.spinning.load(std::memory_order_seq_cst) == 0
      && p.deep.load(std::memory_order_seq_cst) > 0)
    p.wake_one();
}

resumable* rotina_worker::take_next() noexcept {
  if (next.load(std::memory_order_relaxed) == nullptr)
    return nullptr;
  return next.exchange(nullptr, std::memory_order_acq_rel);
}

resumable* rotina_worker::dequeue() {
  if (next_streak_ < kMaxNextStreak) {
    if (auto job = take_next()) {
      ++next_streak_;
      return job;
    }
  }
  next_streak_ = 0;
  if (auto job = queue.pop_front())
    return job;
  if (auto job = take_next())
    return job;
  return find_work();
}

uint64_t rotina_worker::next_random() noexcept {
  auto x = rng_;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  rng_ = x;
  return x;
}

/// Steals a batch from the back of another worker's deque: returns the
/// oldest stolen job and appends the rest to the own deque.
resumable* rotina_worker::steal() {
  auto n = parent_->num_workers();
  if (n < 2)
    return nullptr;
  auto start = static_cast<size_t>(next_random() % n);
  resumable* batch[kStealBatch];
  for (size_t k = 0; k < n; ++k) {
    auto v = (start + k) % n;
    if (v == id_)
      continue;
    auto got = parent_->worker(v).queue.steal_back(batch, kStealBatch);
    if (got == 0)
      continue;
    if (got > 1)
      queue.push_back(batch + 1, got - 1);
    parent_->steals.fetch_add(1, std::memory_order_relaxed);
    parent_->stolen_jobs.fetch_add(got, std::memory_order_relaxed);
    return batch[0];
  }
  return nullptr;
}

/// Spins for kSpinTime looking for work; at the end takes the next slot of
/// a worker that did not start any job meanwhile (I4).
resumable* rotina_worker::search() {
  auto& p = *parent_;
  auto n = p.num_workers();
  snap_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto& v = p.worker(i);
    snap_[i].resumes = v.resumes.load(std::memory_order_acquire);
    snap_[i].next = v.next.load(std::memory_order_acquire);
  }
  auto deadline = steady::now() + kSpinTime;
  for (;;) {
    if (auto job = queue.pop_front())
      return job;
    if (auto job = take_next())
      return job;
    if (auto job = steal())
      return job;
    if (steady::now() >= deadline)
      break;
    for (int i = 0; i < 16; ++i)
      cpu_relax();
  }
  for (size_t i = 0; i < n; ++i) {
    if (i == id_ || snap_[i].next == nullptr)
      continue;
    auto& v = p.worker(i);
    if (v.resumes.load(std::memory_order_acquire) != snap_[i].resumes)
      continue;
    auto expected = snap_[i].next;
    if (v.next.compare_exchange_strong(expected, nullptr,
                                       std::memory_order_acq_rel)) {
      p.next_steals.fetch_add(1, std::memory_order_relaxed);
      return snap_[i].next;
    }
  }
  return nullptr;
}

resumable* rotina_worker::find_work() {
  auto& p = *parent_;
  p.spinning.fetch_add(1, std::memory_order_seq_cst);
  for (;;) {
    if (auto job = search()) {
      light_timeout_ = kLightMin;
      if (p.spinning.fetch_sub(1, std::memory_order_seq_cst) == 1
          && p.sleepers.load(std::memory_order_seq_cst) > 0
          && p.any_stealable())
        p.wake_one();
      return job;
    }
    park();
  }
}

/// Registers as sleeper, re-checks, waits. Returns counted as spinning.
void rotina_worker::park() {
  auto& p = *parent_;
  std::unique_lock<std::mutex> guard{p.mtx};
  p.spinning.fetch_sub(1, std::memory_order_seq_cst);
  p.sleepers.fetch_add(1, std::memory_order_seq_cst);
  auto idle_now = p.idle.fetch_add(1, std::memory_order_seq_cst) + 1;
  bool deep = false;
  if (!p.any_stealable()) {
    if (idle_now >= p.num_workers()) {
      p.deep.fetch_add(1, std::memory_order_seq_cst);
      deep = true;
      if (p.any_next()) {
        p.deep.fetch_sub(1, std::memory_order_seq_cst);
        deep = false;
      }
    }
    p.parks.fetch_add(1, std::memory_order_relaxed);
    auto has_token = [&] { return p.tokens > 0; };
    if (deep) {
      p.cv.wait(guard, has_token);
    } else if (!p.cv.wait_for(guard, light_timeout_, has_token)) {
      light_timeout_ = std::min(light_timeout_ * 2, kLightMax);
    }
  }
  if (p.tokens > 0)
    --p.tokens; // the waker already counted us in `spinning`
  else
    p.spinning.fetch_add(1, std::memory_order_seq_cst);
  if (deep)
    p.deep.fetch_sub(1, std::memory_order_seq_cst);
  p.idle.fetch_sub(1, std::memory_order_seq_cst);
  p.sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

rotina_coordinator* rotina_sched(caf::actor_system& sys) {
  return dynamic_cast<rotina_coordinator*>(&sys.scheduler());
}

} // namespace

void load_rotina_scheduler(caf::actor_system_config& cfg) {
  using fn_ptr = caf::actor_system::module* (*)(caf::actor_system&);
  for (auto& f : cfg.module_factories) {
    auto t = f.target<fn_ptr>();
    if (t != nullptr && *t == &rotina_coordinator::make)
      return;
  }
  cfg.module_factories.emplace_back(fn_ptr{&rotina_coordinator::make});
}

bool on_rotina_worker() noexcept {
  return tl_on_worker;
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
