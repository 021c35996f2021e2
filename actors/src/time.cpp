// Timers: one timer actor per runtime fires every timer job (see
// goroutine_env::schedule); a job sends the time on its channel.
//
// Invariants:
// - A timer_state is pending until it fires (one-shot) or is stopped; the
//   transition out of pending happens once (atomic exchange).
// - A pending timer counts as live work of its runtime (and keeps the
//   runtime from being idle) until it fired or was stopped, whichever came
//   first (settle, once).
#include "rotina/time.hpp"

#include <stdexcept>

#include "rotina/detail/goroutine_env.hpp"
#include "rotina/goroutine.hpp"

namespace rotina::detail {

class timer_state final : public timer_job {
public:
  timer_state(std::weak_ptr<goroutine_env> env, chan<clock::time_point> ch,
              std::chrono::nanoseconds period)
    : env_(std::move(env)), ch_(std::move(ch)), period_(period) {
    // nop
  }

  std::chrono::nanoseconds fire() override {
    if (period_.count() <= 0) {
      // One-shot: whoever leaves "pending" first, fire() or stop(), wins.
      if (stopped_.exchange(true, std::memory_order_acq_rel))
        return std::chrono::nanoseconds{-1};
      // Capacity 1: drop the tick if the last one is unread (Go's rule).
      (void)ch_.try_send(clock::now());
      settle();
      return std::chrono::nanoseconds{-1};
    }
    if (stopped_.load(std::memory_order_acquire))
      return std::chrono::nanoseconds{-1};
    (void)ch_.try_send(clock::now());
    return period_;
  }

  bool stop() noexcept {
    if (stopped_.exchange(true, std::memory_order_acq_rel))
      return false;
    // The fire still scheduled will find the timer stopped and do nothing:
    // stop counts as the end of this timer's live work.
    settle();
    return true;
  }

private:
  /// Ends the timer's live work, once.
  void settle() noexcept {
    if (!settled_.exchange(true, std::memory_order_acq_rel))
      if (auto env = env_.lock())
        env->timer_done();
  }

  std::weak_ptr<goroutine_env> env_;
  chan<clock::time_point> ch_;
  std::chrono::nanoseconds period_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> settled_{false};
};

std::shared_ptr<timer_state> start_timer(runtime& rt,
                                         chan<clock::time_point> ch,
                                         std::chrono::nanoseconds delay,
                                         std::chrono::nanoseconds period) {
  auto env = goroutine_env::of(rt);
  auto t = std::make_shared<timer_state>(env, std::move(ch), period);
  env->schedule(t, delay);
  return t;
}

bool stop_timer(timer_state& t) noexcept {
  return t.stop();
}

runtime& runtime_for(runtime* rt, const char* what) {
  if (rt != nullptr)
    return *rt;
  return require_current_runtime(what);
}

} // namespace rotina::detail

namespace rotina {

timer::timer(runtime& rt, std::chrono::nanoseconds d)
  : ch_(make_chan<clock::time_point>(rt, 1)),
    state_(detail::start_timer(rt, ch_, d, std::chrono::nanoseconds{0})) {
  // nop
}

timer::timer(std::chrono::nanoseconds d)
  : timer(detail::runtime_for(nullptr, "rotina::timer without a runtime"), d) {
  // nop
}

ticker::ticker(runtime& rt, std::chrono::nanoseconds d)
  : ch_(make_chan<clock::time_point>(rt, 1)) {
  if (d.count() <= 0)
    throw std::invalid_argument("non-positive interval for rotina::ticker");
  state_ = detail::start_timer(rt, ch_, d, d);
}

ticker::ticker(std::chrono::nanoseconds d)
  : ticker(detail::runtime_for(nullptr, "rotina::ticker without a runtime"),
           d) {
  // nop
}

ticker::~ticker() {
  if (state_)
    stop();
}

recv_chan<clock::time_point> after(runtime& rt, std::chrono::nanoseconds d) {
  auto ch = make_chan<clock::time_point>(rt, 1);
  detail::start_timer(rt, ch, d, std::chrono::nanoseconds{0});
  return ch;
}

recv_chan<clock::time_point> after(std::chrono::nanoseconds d) {
  return after(detail::runtime_for(nullptr, "rotina::after without a runtime"),
               d);
}

} // namespace rotina
