// Helpers shared by the actors/ test suites.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include <boost/test/unit_test.hpp>

#include "rotina/chan.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/runtime.hpp"

namespace rotina::test {

/// Options for a runtime with `threads` scheduler threads and the cancel
/// shutdown policy (tests leave parked goroutines behind on purpose).
inline options opts(size_t threads = 2, std::string policy = "cancel") {
  options o;
  o.overrides.push_back("scheduler.max-threads=" + std::to_string(threads));
  o.overrides.push_back("rotina.shutdown=\"" + policy + "\"");
  return o;
}

/// Starts `f` as a goroutine and returns a channel that receives its outcome
/// (an empty error on success) when it ends.
template <class F, class... Args>
chan<error> start(runtime& rt, F f, Args... args) {
  auto done = make_chan<error>(rt, 1);
  detail::spawn_goroutine(
    &rt, detail::make_body(std::move(f), args...), {},
    [done](const error& err) { (void)done.try_send(err); });
  return done;
}

/// Runs `f` as a goroutine and blocks the test thread until it ended; returns
/// its outcome.
template <class F, class... Args>
error run(runtime& rt, F f, Args... args) {
  return *start(rt, std::move(f), args...).recv_blocking();
}

/// Receives from `ch` on the test thread, failing the test after `limit`.
template <class T>
std::optional<T> recv_within(runtime& rt, const chan<T>& ch,
                             std::chrono::milliseconds limit
                             = std::chrono::seconds{20}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto [status, value] = ch.try_recv();
    if (status == recv_status::received)
      return value;
    if (status == recv_status::closed)
      return std::nullopt;
    if (std::chrono::steady_clock::now() > deadline) {
      BOOST_FAIL("nothing received within the time limit");
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
  (void)rt;
}

/// Blocks the test thread until `ch` has `senders` waiting senders and
/// `receivers` waiting receivers (so tests need no timing guesses).
template <class T>
void await_waiting(const detail::chan_handle<T>& ch, size_t senders,
                   size_t receivers) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (ch.state()->waiting() != std::make_pair(senders, receivers)) {
    if (std::chrono::steady_clock::now() > deadline)
      BOOST_FAIL("the expected goroutines never parked");
    std::this_thread::sleep_for(std::chrono::microseconds{100});
  }
}

/// The end of an exactly-once test: each of `receivers` goroutines reports
/// the (sum, count) of what it received; together they must have received
/// the values 1..`total` once each.
inline void check_received_once(const chan<std::pair<int64_t, int64_t>>& sums,
                                int64_t receivers, int64_t total) {
  int64_t sum = 0, count = 0;
  for (int64_t r = 0; r < receivers; ++r) {
    auto [rs, rc] = *sums.recv_blocking();
    sum += rs;
    count += rc;
  }
  BOOST_CHECK_EQUAL(count, total);
  BOOST_CHECK_EQUAL(sum, total * (total + 1) / 2);
}

} // namespace rotina::test
