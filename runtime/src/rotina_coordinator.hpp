// The rotina scheduler's worker and coordinator (protocol and invariants at
// the top of scheduler.cpp).
#pragma once

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

#include "job_deque.hpp"
#include "rotina_clock.hpp"
#include "sched_tuning.hpp"

namespace rotina::detail::sched {

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

} // namespace rotina::detail::sched
