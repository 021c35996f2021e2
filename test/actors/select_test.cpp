// select, after Go's spec ("Select statements") and its test/chan/select*.go.
#include "rotina/select.hpp"

#include <array>
#include <atomic>
#include <cmath>
#include <string>
#include <thread>

#include "rotina/time.hpp"
#include "test_util.hpp"

using namespace rotina;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

BOOST_AUTO_TEST_SUITE(select_suite, *utf::timeout(180))

BOOST_AUTO_TEST_CASE(select_blocks_until_a_case_is_ready_and_runs_exactly_one) {
  runtime rt{test::opts()};
  auto a = make_chan<int>(rt);
  auto b = make_chan<std::string>(rt);
  auto out = make_chan<std::string>(rt, 1);
  test::start(rt, [a, b, out]() -> task<> {
    std::string ran;
    auto idx = co_await select(
      recv_case(a,
                [&](std::optional<int> v) { ran += "a" + std::to_string(*v); }),
      recv_case(b, [&](std::optional<std::string> v) { ran += "b" + *v; }));
    co_await out.send(std::to_string(idx) + ":" + ran);
  });
  std::this_thread::sleep_for(30ms);
  BOOST_CHECK(out.try_recv().status == recv_status::empty); // still blocked
  b.send_blocking("x");
  BOOST_CHECK_EQUAL(*out.recv_blocking(), "1:bx");
  BOOST_CHECK(!a.try_send(1)); // the losing case left no receiver behind
}

BOOST_AUTO_TEST_CASE(select_with_default_never_blocks) {
  runtime rt{test::opts()};
  auto a = make_chan<int>(rt);
  auto full = make_chan<int>(rt, 1);
  BOOST_REQUIRE(full.try_send(0));
  auto err = test::run(rt, [a, full]() -> task<error> {
    for (int i = 0; i < 1000; ++i) {
      bool dflt = false;
      auto idx = co_await select(recv_case(a), send_case(full, 1),
                                 default_case([&] { dflt = true; }));
      if (idx != 2 || !dflt)
        co_return error{errc::failed, "default not taken"};
    }
    co_return error{};
  });
  BOOST_CHECK(!err);
}

BOOST_AUTO_TEST_CASE(select_chooses_uniformly_among_ready_cases) {
  // Go's runtime test: each of n always-ready cases is chosen about 1/n of the
  // time. Buffered channels kept non-empty are always ready.
  runtime rt{test::opts()};
  constexpr int rounds = 100000;
  for (int n : {2, 3}) {
    std::array<chan<int>, 3> chs{make_chan<int>(rt, 1), make_chan<int>(rt, 1),
                                 make_chan<int>(rt, 1)};
    auto counts = std::make_shared<std::array<int, 3>>();
    auto err = test::run(rt, [chs, counts, n]() -> task<error> {
      for (auto& c : chs)
        co_await c.send(0);
      for (int i = 0; i < rounds; ++i) {
        int idx;
        if (n == 2)
          idx = co_await select(recv_case(chs[0]), recv_case(chs[1]));
        else
          idx = co_await select(recv_case(chs[0]), recv_case(chs[1]),
                                recv_case(chs[2]));
        ++(*counts)[idx];
        co_await chs[idx].send(0); // keep it ready
      }
      co_return error{};
    });
    BOOST_REQUIRE(!err);
    // Binomial(rounds, 1/n): allow 5 standard deviations.
    double p = 1.0 / n;
    double sigma = std::sqrt(rounds * p * (1 - p));
    for (int i = 0; i < n; ++i)
      BOOST_CHECK_LT(std::abs((*counts)[i] - rounds * p), 5 * sigma);
  }
}

BOOST_AUTO_TEST_CASE(nil_channel_cases_are_never_chosen) {
  runtime rt{test::opts()};
  chan<int> nil;
  auto ready = make_chan<int>(rt, 1);
  auto err = test::run(rt, [nil, ready]() -> task<error> {
    for (int i = 0; i < 2000; ++i) {
      co_await ready.send(i);
      auto idx
        = co_await select(recv_case(nil), send_case(nil, 1), recv_case(ready));
      if (idx != 2)
        co_return error{errc::failed, "nil case chosen"};
    }
    // Only nil cases and a default: the default runs.
    auto idx = co_await select(recv_case(nil), default_case());
    co_return idx == 1 ? error{} : error{errc::failed, "no default"};
  });
  BOOST_CHECK(!err);
}

