#include "rotina/detail/timer_service.hpp"

#include <utility>

namespace rotina::detail {

namespace {

constexpr size_t npos = static_cast<size_t>(-1);

} // namespace

timer_entry::~timer_entry() = default;

timer_service::~timer_service() {
  stop();
}

timer_clock::time_point
timer_service::deadline_after(std::chrono::nanoseconds d) {
  auto now = timer_clock::now();
  if (d.count() <= 0)
    return now;
  return add_saturated(now, d);
}

timer_clock::time_point
timer_service::add_saturated(timer_clock::time_point t,
                             std::chrono::nanoseconds d) {
  using dur = timer_clock::duration;
  if (d.count() <= 0 || t == timer_clock::time_point::max())
    return t;
  auto room = timer_clock::time_point::max() - t;
  // Compare in nanoseconds before converting, so that nothing overflows.
  if (d >= std::chrono::duration_cast<std::chrono::nanoseconds>(room))
    return timer_clock::time_point::max();
  return t + std::chrono::duration_cast<dur>(d);
}

bool timer_service::schedule(std::shared_ptr<timer_entry> e,
                             timer_clock::time_point when) {
  std::unique_lock<std::mutex> guard{mtx_};
  if (stopped_)
    return false;
  if (!thread_.joinable())
    thread_ = std::thread{[this] { run(); }};
  e->when_ = when;
  auto* raw = e.get();
  push_locked(std::move(e));
  if (raw->index_ == 0 && sleeping_) {
    sleeping_ = false;
    guard.unlock();
    cv_.notify_one();
  }
  return true;
}

bool timer_service::cancel(timer_entry& e) noexcept {
  std::shared_ptr<timer_entry> victim;
  std::lock_guard<std::mutex> guard{mtx_};
  if (e.index_ == npos)
    return false;
  // Destroy the heap's reference after the lock is released.
  victim = remove_locked(e.index_);
  return true;
}

size_t timer_service::pending() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return heap_.size();
}

void timer_service::stop() {
  std::vector<std::shared_ptr<timer_entry>> dropped;
  std::thread worker;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopped_ = true;
    for (auto& e : heap_)
      e->index_ = npos;
    dropped.swap(heap_);
    worker = std::move(thread_);
  }
  cv_.notify_all();
  if (worker.joinable())
    worker.join();
}

void timer_service::run() {
  std::vector<std::shared_ptr<timer_entry>> due;
  std::unique_lock<std::mutex> guard{mtx_};
  while (!stopped_) {
    auto now = timer_clock::now();
    if (heap_.empty() || heap_.front()->when_ > now) {
      sleeping_ = true;
      // A copy: the entry may leave the heap while we wait.
      auto next
        = heap_.empty() ? timer_clock::time_point::max() : heap_.front()->when_;
      if (next == timer_clock::time_point::max())
        cv_.wait(guard);
      else
        cv_.wait_until(guard, next);
      sleeping_ = false;
      continue;
    }
    while (!heap_.empty() && heap_.front()->when_ <= now)
      due.push_back(remove_locked(0));
    guard.unlock();
    for (auto& e : due)
      e->when_ = e->fire(now);
    guard.lock();
    for (auto& e : due)
      if (e->when_ != timer_clock::time_point::min() && !stopped_)
        push_locked(std::move(e));
    // Drop the references outside the lock: an entry's destructor may
    // schedule or cancel timers.
    guard.unlock();
    due.clear();
    guard.lock();
  }
}

void timer_service::push_locked(std::shared_ptr<timer_entry> e) {
  e->index_ = heap_.size();
  heap_.push_back(std::move(e));
  sift_up(heap_.size() - 1);
}

std::shared_ptr<timer_entry> timer_service::remove_locked(size_t i) {
  auto result = std::move(heap_[i]);
  result->index_ = npos;
  auto last = heap_.size() - 1;
  if (i != last) {
    heap_[i] = std::move(heap_[last]);
    heap_[i]->index_ = i;
    heap_.pop_back();
    sift_down(i);
    sift_up(i);
  } else {
    heap_.pop_back();
  }
  return result;
}

void timer_service::sift_up(size_t i) {
  while (i > 0) {
    auto parent = (i - 1) / 2;
    if (!(heap_[i]->when_ < heap_[parent]->when_))
      return;
    std::swap(heap_[i], heap_[parent]);
    heap_[i]->index_ = i;
    heap_[parent]->index_ = parent;
    i = parent;
  }
}

void timer_service::sift_down(size_t i) {
  auto n = heap_.size();
  for (;;) {
    auto least = i;
    auto l = 2 * i + 1;
    auto r = l + 1;
    if (l < n && heap_[l]->when_ < heap_[least]->when_)
      least = l;
    if (r < n && heap_[r]->when_ < heap_[least]->when_)
      least = r;
    if (least == i)
      return;
    std::swap(heap_[i], heap_[least]);
    heap_[i]->index_ = i;
    heap_[least]->index_ = least;
    i = least;
  }
}

} // namespace rotina::detail
