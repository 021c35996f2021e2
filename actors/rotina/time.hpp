// Go's package time for goroutines: timers, tickers, time.After, and the
// timeout case of select. (rotina::sleep and rotina::yield live in
// <rotina/goroutine.hpp>.)
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "rotina/chan.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/select.hpp"

namespace rotina {

class runtime;

/// The clock that timers and contexts use.
using clock = std::chrono::steady_clock;

namespace detail {

class timer_state;

/// Starts a one-shot (period 0) or periodic timer that sends the time on `ch`
/// (capacity 1; a tick is dropped while the previous one is unread, as in Go).
std::shared_ptr<timer_state> start_timer(runtime& rt,
                                         chan<clock::time_point> ch,
                                         std::chrono::nanoseconds delay,
                                         std::chrono::nanoseconds period);

/// Stops the timer; returns true if that prevented a pending fire.
bool stop_timer(timer_state& t) noexcept;

runtime& runtime_for(runtime* rt, const char* what);

} // namespace detail

/// timer is Go's time.Timer: a channel `c` that receives the time once, after
/// the duration given at construction, unless stop() came first.
class timer {
public:
  /// Go's time.NewTimer(d).
  timer(runtime& rt, std::chrono::nanoseconds d);

  /// Go's time.NewTimer(d), inside a goroutine.
  explicit timer(std::chrono::nanoseconds d);

  /// Go's time.NewTimer(d) for any duration type: a duration too long for
  /// nanoseconds (1000 years) saturates and never fires.
  template <class Rep, class Period>
  timer(runtime& rt, std::chrono::duration<Rep, Period> d)
    : timer(rt, detail::saturate_ns(d)) {
    // nop
  }

  /// The channel on which the time is delivered.
  recv_chan<clock::time_point> c() const noexcept {
    return ch_;
  }

  /// Go's Timer.Stop: prevents the timer from firing. Returns true if the call
  /// stops the timer, false if it had already fired or been stopped. Does not
  /// close the channel.
  bool stop() noexcept {
    return state_ != nullptr && detail::stop_timer(*state_);
  }

private:
  chan<clock::time_point> ch_;
  std::shared_ptr<detail::timer_state> state_;
};

/// ticker is Go's time.Ticker: a channel `c` that receives the time every
/// period until stop(). Ticks are dropped for a slow receiver, as in Go.
class ticker {
public:
  /// Go's time.NewTicker(d). Throws panic_error "non-positive interval for
  /// NewTicker" if d <= 0, as Go panics.
  ticker(runtime& rt, std::chrono::nanoseconds d);

  /// Go's time.NewTicker(d), inside a goroutine.
  explicit ticker(std::chrono::nanoseconds d);

  /// Stops a running ticker on destruction, so that it does not tick forever.
  ~ticker();

  ticker(const ticker&) = delete;
  ticker& operator=(const ticker&) = delete;

  recv_chan<clock::time_point> c() const noexcept {
    return ch_;
  }

  /// Go's Ticker.Stop: no more ticks are sent. Does not close the channel.
  void stop() noexcept {
    if (state_ != nullptr)
      detail::stop_timer(*state_);
  }

private:
  chan<clock::time_point> ch_;
  std::shared_ptr<detail::timer_state> state_;
};

/// after is Go's time.After(d): a channel that receives the time once, after
/// `d`. The timer counts as live work until it fires (see runtime shutdown);
/// use a timer with stop() when the wait may be abandoned early.
recv_chan<clock::time_point> after(runtime& rt, std::chrono::nanoseconds d);

/// after inside a goroutine.
recv_chan<clock::time_point> after(std::chrono::nanoseconds d);

/// after for any duration type: a duration too long for nanoseconds (1000
/// years) saturates and never fires.
template <class Rep, class Period>
recv_chan<clock::time_point> after(runtime& rt,
                                   std::chrono::duration<Rep, Period> d) {
  return after(rt, detail::saturate_ns(d));
}

namespace detail {

/// `timeout_case(d, handler)`: a recv_case on a private timer that is stopped
/// when the select is done, so an abandoned timeout costs nothing later.
template <class H>
class timeout_case final : public select_case_base {
public:
  timeout_case(std::chrono::nanoseconds d, H h)
    : timer_(d), inner_(timer_.c().state(), no_handler{}), h_(std::move(h)) {
    // nop
  }

  timeout_case(timeout_case&&) = default;

  ~timeout_case() {
    timer_.stop();
  }

  chan_core* core() noexcept override {
    return inner_.core();
  }

  op_status try_locked(wake_list& wakes) override {
    return inner_.try_locked(wakes);
  }

  void enqueue_locked(parker* who, select_state* sel, int32_t idx) override {
    inner_.enqueue_locked(who, sel, idx);
  }

  op_status try_now() override {
    return inner_.try_now();
  }

  bool watch(waiter* w) override {
    return inner_.watch(w);
  }

  void unwatch(waiter* w) noexcept override {
    inner_.unwatch(w);
  }

  bool withdraw() noexcept override {
    return inner_.withdraw();
  }

  void take_from_waiter() override {
    inner_.take_from_waiter();
  }

  void run_handler() override {
    inner_.run_handler();
    invoke_handler(h_);
  }

private:
  timer timer_;
  recv_case<clock::time_point, no_handler> inner_;
  H h_;
};

} // namespace detail

/// timeout_case is Go's `case <-time.After(d):` in a select, inside a
/// goroutine: chosen if no other case became ready within `d`.
template <class Rep, class Period, class H = detail::no_handler>
detail::timeout_case<std::decay_t<H>>
timeout_case(std::chrono::duration<Rep, Period> d, H&& handler = {}) {
  return detail::timeout_case<std::decay_t<H>>{detail::saturate_ns(d),
                                               std::forward<H>(handler)};
}

} // namespace rotina
