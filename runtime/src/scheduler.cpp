// rotina scheduler: a caf::scheduler::coordinator<rotina_policy> for CAF 0.17.6.
//
// Why: CAF 0.17's work-stealing policy steals with a queue walk (spawning N
// actors from one handler is O(N^2)) and polls/sleeps 50 us when idle (work
// from outside the pool waits); its sharing policy takes a mutex and may call
// futex wake on every enqueue. See docs/scheduler.md for numbers.
//
// Data per worker W (worker_data):
//   next   -- W's "runnext" slot (one job, atomic pointer). exec_later() from
//             W's own thread (a message to an idle actor, a spawn) puts the job
//             here; the previous occupant moves to the back of W's deque.
//   queue  -- W's deque: a ring buffer of resumable* behind a small spinlock,
//             with an atomic mirror of its length (`size`) for lock-free
//             emptiness checks. O(1) amortized at both ends.
//   resumes-- number of jobs W started (written by W only).
// Global (coordinator_data): mutex `mtx` + condition variable `cv` + `tokens`
// (pending wake-ups, guarded by mtx), and the atomic counters `spinning`
// (workers searching for work, not parked), `sleepers` (workers registered in
// park(), light or deep), `deep` (sleepers waiting without timeout), `idle`
// (workers parked or exited).
//
// Invariants
//   I1  A job is in exactly one place: one next slot, one deque, or being run.
//       Every transfer is an atomic exchange/CAS on `next` or happens under
//       the deque's spinlock, so no job is run twice or lost.
//   I2  Only W writes a non-null value into W.next (exec_later is called by
//       CAF only from the worker's own thread). W empties its own next slot
//       before it searches or parks, so a non-null next means W is busy.
//   I3  Deques are FIFO: every push goes to the back (kicked next jobs,
//       external/central jobs, resume_job_later); the owner pops the front;
//       thieves take up to half (max 32) from the back. After kMaxNextStreak
//       consecutive runs from the next slot the owner serves its deque front
//       first, so a ping-ponging pair cannot starve the deque.
//   I4  Thieves never take a next slot that is moving. A searching worker
//       snapshots (next, resumes) of every victim when it starts spinning and
//       steals a next slot (CAS old->nullptr) only if both are unchanged when
//       the spin ends (>= kSpinTime later): the victim is stuck in one long
//       job. So ping-pong stays on one core (like Go's runnext) and a stuck
//       runnext job still runs elsewhere (no deadlock behind a long handler).
//   I5  foreach_resumable (called by coordinator::stop after all workers were
//       joined) drains next slot and deque of each worker; nothing leaks.
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
//   Shutdown: before_shutdown counts the exiting worker as idle forever, so
//   the remaining ones can still deep-sleep; coordinator::stop's shutdown
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
#include <thread>
#include <unordered_set>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#endif

#include "caf/actor_system.hpp"
#include "caf/abstract_actor.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/detail/set_thread_name.hpp"
#include "caf/detail/thread_safe_actor_clock.hpp"
#include "caf/policy/unprofiled.hpp"
#include "caf/resumable.hpp"
#include "caf/scheduler/abstract_coordinator.hpp"
#include "caf/scheduler/coordinator.hpp"

namespace rotina::detail {

namespace {

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

