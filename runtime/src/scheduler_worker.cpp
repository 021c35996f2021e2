// The rotina scheduler's worker loop: dequeue, run, search, steal, park (the
// protocol is described at the top of scheduler.cpp).
#include "rotina/detail/scheduler.hpp"

#include "rotina_coordinator.hpp"

namespace rotina::detail::sched {

thread_local bool tl_on_worker = false;

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

} // namespace rotina::detail::sched

namespace rotina::detail {

bool on_rotina_worker() noexcept {
  return sched::tl_on_worker;
}

} // namespace rotina::detail
