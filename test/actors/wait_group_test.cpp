// wait_group semantics, after Go's sync/waitgroup_test.go (TestWaitGroup,
// TestWaitGroupMisuse, WaitGroup.Go) plus rotina's supervision: crashes and
// kills count as done and are reported.
#include "rotina/wait_group.hpp"

#include <atomic>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "rotina/chan.hpp"
#include "rotina/goroutine.hpp"
#include "test_util.hpp"

using namespace rotina;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

BOOST_AUTO_TEST_SUITE(wait_group_suite, *utf::timeout(60))

BOOST_AUTO_TEST_CASE(wait_with_zero_counter_returns_at_once) {
  wait_group wg;
  wg.wait_blocking(); // plain thread, counter 0: must not block
  wg.add(2);
  wg.done();
  wg.done();
  wg.wait_blocking();
  BOOST_CHECK_EQUAL(wg.count(), 0);
}

// Go's TestWaitGroup: two groups, goroutines signal the first and wait on the
// second; repeated to show that a group is reusable once wait returned.
BOOST_AUTO_TEST_CASE(goroutines_wait_for_each_other_and_groups_are_reusable) {
  runtime rt{test::opts()};
  wait_group wg1{rt};
  wait_group wg2{rt};
  constexpr int n = 16;
  for (int round = 0; round < 3; ++round) {
    std::atomic<int> passed{0};
    wg1.add(n);
    wg2.add(n);
    std::vector<chan<error>> ends;
    for (int i = 0; i < n; ++i)
      ends.push_back(test::start(rt, [wg1, wg2, &passed]() -> task<> {
        wg1.done();
        co_await wg2.wait();
        ++passed;
      }));
    wg1.wait_blocking();
    std::this_thread::sleep_for(5ms);
    BOOST_CHECK_EQUAL(passed.load(), 0); // all still parked on wg2
    for (int i = 0; i < n; ++i)
      wg2.done();
    for (auto& e : ends)
      BOOST_CHECK(!*e.recv_blocking());
    BOOST_CHECK_EQUAL(passed.load(), n);
  }
}

// Issue 10: no blocking destructors. An awaiter made and dropped unawaited,
// also while an exception unwinds, returns at once; plain threads say
// wait_blocking().
BOOST_AUTO_TEST_CASE(an_unawaited_wait_never_blocks_its_thread) {
  wait_group wg;
  wg.add(1);
  std::atomic<bool> returned{false};
  std::thread t{[wg, &returned] {
    { auto w = wg.wait(); }
    try {
      auto w = wg.wait();
      throw std::runtime_error("unwinding");
    } catch (const std::runtime_error&) {
    }
    returned = true;
  }};
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!returned.load() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_CHECK(returned.load());
  wg.done(); // releases the thread if it blocked after all
  t.join();
  wg.wait_blocking(); // counter 0: returns at once
}

// Go's TestWaitGroupMisuse: "sync: negative WaitGroup counter".
BOOST_AUTO_TEST_CASE(negative_counter_throws_with_go_wording) {
  wait_group wg;
  wg.add(1);
  wg.done();
  try {
    wg.done();
    BOOST_FAIL("done() below zero did not throw");
  } catch (const panic_error& e) {
    BOOST_CHECK(e.err() == errc::negative_counter);
    BOOST_CHECK_EQUAL(std::string{e.what()},
                      "sync: negative WaitGroup counter");
  }
  BOOST_CHECK_EQUAL(wg.count(), 0); // unchanged, still usable
  BOOST_CHECK_THROW(wg.add(-3), panic_error);
  wg.add(1);
  wg.done();
  wg.wait_blocking();
}

// Go's counter would wrap; rotina's int64 counter must never overflow (UB):
// the add that would exceed INT64_MAX panics and changes nothing.
BOOST_AUTO_TEST_CASE(
  add_that_overflows_the_counter_panics_and_changes_nothing) {
  wait_group wg;
  wg.add(std::numeric_limits<int64_t>::max());
  try {
    wg.add(1);
    BOOST_FAIL("add past INT64_MAX did not throw");
  } catch (const panic_error& e) {
    BOOST_CHECK(e.err() == errc::misuse);
    BOOST_CHECK(
      std::string{e.what()}.starts_with("sync: WaitGroup counter overflows"));
  }
  BOOST_CHECK_EQUAL(wg.count(), std::numeric_limits<int64_t>::max());
  BOOST_CHECK_THROW(wg.add(std::numeric_limits<int64_t>::max()), panic_error);
  wg.add(-std::numeric_limits<int64_t>::max());
  BOOST_CHECK_EQUAL(wg.count(), 0);
}

// Misuse is a panic_error (issue 10), never std::logic_error.
BOOST_AUTO_TEST_CASE(go_without_a_runtime_is_a_panic_and_changes_nothing) {
  wait_group wg; // zero value on a plain thread: no runtime to start in
  try {
    wg.go([] {});
    BOOST_FAIL("go without a runtime did not throw");
  } catch (const panic_error& e) {
    BOOST_CHECK(e.err() == errc::misuse);
    BOOST_CHECK(std::string{e.what()}.find("without a runtime")
                != std::string::npos);
  }
  BOOST_CHECK_EQUAL(wg.count(), 0);
}