BOOST_AUTO_TEST_CASE(select_on_a_closed_channel_receives_closed) {
  runtime rt{test::opts()};
  auto a = make_chan<int>(rt);
  a.close();
  auto err = test::run(rt, [a]() -> task<error> {
    std::optional<int> v{7};
    auto idx = co_await select(recv_case(a, v));
    co_return idx == 0 && !v ? error{} : error{errc::failed, "not closed"};
  });
  BOOST_CHECK(!err);
}

BOOST_AUTO_TEST_CASE(select_send_on_closed_channel_panics) {
  runtime rt{test::opts()};
  auto a = make_chan<int>(rt);
  a.close();
  auto err = test::run(
    rt, [a]() -> task<> { (void)co_await select(send_case(a, 1)); });
  BOOST_CHECK(err == errc::send_on_closed);
  // And when the close happens while the select waits.
  auto b = make_chan<int>(rt);
  auto done = test::start(
    rt, [b]() -> task<> { (void)co_await select(send_case(b, 1)); });
  std::this_thread::sleep_for(20ms);
  b.close();
  BOOST_CHECK(*done.recv_blocking() == errc::send_on_closed);
}

BOOST_AUTO_TEST_CASE(a_goroutine_may_select_send_and_recv_on_one_channel) {
  runtime rt{test::opts()};
  auto c = make_chan<int>(rt);
  auto results = make_chan<int>(rt, 2);
  // Two goroutines both select {c <- v, <-c}: one must send, the other
  // receive; a goroutine never meets itself.
  for (int id = 1; id <= 2; ++id)
    test::start(rt, [c, results, id]() -> task<> {
      std::optional<int> got;
      auto idx = co_await select(send_case(c, id), recv_case(c, got));
      co_await results.send(idx == 0 ? 0 : *got);
    });
  int r1 = *results.recv_blocking();
  int r2 = *results.recv_blocking();
  // One result is 0 (sent), the other the sender's id.
  BOOST_CHECK((r1 == 0) != (r2 == 0));
  BOOST_CHECK(r1 + r2 == 1 || r1 + r2 == 2);
}

BOOST_AUTO_TEST_CASE(no_value_is_lost_or_duplicated_by_concurrent_selects) {
  // Many selecting receivers over two channels fed by many senders: every
  // value is received exactly once.
  for (size_t threads : {1u, 2u, 4u}) {
    runtime rt{test::opts(threads)};
    constexpr int64_t senders = 4, per_sender = 50000, receivers = 6;
    constexpr int64_t total = senders * per_sender;
    auto a = make_chan<int64_t>(rt);
    auto b = make_chan<int64_t>(rt, 8);
    auto quit = make_chan<int>(rt);
    auto sent = make_chan<int>(rt, senders);
    auto sums = make_chan<std::pair<int64_t, int64_t>>(rt, receivers);
    for (int64_t s = 0; s < senders; ++s)
      test::start(rt, [a, b, sent, s]() -> task<> {
        for (int64_t i = 0; i < per_sender; ++i) {
          auto v = s * per_sender + i + 1;
          if (i % 2 == 0)
            co_await a.send(v);
          else
            co_await b.send(v);
        }
        co_await sent.send(1);
      });
    for (int64_t r = 0; r < receivers; ++r)
      test::start(rt, [a, b, quit, sums]() -> task<> {
        int64_t sum = 0, count = 0;
        for (;;) {
          std::optional<int64_t> x, y;
          auto idx = co_await select(recv_case(a, x), recv_case(b, y),
                                     recv_case(quit));
          if (idx == 2)
            break;
          sum += idx == 0 ? *x : *y;
          ++count;
        }
        co_await sums.send({sum, count});
      });
    for (int64_t s = 0; s < senders; ++s)
      BOOST_REQUIRE(sent.recv_blocking());
    // Drain what senders left in b's buffer before telling receivers to quit:
    // quit is closed only once both channels are empty.
    while (b.len() > 0)
      std::this_thread::sleep_for(1ms);
    quit.close();
    test::check_received_once(sums, receivers, total);
  }
}

