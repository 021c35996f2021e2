// Timers: every timer is an entry of the runtime's timer service (one heap
// on one thread, runtime/src/timer_service.cpp); firing sends the time on the
// timer's channel with try_send.
//
// Invariants:
// - A timer_state is pending until it fires (one-shot) or is stopped; the
//   transition out of pending happens once (atomic exchange).
// - A pending timer counts as live work of its runtime (and keeps the
//   runtime from being idle) until it fired or was stopped, whichever came
//   first (settle, once), and only while the runtime lives (rt_ is checked:
//   a timer may outlive its runtime).
#include "rotina/time.hpp"
#include "rotina/error.hpp"

#include <stdexcept>

#include "rotina/detail/goroutine_env.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

class timer_state final : public timer_entry,
                          public std::enable_shared_from_this<timer_state> {
public:
  timer_state(runtime& rt, chan<clock::time_point> ch,
              std::chrono::nanoseconds period)
    : rt_(rt.ref()), ch_(std::move(ch)), period_(period) {
    // nop
  }

  timer_clock::time_point fire(timer_clock::time_point now) noexcept override {
    if (period_.count() <= 0) {
      // One-shot: whoever leaves "pending" first, fire() or stop(), wins.
      if (stopped_.exchange(true, std::memory_order_acq_rel))
        return timer_clock::time_point::min();
      // Capacity 1: drop the tick if the last one is unread (Go's rule).
      send(now);
      // On the timer thread: the runtime and its extensions outlive it.
      if (auto rt = rt_.lock())
        settle(*rt);
      return timer_clock::time_point::min();
    }
    if (stopped_.load(std::memory_order_acquire))
      return timer_clock::time_point::min();
    send(now);
    // Go's ticker: the next tick is one period after the last deadline; a
    // receiver or a clock that fell behind drops ticks instead of bursting.
    next_ = timer_service::add_saturated(next_, period_);
    if (next_ <= now)
      next_ = timer_service::add_saturated(now, period_);
    return next_;
  }

  /// Schedules the first fire at `when`. From a plain thread, enters the
  /// runtime (runtime::enter) so that shutdown cannot release the goroutine
  /// layer meanwhile, and throws panic_error once shutdown started.
  void start(timer_clock::time_point when) {
    next_ = when;
    auto& rt = rt_.get("rotina::timer");
    bool inside = current_runtime() == &rt;
    if (!inside && !rt.enter())
      refuse();
    bool started = goroutine_env::of(rt).start_timer(shared_from_this(), when);
    if (!inside)
      rt.leave();
    if (!started) {
      // The timer service stopped: only inside a goroutine being cancelled
      // (a plain thread was refused by enter() above).
      settled_.store(true);
      stopped_.store(true);
    }
  }

  bool stop() noexcept {
    if (stopped_.exchange(true, std::memory_order_acq_rel))
      return false;
    // Remove the pending fire and end the live work, if the runtime still
    // lives; a fire that runs anyway finds the timer stopped.
    if (auto rt = rt_.lock()) {
      bool inside = current_runtime() == rt;
      if (inside || rt->enter()) {
        rt->timers().cancel(*this);
        settle(*rt);
        if (!inside)
          rt->leave();
      }
    }
    return true;
  }

private:
  void send(timer_clock::time_point now) noexcept {
    try {
      (void)ch_.try_send(now);
    } catch (...) {
      // nothing to report to: a tick is lost, as Go drops ticks
    }
  }

  [[noreturn]] void refuse() {
    settled_.store(true); // nothing was counted
    stopped_.store(true);
    throw panic_error{
      error{errc::misuse, "rotina::timer: the runtime is shutting down"}};
  }

  /// Ends the timer's live work, once.
  void settle(runtime& rt) noexcept {
    if (!settled_.exchange(true, std::memory_order_acq_rel))
      if (auto env = goroutine_env::find(rt))
        env->timer_done();
  }

  runtime_ref rt_;
  chan<clock::time_point> ch_;
  std::chrono::nanoseconds period_;
  timer_clock::time_point next_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> settled_{false};
};

std::shared_ptr<timer_state> start_timer(runtime& rt,
                                         chan<clock::time_point> ch,
                                         std::chrono::nanoseconds delay,
                                         std::chrono::nanoseconds period) {
  auto t = std::make_shared<timer_state>(rt, std::move(ch), period);
  t->start(timer_service::deadline_after(delay));
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
    // Go: panic(errors.New("non-positive interval for NewTicker"))
    throw panic_error{
      error{errc::misuse, "non-positive interval for NewTicker"}};
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
