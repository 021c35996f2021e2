// Goroutines: Go's `go` statement, lifetime, failure and shutdown.
#include "rotina/goroutine.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "child_process.hpp"
#include "rotina/detail/goroutine_env.hpp"
#include "rotina/errgroup.hpp"
#include "rotina/select.hpp"
#include "rotina/time.hpp"
#include "test_util.hpp"

using namespace rotina;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

task<int> add_later(int x, int y) {
  co_await yield();
  co_return x + y;
}

task<int> fails_later() {
  co_await yield();
  throw std::runtime_error("helper failed");
}

// Go's concurrent prime sieve.
task<> generate(chan<int> ch) {
  for (int i = 2;; ++i)
    co_await ch.send(i);
}

task<> filter(recv_chan<int> in, send_chan<int> out, int prime) {
  for (;;) {
    auto i = *co_await in.recv();
    if (i % prime != 0)
      co_await out.send(i);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(goroutine_suite, *utf::timeout(300))

BOOST_AUTO_TEST_CASE(misuse_outside_a_goroutine_is_a_panic_error) {
  // These threw std::logic_error (and the ticker std::invalid_argument):
  // every misuse is a panic_error with errc::misuse (issue 10's convention).
  runtime rt{test::opts()};
  auto is_misuse = [](const panic_error& e) {
    return e.err().code() == errc::misuse;
  };
  BOOST_CHECK_EXCEPTION(make_chan<int>(), panic_error, is_misuse);
  BOOST_CHECK_EXCEPTION(ticker(rt, std::chrono::nanoseconds{0}), panic_error,
                        is_misuse);
}

BOOST_AUTO_TEST_CASE(go_copies_the_arguments_when_called) {
  runtime rt{test::opts()};
  auto out = make_chan<std::string>(rt, 1);
  auto gate = make_chan<int>(rt);
  std::string s = "before";
  go(
    rt,
    [](std::string x, chan<std::string> out, chan<int> gate) -> task<> {
      co_await gate.recv();
      co_await out.send(x);
    },
    s, out, gate);
  s = "after";
  gate.send_blocking(1);
  BOOST_CHECK_EQUAL(*out.recv_blocking(), "before");
}

BOOST_AUTO_TEST_CASE(a_plain_callable_runs_to_completion_on_its_actor) {
  runtime rt{test::opts()};
  auto out = make_chan<int>(rt, 1);
  go(
    rt, [](chan<int> out, int x) { (void)out.try_send(x * 2); }, out, 21);
  BOOST_CHECK_EQUAL(*out.recv_blocking(), 42);
}

BOOST_AUTO_TEST_CASE(an_exception_ends_only_its_goroutine_and_is_reported) {
  runtime rt{test::opts()};
  auto err = test::run(rt, []() -> task<> {
    co_await yield();
    throw std::runtime_error("boom");
  });
  BOOST_CHECK(err == errc::panic);
  BOOST_CHECK_EQUAL(err.message(), "boom");
  BOOST_CHECK(err.origin().find("goroutine-") == 0);
  auto plain = test::run(rt, [] { throw std::logic_error("plain"); });
  BOOST_CHECK(plain == errc::panic);
  BOOST_CHECK_EQUAL(plain.message(), "plain");
  // Others keep going.
  BOOST_CHECK(!test::run(rt, []() -> task<> { co_await yield(); }));
}

// Not a coroutine: it throws before any coroutine frame exists (as a body
// whose arguments fail to copy into the frame would).
task<> throws_before_the_coroutine(int x) {
  throw std::invalid_argument("bad x " + std::to_string(x));
}

BOOST_AUTO_TEST_CASE(
  a_body_that_throws_before_its_coroutine_starts_is_a_panic) {
  runtime rt{test::opts()};
  auto err = test::run(rt, &throws_before_the_coroutine, 7);
  BOOST_CHECK(err == errc::panic);
  BOOST_CHECK_EQUAL(err.message(), "bad x 7");
  errgroup g{rt};
  g.go(&throws_before_the_coroutine, 8);
  error gerr = g.wait_blocking();
  BOOST_CHECK(gerr == errc::panic);
  BOOST_CHECK_EQUAL(gerr.message(), "bad x 8");
}

BOOST_AUTO_TEST_CASE(a_body_may_return_an_error) {
  runtime rt{test::opts()};
  auto err = test::run(rt, []() -> task<error> {
    co_return error{errc::failed, "no luck"};
  });
  BOOST_CHECK(err == errc::failed);
  BOOST_CHECK_EQUAL(err.message(), "no luck");
  BOOST_CHECK(!test::run(rt, []() -> error { return {}; }));
}

BOOST_AUTO_TEST_CASE(awaited_helpers_return_values_and_rethrow) {
  runtime rt{test::opts()};
  auto err = test::run(rt, []() -> task<error> {
    auto sum = co_await add_later(20, 22);
    if (sum != 42)
      co_return error{errc::failed, "wrong sum"};
    try {
      (void)co_await fails_later();
    } catch (const std::runtime_error& x) {
      co_return std::string{x.what()} == "helper failed"
        ? error{}
        : error{errc::failed, "wrong exception"};
    }
    co_return error{errc::failed, "no exception"};
  });
  BOOST_CHECK(!err);
}

BOOST_AUTO_TEST_CASE(a_parked_goroutine_lives_without_references) {
  runtime rt{test::opts()};
  auto in = make_chan<std::string>(rt);
  auto out = make_chan<std::string>(rt, 1);
  // Nothing keeps a handle to the goroutine; its captures must stay alive
  // across the suspension (ASan checks the closure).
  std::string prefix(100, 'p');
  go(rt, [in, out, prefix]() -> task<> {
    auto v = co_await in.recv();
    co_await sleep(1ms);
    co_await out.send(prefix + *v);
  });
  std::this_thread::sleep_for(50ms);
  in.send_blocking("!");
  BOOST_CHECK_EQUAL(*out.recv_blocking(), prefix + "!");
}

BOOST_AUTO_TEST_CASE(go_inside_a_goroutine_uses_its_runtime) {
  runtime rt{test::opts()};
  auto out = make_chan<int>(rt, 10);
  BOOST_CHECK(!test::run(rt, [out]() -> task<> {
    auto inner = make_chan<int>();
    for (int i = 0; i < 10; ++i)
      go([inner, i]() -> task<> { co_await inner.send(i); });
    int sum = 0;
    for (int i = 0; i < 10; ++i)
      sum += *co_await inner.recv();
    co_await out.send(sum);
  }));
  BOOST_CHECK_EQUAL(*out.recv_blocking(), 45);
  BOOST_CHECK_THROW(go([] {}), panic_error); // not in a goroutine
}

BOOST_AUTO_TEST_CASE(a_blocking_goroutine_does_not_stall_the_scheduler) {
  runtime rt{test::opts(1)};
  auto released = make_chan<int>(rt);
  auto out = make_chan<int>(rt, 1);
  go_blocking(rt, [released, out] {
    // Blocks its OS thread, as a C library call would.
    auto v = released.recv_blocking();
    (void)out.try_send(*v);
  });
  // With one scheduler thread, goroutines still run meanwhile.
  BOOST_CHECK(
    !test::run(rt, [released]() -> task<> { co_await released.send(7); }));
  BOOST_CHECK_EQUAL(*out.recv_blocking(), 7);
}

BOOST_AUTO_TEST_CASE(a_goroutine_killed_from_outside_reports_killed) {
  runtime rt{test::opts()};
  auto ch = make_chan<std::string>(rt);
  auto done = make_chan<error>(rt, 1);
  auto g = detail::spawn_goroutine(
    &rt, detail::make_body([ch]() -> task<> { (void)co_await ch.recv(); }), {},
    [done](const error& e) { (void)done.try_send(e); });
  std::this_thread::sleep_for(30ms);
  caf::anon_send_exit(g, caf::exit_reason::kill);
  BOOST_CHECK(*done.recv_blocking() == errc::killed);
  // Its waiter left the channel: nobody receives any more.
  BOOST_CHECK(!ch.try_send("x"));
}

BOOST_AUTO_TEST_CASE(monitors_see_the_outcome_in_the_down_message) {
  runtime rt{test::opts()};
  auto g = detail::spawn_goroutine(&rt, detail::make_body([]() -> task<> {
    co_await yield();
    throw std::runtime_error("exit reason");
  }),
                                   {});
  caf::scoped_actor self{rt.system()};
  self->monitor(g);
  self->receive([&](caf::down_msg& dm) {
    auto err = from_caf_error(dm.reason);
    BOOST_CHECK(err == errc::panic);
    BOOST_CHECK_EQUAL(err.message(), "exit reason");
  });
}

BOOST_AUTO_TEST_CASE(one_close_releases_100000_parked_goroutines) {
  runtime rt{test::opts()};
  constexpr int n = 100000;
  auto gate = make_chan<int>(rt);
  auto exited = std::make_shared<std::atomic<int>>(0);
  auto all_out = make_chan<int>(rt, 1);
  for (int i = 0; i < n; ++i)
    go(rt, [gate, exited, all_out]() -> task<> {
      auto v = co_await gate.recv();
      if (!v && exited->fetch_add(1) + 1 == n)
        (void)all_out.try_send(1);
    });
  gate.close();
  BOOST_CHECK(test::recv_within(rt, all_out, 120s));
  BOOST_CHECK_EQUAL(exited->load(), n);
}

BOOST_AUTO_TEST_CASE(spawning_100000_goroutines_from_one_goroutine_finishes) {
  runtime rt{test::opts()};
  constexpr int n = 100000;
  auto count = make_chan<int>(rt, n);
  BOOST_CHECK(!test::run(rt, [count]() -> task<> {
    for (int i = 0; i < n; ++i)
      go([count] { (void)count.try_send(1); });
    for (int i = 0; i < n; ++i)
      co_await count.recv();
  }));
}

BOOST_AUTO_TEST_CASE(the_prime_sieve_finds_the_first_1000_primes) {
  runtime rt{test::opts()};
  auto primes = make_chan<int>(rt, 1000);
  BOOST_CHECK(!test::run(rt, [primes]() -> task<> {
    auto ch = make_chan<int>();
    go(generate, ch);
    for (int i = 0; i < 1000; ++i) {
      auto prime = *co_await ch.recv();
      co_await primes.send(prime);
      auto next = make_chan<int>();
      go(filter, ch, next, prime);
      ch = next;
    }
  }));
  std::vector<int> got;
  while (auto p = primes.try_recv().value)
    got.push_back(*p);
  BOOST_REQUIRE_EQUAL(got.size(), 1000u);
  BOOST_CHECK_EQUAL(got[0], 2);
  BOOST_CHECK_EQUAL(got[9], 29);
  BOOST_CHECK_EQUAL(got[999], 7919);
  for (size_t i = 0; i < got.size(); ++i)
    for (int d = 2; d * d <= got[i]; ++d)
      BOOST_REQUIRE(got[i] % d != 0);
}

BOOST_AUTO_TEST_CASE(shutdown_with_parked_goroutines_neither_hangs_nor_leaks) {
  for (auto policy : {"cancel", "wait"}) {
    auto t0 = std::chrono::steady_clock::now();
    {
      runtime rt{test::opts(2, policy)};
      auto never = make_chan<std::string>(rt);
      for (int i = 0; i < 10000; ++i)
        go(rt, [never]() -> task<> { (void)co_await never.recv(); });
      std::this_thread::sleep_for(20ms);
    }
    // "wait" notices that every goroutine is asleep and stops waiting long
    // before its 10 s timeout.
    BOOST_CHECK_LT(std::chrono::steady_clock::now() - t0, 8s);
  }
}

BOOST_AUTO_TEST_CASE(shutdown_waits_for_running_goroutines_with_policy_wait) {
  auto finished = std::make_shared<std::atomic<bool>>(false);
  {
    runtime rt{test::opts(2, "wait")};
    go(rt, [finished]() -> task<> {
      co_await sleep(100ms);
      *finished = true;
    });
  }
  BOOST_CHECK(*finished);
}

// -- shutdown from other threads and from inside (issue 9, "Hangs") ----------

BOOST_AUTO_TEST_CASE(go_from_a_thread_during_shutdown_finishes_and_then_fails) {
  // Before the runtime owned the goroutine layer's state, a go() after the
  // cancel hook re-registered a hook and deadlocked on the registry lock.
  auto res = test::run_in_child([] {
    for (int round = 0; round < 20; ++round) {
      auto rt = std::make_unique<runtime>(test::opts(2, "cancel"));
      std::atomic<int> refused{0};
      std::thread spawner{[&] {
        for (;;) { // until refused: every go() after shutdown() must fail
          try {
            go(*rt, [] {});
          } catch (const panic_error& e) {
            if (std::string{e.what()}.find("shutting down")
                == std::string::npos)
              std::_Exit(4);
            ++refused;
            return;
          }
        }
      }};
      std::this_thread::sleep_for(2ms);
      rt->shutdown();
      spawner.join();
      if (refused.load() != 1)
        std::_Exit(3); // go() after shutdown must fail
    }
  });
  BOOST_CHECK(!res.timed_out);
  BOOST_CHECK(res.exited);
  BOOST_CHECK_EQUAL(res.exit_status, 0);
  BOOST_CHECK_MESSAGE(res.err.empty(), res.err);
}

BOOST_AUTO_TEST_CASE(after_from_a_thread_during_shutdown_finishes) {
  auto res = test::run_in_child([] {
    for (int round = 0; round < 20; ++round) {
      auto rt = std::make_unique<runtime>(test::opts(2, "cancel"));
      std::thread timers{[&] {
        for (;;) { // until refused: every after() after shutdown() must fail
          try {
            (void)after(*rt, 1h);
          } catch (const panic_error&) {
            return; // refused once shutdown stopped the timers
          }
        }
      }};
      std::this_thread::sleep_for(2ms);
      rt->shutdown();
      timers.join();
    }
  });
  BOOST_CHECK(!res.timed_out);
  BOOST_CHECK_EQUAL(res.exit_status, 0);
  BOOST_CHECK_MESSAGE(res.err.empty(), res.err);
}

BOOST_AUTO_TEST_CASE(shutdown_inside_a_goroutine_aborts_with_a_message) {
  auto res = test::run_in_child([] {
    runtime rt{test::opts(2, "cancel")};
    go(rt, [&rt] { rt.shutdown(); });
    std::this_thread::sleep_for(10s);
  });
  BOOST_CHECK(!res.timed_out);
  BOOST_CHECK(res.signaled);
  BOOST_CHECK_MESSAGE(res.err.find("shutdown() called inside a goroutine")
                        != std::string::npos,
                      res.err);
}

BOOST_AUTO_TEST_CASE(a_goroutine_that_never_suspends_is_reported_at_exit) {
  // Go cannot preempt C++ either, but the process must not hang silently:
  // after shutdown-timeout the runtime names the goroutine and exits.
  auto res = test::run_in_child([] {
    auto opts = test::opts(2, "cancel");
    opts.overrides.push_back("rotina.shutdown-timeout=300ms");
    runtime rt{opts};
    auto spin = std::make_shared<std::atomic<bool>>(true);
    go_named(rt, "spinner", [spin] {
      while (spin->load(std::memory_order_relaxed)) {
        // never suspends
      }
    });
    std::this_thread::sleep_for(50ms);
    // ~runtime: must not wait for ever
  });
  BOOST_CHECK(!res.timed_out);
  BOOST_CHECK(res.exited);
  BOOST_CHECK_EQUAL(res.exit_status, EXIT_FAILURE);
  BOOST_CHECK_MESSAGE(res.err.find("spinner") != std::string::npos, res.err);
  BOOST_CHECK_MESSAGE(res.err.find("goroutine_test.cpp:") != std::string::npos,
                      res.err);
}

// -- introspection and yield
// ---------------------------------------------------

BOOST_AUTO_TEST_CASE(num_goroutine_counts_the_live_goroutines) {
  runtime rt{test::opts()};
  BOOST_CHECK_EQUAL(num_goroutine(rt), 0u);
  auto release = make_chan<int>(rt);
  auto started = make_chan<int>(rt, 10);
  for (int i = 0; i < 10; ++i)
    go(rt, [release, started]() -> task<> {
      co_await started.send(1);
      (void)co_await release.recv();
    });
  for (int i = 0; i < 10; ++i)
    (void)started.recv_blocking();
  BOOST_CHECK_EQUAL(num_goroutine(rt), 10u);
  release.close();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (num_goroutine(rt) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_CHECK_EQUAL(num_goroutine(rt), 0u);
}

BOOST_AUTO_TEST_CASE(yield_lets_the_other_goroutine_of_the_worker_run) {
  // One worker, two goroutines that yield in turn: each yield must let the
  // other one run (Go's Gosched), so the log alternates.
  runtime rt{test::opts(1)};
  auto log = std::make_shared<std::vector<int>>();
  auto gate = make_chan<int>(rt);
  auto body = [log, gate](int who) -> task<> {
    (void)co_await gate.recv(); // both start queued on the one worker
    for (int i = 0; i < 5; ++i) {
      log->push_back(who);
      co_await yield();
    }
  };
  auto a = test::start(rt, body, 1);
  auto b = test::start(rt, body, 2);
  test::await_waiting(gate, 0, 2);
  // Closed from a goroutine on the one worker: both wake into its queues
  // before either runs (a close from this thread could let one run first).
  BOOST_CHECK(!test::run(rt, [gate] { gate.close(); }));
  BOOST_CHECK(!*a.recv_blocking());
  BOOST_CHECK(!*b.recv_blocking());
  BOOST_REQUIRE_EQUAL(log->size(), 10u);
  for (size_t i = 1; i < log->size(); ++i)
    BOOST_CHECK_NE((*log)[i], (*log)[i - 1]);
}

BOOST_AUTO_TEST_CASE(yield_goes_through_the_run_queue_not_the_clock) {
  // CAF 0.17 routes a zero delay through its clock thread (69-158 us per
  // yield measured); the run queue costs well under a microsecond. 50,000
  // yields took 3.5-8 s that way (docs/benchmarks.md).
  runtime rt{test::opts(1)};
  auto t0 = std::chrono::steady_clock::now();
  BOOST_CHECK(!test::run(rt, []() -> task<> {
    for (int i = 0; i < 50000; ++i)
      co_await yield();
  }));
  BOOST_CHECK_LT(std::chrono::steady_clock::now() - t0, 2s);
}

// -- queued goroutines (pending records) -------------------------------------

BOOST_AUTO_TEST_CASE(a_queued_goroutine_has_no_actor_until_it_runs) {
  // Issue 10: a goroutine that spawns faster than the workers run its
  // children queues small records instead of 1.2 KB actors (peak RSS of 10^6
  // spawns). On one worker no child runs while its parent runs, so all n are
  // queued at once: counted by num_goroutine (Go counts a g from newproc),
  // but no CAF actor exists for them yet.
  runtime rt{test::opts(1)};
  constexpr size_t n = 1000;
  auto ran = std::make_shared<std::atomic<size_t>>(0);
  struct seen {
    caf::actor_id before = 0;
    caf::actor_id after = 0;
    size_t live = 0;
  };
  auto s = std::make_shared<seen>();
  auto* rtp = &rt;
  BOOST_CHECK(!test::run(rt, [rtp, s, ran] {
    s->before = rtp->system().latest_actor_id();
    for (size_t i = 0; i < n; ++i)
      go([ran] { ran->fetch_add(1); });
    s->after = rtp->system().latest_actor_id();
    s->live = num_goroutine(*rtp);
  }));
  BOOST_CHECK_LT(s->after - s->before, 10u); // eager spawning made n actors
  BOOST_CHECK_EQUAL(s->live, n + 1);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while ((ran->load() != n || num_goroutine(rt) != 0)
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_CHECK_EQUAL(ran->load(), n);
  BOOST_CHECK_EQUAL(num_goroutine(rt), 0u);
}

BOOST_AUTO_TEST_CASE(queued_goroutines_canceled_by_shutdown_never_run) {
  // Go's main returning ends every goroutine, started or not. Children still
  // queued when shutdown cancels the runtime must not run their bodies; they
  // are freed and uncounted, and shutdown neither hangs nor leaks.
  runtime rt{test::opts(1, "cancel")};
  auto token = std::make_shared<int>(0);
  auto ran = std::make_shared<std::atomic<int>>(0);
  auto queued = std::make_shared<std::atomic<bool>>(false);
  auto release = std::make_shared<std::atomic<bool>>(false);
  go(rt, [token, ran, queued, release] {
    for (int i = 0; i < 100; ++i)
      go([token, ran] { ran->fetch_add(1); });
    queued->store(true);
    // Keeps the only worker until shutdown() canceled the runtime, so the
    // children are still queued then.
    while (!release->load()) {
      // never suspends
    }
  });
  while (!queued->load())
    std::this_thread::sleep_for(1ms);
  BOOST_CHECK_EQUAL(num_goroutine(rt), 101u);
  auto env = detail::goroutine_env::find(rt);
  BOOST_REQUIRE(env != nullptr);
  // shutdown() runs here: the thread that spawned actors of a CAF system
  // must be the one that destroys it (CAF's thread-local logger reference).
  std::atomic<bool> saw_cancel{false};
  std::thread releaser{[env, release, &saw_cancel] {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!env->canceled() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    saw_cancel = env->canceled();
    release->store(true);
  }};
  rt.shutdown();
  releaser.join();
  BOOST_CHECK(saw_cancel.load());
  BOOST_CHECK_EQUAL(ran->load(), 0);
  BOOST_CHECK_EQUAL(token.use_count(), 1); // every queued body was freed
}

BOOST_AUTO_TEST_CASE(a_queued_goroutine_keeps_its_name_and_origin) {
  // The shutdown report names a goroutine that never suspends by go_named's
  // name and the file:line of its go, also when it was queued first.
  auto res = test::run_in_child([] {
    auto opts = test::opts(2, "cancel");
    opts.overrides.push_back("rotina.shutdown-timeout=300ms");
    runtime rt{opts};
    auto spin = std::make_shared<std::atomic<bool>>(true);
    go(rt, [spin, &rt] {
      go_named(rt, "queued-spinner", [spin] {
        while (spin->load(std::memory_order_relaxed)) {
          // never suspends
        }
      });
    });
    std::this_thread::sleep_for(50ms);
    // ~runtime: must not wait for ever
  });
  BOOST_CHECK(!res.timed_out);
  BOOST_CHECK_EQUAL(res.exit_status, EXIT_FAILURE);
  BOOST_CHECK_MESSAGE(res.err.find("queued-spinner") != std::string::npos,
                      res.err);
  BOOST_CHECK_MESSAGE(res.err.find("goroutine_test.cpp:") != std::string::npos,
                      res.err);
}

BOOST_AUTO_TEST_CASE(a_coroutine_body_that_never_suspends_ends_its_actor) {
  // A coroutine body that returns before it ever suspends ends its goroutine
  // in the first run: its actor must quit (or be pooled), or shutdown waits
  // for it until shutdown-timeout and exits with a report.
  auto res = test::run_in_child([] {
    auto opts = test::opts(2, "wait");
    opts.overrides.push_back("rotina.shutdown-timeout=3s");
    runtime rt{opts};
    auto n = std::make_shared<std::atomic<int>>(0);
    for (int i = 0; i < 20; ++i)
      go(rt, [n]() -> task<> {
        n->fetch_add(1);
        co_return;
      });
    go(rt, [n] {
      for (int i = 0; i < 20; ++i)
        go([n]() -> task<> {
          n->fetch_add(1);
          co_return;
        });
    });
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (n->load() != 40 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    auto t0 = std::chrono::steady_clock::now();
    rt.shutdown();
    if (std::chrono::steady_clock::now() - t0 > 2s)
      std::_Exit(4);
  });
  BOOST_CHECK(!res.timed_out);
  BOOST_CHECK_MESSAGE(res.exit_status == 0, res.err);
}

// -- reused goroutine actors --------------------------------------------------

BOOST_AUTO_TEST_CASE(a_reused_actor_keeps_nothing_of_its_previous_goroutine) {
  // Go reuses a dead g for the next go statement (gfput/gfget) but nothing
  // of the old goroutine shows through. Here the actor of a finished
  // goroutine runs the next one: the next one's failure report must carry
  // its own name (with the actor's generation), not the previous
  // goroutine's go_named name.
  auto res = test::run_in_child([] {
    runtime rt{test::opts(1)};
    auto err = test::run(rt, [&rt]() -> task<> {
      go_named(rt, "first", [] { throw std::runtime_error("a"); });
      for (int i = 0; i < 10; ++i)
        co_await yield(); // "first" runs and finishes on the one worker
      go([] { throw std::runtime_error("b"); });
      for (int i = 0; i < 10; ++i)
        co_await yield();
    });
    if (err)
      std::_Exit(3);
  });
  BOOST_CHECK(!res.timed_out);
  BOOST_CHECK_EQUAL(res.exit_status, 0);
  BOOST_CHECK_MESSAGE(res.err.find("rotina: first: a") != std::string::npos,
                      res.err);
  BOOST_CHECK_MESSAGE(res.err.find("first: b") == std::string::npos, res.err);
  // The second goroutine ran on the first one's actor (generation 1).
  auto pos = res.err.find("rotina: goroutine-");
  BOOST_REQUIRE_MESSAGE(pos != std::string::npos, res.err);
  auto line = res.err.substr(pos, res.err.find('\n', pos) - pos);
  BOOST_CHECK_MESSAGE(line.find(".1: b") != std::string::npos, line);
}

BOOST_AUTO_TEST_CASE(reused_actors_run_each_new_body_from_its_start_once) {
  // 300 goroutines one after another on one worker, so each runs on the
  // actor the previous one left: each must start at its own beginning, park
  // and wake on channels, yield and sleep, and finish exactly once (a stale
  // resume point, yield flag or sleep entry of the previous goroutine would
  // resume the wrong frame or wake it twice).
  runtime rt{test::opts(1)};
  auto starts = std::make_shared<std::atomic<int>>(0);
  auto err = test::run(rt, [&rt, starts]() -> task<> {
    auto in = make_chan<int>(rt);
    auto out = make_chan<int>(rt);
    for (int i = 0; i < 300; ++i) {
      go([in, out, starts, i]() -> task<> {
        starts->fetch_add(1);
        auto v = co_await in.recv();
        co_await yield();
        if (i % 30 == 0)
          co_await sleep(1ms);
        co_await out.send(*v + i);
      });
      co_await in.send(i);
      auto r = co_await out.recv();
      if (*r != 2 * i)
        throw std::logic_error("wrong answer from goroutine "
                               + std::to_string(i));
      for (int k = 0; k < 3; ++k)
        co_await yield(); // let it finish before the next go
    }
  });
  BOOST_CHECK(!err);
  BOOST_CHECK_EQUAL(starts->load(), 300);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (num_goroutine(rt) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_CHECK_EQUAL(num_goroutine(rt), 0u);
}

BOOST_AUTO_TEST_SUITE_END()
