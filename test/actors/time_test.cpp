// Timers, after Go's package time: Sleep, After, NewTimer, NewTicker.
#include "rotina/time.hpp"

#include <thread>

#include "test_util.hpp"

using namespace rotina;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

BOOST_AUTO_TEST_SUITE(time_suite, *utf::timeout(60))

BOOST_AUTO_TEST_CASE(sleep_pauses_the_goroutine_at_least_the_duration) {
  runtime rt{test::opts(1)};
  auto elapsed = std::make_shared<std::chrono::nanoseconds>();
  auto other_ran = std::make_shared<std::atomic<bool>>(false);
  auto done = test::start(rt, [elapsed]() -> task<> {
    auto t0 = std::chrono::steady_clock::now();
    co_await sleep(300ms);
    *elapsed = std::chrono::steady_clock::now() - t0;
  });
  // With one scheduler thread, another goroutine runs while the first sleeps:
  // sleep does not block the worker.
  BOOST_CHECK(!test::run(rt, [other_ran] { *other_ran = true; }));
  BOOST_CHECK(done.try_recv().status == recv_status::empty);
  BOOST_CHECK(!*done.recv_blocking());
  BOOST_CHECK(*other_ran);
  BOOST_CHECK_GE(*elapsed, 300ms);
  BOOST_CHECK_LT(*elapsed, 5s);
}

BOOST_AUTO_TEST_CASE(after_delivers_the_time_once) {
  runtime rt{test::opts()};
  auto t0 = clock::now();
  auto c = after(rt, 30ms);
  auto t = c.recv_blocking();
  BOOST_REQUIRE(t);
  BOOST_CHECK_GE(*t - t0, 30ms);
  BOOST_CHECK_LT(clock::now() - t0, 2s);
  std::this_thread::sleep_for(50ms);
  BOOST_CHECK(c.try_recv().status == recv_status::empty); // only once
}

BOOST_AUTO_TEST_CASE(a_stopped_timer_never_fires) {
  runtime rt{test::opts()};
  timer t{rt, 30ms};
  BOOST_CHECK(t.stop());
  BOOST_CHECK(!t.stop()); // already stopped
  std::this_thread::sleep_for(80ms);
  BOOST_CHECK(t.c().try_recv().status == recv_status::empty);
  timer fired{rt, 10ms};
  BOOST_CHECK(fired.c().recv_blocking());
  BOOST_CHECK(!fired.stop()); // too late: it fired
}

BOOST_AUTO_TEST_CASE(a_ticker_ticks_until_stopped) {
  runtime rt{test::opts()};
  auto ticks = std::make_shared<int>(0);
  auto err = test::run(rt, [&rt, ticks]() -> task<> {
    ticker tk{rt, 10ms};
    for (int i = 0; i < 5; ++i) {
      co_await tk.c().recv();
      ++*ticks;
    }
    tk.stop();
  });
  BOOST_CHECK(!err);
  BOOST_CHECK_EQUAL(*ticks, 5);
  BOOST_CHECK_THROW(ticker(rt, 0ms), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_slow_receiver_loses_ticks_instead_of_queueing_them) {
  runtime rt{test::opts()};
  ticker tk{rt, 5ms};
  std::this_thread::sleep_for(60ms); // ~12 ticks, the channel holds one
  int buffered = 0;
  while (buffered < 10 && tk.c().try_recv().status == recv_status::received)
    ++buffered;
  tk.stop();
  // One tick was kept; at most one more can arrive while we drain.
  BOOST_CHECK_GE(buffered, 1);
  BOOST_CHECK_LE(buffered, 2);
}

BOOST_AUTO_TEST_SUITE_END()