BOOST_AUTO_TEST_CASE(many_waiters_all_wake) {
  runtime rt{test::opts()};
  wait_group wg{rt};
  wg.add(1);
  std::vector<chan<error>> ends;
  for (int i = 0; i < 32; ++i)
    ends.push_back(test::start(rt, [wg]() -> task<> { co_await wg.wait(); }));
  std::vector<std::thread> threads;
  std::atomic<int> thread_woken{0};
  for (int i = 0; i < 3; ++i)
    threads.emplace_back([wg, &thread_woken] {
      wg.wait_blocking();
      ++thread_woken;
    });
  std::this_thread::sleep_for(10ms);
  BOOST_CHECK_EQUAL(thread_woken.load(), 0);
  wg.done();
  for (auto& e : ends)
    BOOST_CHECK(!*e.recv_blocking());
  for (auto& t : threads)
    t.join();
  BOOST_CHECK_EQUAL(thread_woken.load(), 3);
}

BOOST_AUTO_TEST_CASE(go_marks_done_when_each_body_returns) {
  runtime rt{test::opts()};
  wait_group wg{rt};
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i)
    wg.go([&ran](int k) { ran += k; }, 1);
  wg.wait_blocking();
  BOOST_CHECK_EQUAL(ran.load(), 1000);
  BOOST_CHECK_EQUAL(wg.count(), 0);
  BOOST_CHECK(wg.errors().empty());
  BOOST_CHECK(!wg.supervisor()); // released with the last down message
}

BOOST_AUTO_TEST_CASE(go_from_a_goroutine_and_co_await_wait) {
  runtime rt{test::opts()};
  std::atomic<int> ran{0};
  auto err = test::run(rt, [&ran]() -> task<> {
    wait_group wg; // zero value: uses this goroutine's runtime
    auto ch = make_chan<int>(4);
    for (int i = 0; i < 4; ++i)
      wg.go([ch, i]() -> task<> { co_await ch.send(i); });
    int sum = 0;
    for (int i = 0; i < 4; ++i)
      sum += *co_await ch.recv();
    co_await wg.wait();
    ran = sum;
  });
  BOOST_CHECK(!err);
  BOOST_CHECK_EQUAL(ran.load(), 0 + 1 + 2 + 3);
}

BOOST_AUTO_TEST_CASE(a_body_that_throws_is_done_and_its_error_kept) {
  runtime rt{test::opts()};
  wait_group wg{rt};
  wg.go([] { throw std::runtime_error("boom"); });
  wg.go([]() -> task<> {
    co_await yield();
    throw std::runtime_error("late boom");
  });
  wg.go([]() -> error { return error{errc::failed, "returned"}; });
  wg.go([] {});
  wg.wait_blocking();
  auto errs = wg.errors();
  BOOST_REQUIRE_EQUAL(errs.size(), 3u);
  int panics = 0;
  int failed = 0;
  for (auto& e : errs) {
    if (e == errc::panic) {
      ++panics;
      BOOST_CHECK(e.message().find("boom") != std::string::npos);
    }
    if (e == errc::failed) {
      ++failed;
      BOOST_CHECK_EQUAL(e.message(), "returned");
    }
    BOOST_CHECK(!e.origin().empty());
  }
  BOOST_CHECK_EQUAL(panics, 2);
  BOOST_CHECK_EQUAL(failed, 1);
}

BOOST_AUTO_TEST_CASE(a_goroutine_killed_from_outside_counts_as_done) {
  runtime rt{test::opts()};
  wait_group wg{rt};
  auto never = make_chan<int>(rt);
  auto g = wg.go([never]() -> task<> { (void)co_await never.recv(); });
  std::this_thread::sleep_for(10ms); // let it park
  BOOST_CHECK_EQUAL(wg.count(), 1);
  caf::anon_send_exit(g, caf::exit_reason::kill);
  wg.wait_blocking();
  auto errs = wg.errors();
  BOOST_REQUIRE_EQUAL(errs.size(), 1u);
  BOOST_CHECK(errs[0] == errc::killed);
}

BOOST_AUTO_TEST_CASE(extra_done_while_go_runs_is_reported_not_thrown) {
  runtime rt{test::opts()};
  wait_group wg{rt};
  auto gate = make_chan<int>(rt);
  wg.go([gate]() -> task<> { (void)co_await gate.recv(); });
  wg.done(); // the user marks the goroutine done by hand, too
  gate.close();
  // The supervisor cannot throw: it keeps the misuse as an error.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (wg.errors().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  auto errs = wg.errors();
  BOOST_REQUIRE_EQUAL(errs.size(), 1u);
  BOOST_CHECK(errs[0] == errc::negative_counter);
  BOOST_CHECK_EQUAL(wg.count(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