  /// Removes the oldest job (owner side).
  resumable* pop_front() {
    if (size_.load(std::memory_order_relaxed) == 0)
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
  std::unique_ptr<resumable*[]> grow(size_t min_cap) {
    auto cap = cap_;
    while (cap < min_cap)
      cap *= 2;
    std::unique_ptr<resumable*[]> buf{new resumable*[cap]};
    for (size_t i = 0; i < count_; ++i)
      buf[i] = buf_[(head_ + i) & (cap_ - 1)];
    buf.swap(buf_);
    cap_ = cap;
    head_ = 0;
    return buf;
  }

  std::unique_ptr<resumable*[]> reset_buffer() {
    std::unique_ptr<resumable*[]> buf{new resumable*[initial_capacity]};
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

// -- the policy ----------------------------------------------------------------

class rotina_policy : public caf::policy::unprofiled {
public:
  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {
      // nop
    }

    alignas(64) std::atomic<size_t> next_worker{0};
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
  };

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {
      // nop
    }

    // coordinator::start copies one prototype into every worker: give each
    // its own fresh state.
    worker_data(const worker_data&) : worker_data(nullptr) {
      // nop
    }

    job_deque queue;
    // Written by the owner on every resume / exec_later, read by thieves.
    alignas(64) std::atomic<resumable*> next{nullptr};
    std::atomic<uint64_t> resumes{0};
    // Owner-only state.
    alignas(64) uint32_t next_streak = 0;
    uint64_t rng = 0;
    std::chrono::microseconds light_timeout = kLightMin;
    struct snapshot {
      resumable* next;
      uint64_t resumes;
    };
    std::vector<snapshot> snap;
  };

  // -- CAF customization points ----------------------------------------------

  template <class Coordinator>
  void central_enqueue(Coordinator* self, resumable* job) {
    auto n = self->num_workers();
    auto i = d(self).next_worker.fetch_add(1, std::memory_order_relaxed) % n;
    push_stealable(self, self->worker_by_id(i), job);
  }

  template <class Worker>
  void external_enqueue(Worker* self, resumable* job) {
    push_stealable(self->parent(), self, job);
  }

  template <class Worker>
  void internal_enqueue(Worker* self, resumable* job) {
    auto old = d(self).next.exchange(job, std::memory_order_seq_cst);
    auto p = self->parent();
    if (old != nullptr) {
      push_stealable(p, self, old);
      return;
    }
    auto& cd = d(p);
    if (cd.spinning.load(std::memory_order_seq_cst) == 0
        && cd.deep.load(std::memory_order_seq_cst) > 0)
      wake_one(p);
  }

  template <class Worker>
  void resume_job_later(Worker* self, resumable* job) {
    push_stealable(self->parent(), self, job);
  }

  template <class Worker>
  void before_resume(Worker* self, resumable*) {
    auto& r = d(self).resumes;
    r.store(r.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  template <class Worker>
  void before_shutdown(Worker* self) {
    d(self->parent()).idle.fetch_add(1, std::memory_order_seq_cst);
  }

  template <class Worker>
  resumable* dequeue(Worker* self) {
    auto& wd = d(self);
    if (wd.next_streak < kMaxNextStreak) {
      if (auto job = take_next(wd)) {
        ++wd.next_streak;
        return job;
      }
    }
    wd.next_streak = 0;
    if (auto job = wd.queue.pop_front())
      return job;
    if (auto job = take_next(wd))
      return job;
    return find_work(self);
  }

  template <class Worker, class UnaryFunction>
  void foreach_resumable(Worker* self, UnaryFunction f) {
    auto& wd = d(self);
    if (auto job = wd.next.exchange(nullptr, std::memory_order_acq_rel))
      f(job);
    while (auto job = wd.queue.pop_front())
      f(job);
  }

  template <class Coordinator, class UnaryFunction>
  void foreach_central_resumable(Coordinator*, UnaryFunction) {
    // nop: there is no central queue, central_enqueue uses worker deques
  }

private:
  template <class Coordinator>
  static typename Coordinator::worker_type* worker_at(Coordinator* p,
                                                      size_t i) {
    return p->worker_by_id(i);
  }

  static resumable* take_next(worker_data& wd) {
    if (wd.next.load(std::memory_order_relaxed) == nullptr)
      return nullptr;
    return wd.next.exchange(nullptr, std::memory_order_acq_rel);
  }

  template <class Coordinator, class Worker>
  void push_stealable(Coordinator* p, Worker* w, resumable* job) {
    d(w).queue.push_back(job);
    auto& cd = d(p);
    if (cd.spinning.load(std::memory_order_seq_cst) == 0
        && cd.sleepers.load(std::memory_order_seq_cst) > 0)
      wake_one(p);
  }

  template <class Coordinator>
  void wake_one(Coordinator* p) {
    auto& cd = d(p);
    std::lock_guard<std::mutex> guard{cd.mtx};
    if (cd.tokens >= cd.sleepers.load(std::memory_order_relaxed))
      return; // every registered sleeper already has a pending wake-up
    ++cd.tokens;
    cd.spinning.fetch_add(1, std::memory_order_seq_cst);
    cd.wakeups.fetch_add(1, std::memory_order_relaxed);
    cd.cv.notify_one();
  }

  template <class Coordinator>
  static bool any_stealable(Coordinator* p) {
    for (size_t i = 0; i < p->num_workers(); ++i)
      if (d(worker_at(p, i)).queue.size() > 0)
        return true;
    return false;
  }

  template <class Coordinator>
  static bool any_next(Coordinator* p) {
    for (size_t i = 0; i < p->num_workers(); ++i)
      if (d(worker_at(p, i)).next.load(std::memory_order_seq_cst) != nullptr)
        return true;
    return false;
  }

  static uint64_t next_random(worker_data& wd, size_t id) {
    if (wd.rng == 0)
      wd.rng = 0x9E3779B97F4A7C15ull * (id + 1);
    auto x = wd.rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    wd.rng = x;
    return x;
  }

  /// Steals a batch from the back of another worker's deque: returns the
  /// oldest stolen job and appends the rest to the own deque.
  template <class Worker>
  resumable* steal(Worker* self) {
    auto p = self->parent();
    auto n = p->num_workers();
    if (n < 2)
      return nullptr;
    auto& wd = d(self);
    auto start = static_cast<size_t>(next_random(wd, self->id()) % n);
    resumable* batch[kStealBatch];
    for (size_t k = 0; k < n; ++k) {
      auto v = (start + k) % n;
      if (v == self->id())
        continue;
      auto got = d(worker_at(p, v)).queue.steal_back(batch, kStealBatch);
      if (got == 0)
        continue;
      if (got > 1)
        wd.queue.push_back(batch + 1, got - 1);
      auto& cd = d(p);
      cd.steals.fetch_add(1, std::memory_order_relaxed);
      cd.stolen_jobs.fetch_add(got, std::memory_order_relaxed);
      return batch[0];
    }
    return nullptr;
  }

  /// Spins for kSpinTime looking for work; at the end takes the next slot of
  /// a worker that did not start any job meanwhile (I4).
  template <class Worker>
  resumable* search(Worker* self) {
    auto p = self->parent();
    auto& wd = d(self);
    auto n = p->num_workers();
    wd.snap.resize(n);
    for (size_t i = 0; i < n; ++i) {
      auto& v = d(worker_at(p, i));
      wd.snap[i].resumes = v.resumes.load(std::memory_order_acquire);
      wd.snap[i].next = v.next.load(std::memory_order_acquire);
    }
    auto deadline = steady::now() + kSpinTime;
    for (;;) {
      if (auto job = wd.queue.pop_front())
        return job;
      if (auto job = take_next(wd))
        return job;
      if (auto job = steal(self))
        return job;
      if (steady::now() >= deadline)
        break;
      for (int i = 0; i < 16; ++i)
        cpu_relax();
    }
    for (size_t i = 0; i < n; ++i) {
      if (i == self->id() || wd.snap[i].next == nullptr)
        continue;
      auto& v = d(worker_at(p, i));
      if (v.resumes.load(std::memory_order_acquire) != wd.snap[i].resumes)
        continue;
      auto expected = wd.snap[i].next;
      if (v.next.compare_exchange_strong(expected, nullptr,
                                         std::memory_order_acq_rel)) {
        d(p).next_steals.fetch_add(1, std::memory_order_relaxed);
        return wd.snap[i].next;
      }
    }
    return nullptr;
  }

  template <class Worker>
  resumable* find_work(Worker* self) {
    auto p = self->parent();
    auto& cd = d(p);
    cd.spinning.fetch_add(1, std::memory_order_seq_cst);
    for (;;) {
      if (auto job = search(self)) {
        d(self).light_timeout = kLightMin;
        if (cd.spinning.fetch_sub(1, std::memory_order_seq_cst) == 1
            && cd.sleepers.load(std::memory_order_seq_cst) > 0
            && any_stealable(p))
          wake_one(p);
        return job;
      }
      park(self);
    }
  }

  /// Registers as sleeper, re-checks, waits. Returns counted as spinning.
  template <class Worker>
  void park(Worker* self) {
    auto p = self->parent();
    auto& cd = d(p);
    auto& wd = d(self);
    std::unique_lock<std::mutex> guard{cd.mtx};
    cd.spinning.fetch_sub(1, std::memory_order_seq_cst);
    cd.sleepers.fetch_add(1, std::memory_order_seq_cst);
    auto idle_now = cd.idle.fetch_add(1, std::memory_order_seq_cst) + 1;
    bool deep = false;
    if (!any_stealable(p)) {
      if (idle_now >= p->num_workers()) {
        cd.deep.fetch_add(1, std::memory_order_seq_cst);
        deep = true;
        if (any_next(p)) {
          cd.deep.fetch_sub(1, std::memory_order_seq_cst);
          deep = false;
        }
      }
      cd.parks.fetch_add(1, std::memory_order_relaxed);
      auto has_token = [&] { return cd.tokens > 0; };
      if (deep) {
        cd.cv.wait(guard, has_token);
      } else if (!cd.cv.wait_for(guard, wd.light_timeout, has_token)) {
        wd.light_timeout = std::min(wd.light_timeout * 2, kLightMax);
      }
    }
    if (cd.tokens > 0)
      --cd.tokens; // the waker already counted us in `spinning`
    else
      cd.spinning.fetch_add(1, std::memory_order_seq_cst);
    if (deep)
      cd.deep.fetch_sub(1, std::memory_order_seq_cst);
    cd.idle.fetch_sub(1, std::memory_order_seq_cst);
    cd.sleepers.fetch_sub(1, std::memory_order_seq_cst);
  }
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

/// The coordinator type we install. A subclass to clamp max-threads=0
/// (which would make central_enqueue divide by zero), to be identifiable,
/// and to run rotina_clock instead of the base class' clock (whose thread
/// then just stays blocked, idle).
class rotina_coordinator : public caf::scheduler::coordinator<rotina_policy> {
public:
  using super = caf::scheduler::coordinator<rotina_policy>;

  explicit rotina_coordinator(caf::actor_system& sys) : super(sys) {
    // nop
  }

  void init(caf::actor_system_config& cfg) override {
    super::init(cfg); // reads scheduler.max-threads / max-throughput
    if (num_workers_ == 0)
      num_workers_ = 1;
  }

  static caf::actor_system::module* make(caf::actor_system& sys) {
    return new rotina_coordinator(sys);
  }

  rotina_clock& clock() noexcept override {
    return clock_;
  }

protected:
  void start() override {
    timer_ = std::thread{[this] {
      caf::detail::set_thread_name("caf.clock");
      system().thread_started();
      clock_.run_dispatch_loop();
      system().thread_terminates();
    }};
    super::start();
  }

  void stop() override {
    // The base class still calls clock() (ours) while it cleans up queued
    // actors, so our dispatch loop runs until it is done.
    super::stop();
    clock_.cancel_dispatch_loop();
    timer_.join();
  }

private:
  rotina_clock clock_;
  std::thread timer_;
};

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

bool uses_rotina_scheduler(caf::actor_system& sys) {
  return rotina_sched(sys) != nullptr;
}

scheduler_stats rotina_scheduler_stats(caf::actor_system& sys) {
  scheduler_stats res;
  if (auto c = rotina_sched(sys)) {
    auto& cd = c->data();
    auto get = [](const std::atomic<uint64_t>& x) {
      return x.load(std::memory_order_relaxed);
    };
    res.wakeups = get(cd.wakeups);
    res.parks = get(cd.parks);
    res.steals = get(cd.steals);
    res.stolen_jobs = get(cd.stolen_jobs);
    res.next_steals = get(cd.next_steals);
  }
  return res;
}

} // namespace rotina::detail
