// The rotina scheduler's per-worker run queue (invariant I3 in
// scheduler.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>

#include "sched_tuning.hpp"
#include "spin_lock.hpp"

namespace rotina::detail::sched {

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

} // namespace rotina::detail::sched