BOOST_AUTO_TEST_CASE(timeout_case_fires_when_nothing_else_is_ready) {
  runtime rt{test::opts()};
  auto never = make_chan<int>(rt);
  auto elapsed = std::make_shared<std::chrono::nanoseconds>();
  auto err = test::run(rt, [never, elapsed]() -> task<error> {
    auto t0 = std::chrono::steady_clock::now();
    bool fired = false;
    auto idx = co_await select(recv_case(never),
                               timeout_case(50ms, [&] { fired = true; }));
    *elapsed = std::chrono::steady_clock::now() - t0;
    co_return idx == 1 && fired ? error{} : error{errc::failed, "no timeout"};
  });
  BOOST_CHECK(!err);
  BOOST_CHECK_GE(*elapsed, 50ms);
  BOOST_CHECK_LT(*elapsed, 2s);
}

BOOST_AUTO_TEST_CASE(an_abandoned_timeout_does_not_hold_shutdown) {
  auto t0 = std::chrono::steady_clock::now();
  {
    runtime rt{test::opts(2, "wait")};
    auto ready = make_chan<int>(rt, 1);
    BOOST_REQUIRE(ready.try_send(1));
    BOOST_CHECK(!test::run(rt, [ready]() -> task<> {
      (void)co_await select(recv_case(ready), timeout_case(30s));
    }));
  }
  BOOST_CHECK_LT(std::chrono::steady_clock::now() - t0, 10s);
}

// -- select_blocking: Go's main can select ------------------------------------

BOOST_AUTO_TEST_CASE(select_blocking_on_a_plain_thread_takes_a_ready_case) {
  runtime rt{test::opts()};
  auto a = make_chan<int>(rt, 1);
  auto b = make_chan<int>(rt, 1);
  BOOST_REQUIRE(b.try_send(7));
  int got = 0;
  auto idx
    = select_blocking(recv_case(a, [&](std::optional<int> v) { got = *v; }),
                      recv_case(b, [&](std::optional<int> v) { got = *v; }));
  BOOST_CHECK_EQUAL(idx, 1);
  BOOST_CHECK_EQUAL(got, 7);
  // A send case on a plain thread.
  idx = select_blocking(send_case(a, 3), recv_case(b));
  BOOST_CHECK_EQUAL(idx, 0);
  BOOST_CHECK_EQUAL(*a.try_recv().value, 3);
}

BOOST_AUTO_TEST_CASE(select_blocking_with_default_never_blocks) {
  runtime rt{test::opts()};
  auto a = make_chan<int>(rt);
  chan<int> nil;
  bool ran = false;
  auto idx = select_blocking(recv_case(a), recv_case(nil),
                             default_case([&] { ran = true; }));
  BOOST_CHECK_EQUAL(idx, 2);
  BOOST_CHECK(ran);
  BOOST_CHECK(a.state()->waiting() == std::make_pair(size_t{0}, size_t{0}));
}

BOOST_AUTO_TEST_CASE(select_blocking_sleeps_until_a_goroutine_sends) {
  runtime rt{test::opts()};
  auto a = make_chan<int>(rt);
  auto b = make_chan<std::string>(rt);
  test::start(rt, [b]() -> task<> {
    co_await sleep(20ms);
    co_await b.send("hi");
  });
  std::optional<std::string> got;
  auto idx = select_blocking(recv_case(a), recv_case(b, got));
  BOOST_CHECK_EQUAL(idx, 1);
  BOOST_CHECK(got == std::optional<std::string>{"hi"});
  // The losing case left no receiver behind.
  BOOST_CHECK(a.state()->waiting() == std::make_pair(size_t{0}, size_t{0}));
}

BOOST_AUTO_TEST_CASE(select_blocking_times_out_through_after) {
  runtime rt{test::opts()};
  auto never = make_chan<int>(rt);
  auto t0 = std::chrono::steady_clock::now();
  bool timed_out = false;
  auto idx = select_blocking(
    recv_case(never), recv_case(after(rt, 30ms), [&] { timed_out = true; }));
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_CHECK_EQUAL(idx, 1);
  BOOST_CHECK(timed_out);
  BOOST_CHECK_GE(took, 30ms);
  BOOST_CHECK_LT(took, 10s);
  BOOST_CHECK(never.state()->waiting() == std::make_pair(size_t{0}, size_t{0}));
}

BOOST_AUTO_TEST_CASE(select_blocking_on_a_closed_channel_reports_closed) {
  runtime rt{test::opts()};
  auto a = make_chan<int>(rt);
  a.close();
  bool closed = false;
  (void)select_blocking(
    recv_case(a, [&](std::optional<int> v) { closed = !v; }));
  BOOST_CHECK(closed);
  BOOST_CHECK_THROW((void)select_blocking(send_case(a, 1)), panic_error);
}

BOOST_AUTO_TEST_SUITE_END()
