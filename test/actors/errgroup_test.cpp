// errgroup semantics, after golang.org/x/sync/errgroup's errgroup_test.go
// (TestZeroGroup, TestWithContext, TestTryGo, TestGoLimit, TestCancelCause,
// ExampleGroup_pipeline over a directory created here) plus rotina's
// supervision: throwing bodies and killed workers are errors, never hangs.
#include "rotina/errgroup.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <caf/all.hpp>

#include "rotina/chan.hpp"
#include "rotina/context.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/wait_group.hpp"
#include "test_util.hpp"

using namespace rotina;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace fs = std::filesystem;

namespace {

/// 64-bit FNV-1a of a file's bytes (the example's md5, without a crypto
/// library).
uint64_t hash_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  uint64_t h = 1469598103934665603ull;
  char c;
  while (in.get(c)) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

struct temp_tree {
  fs::path root;

  temp_tree() {
    root = fs::temp_directory_path()
           / ("rotina-errgroup-" + std::to_string(::getpid()) + "-"
              + std::to_string(reinterpret_cast<uintptr_t>(this)));
    for (int d = 0; d < 4; ++d) {
      auto dir = root / ("dir" + std::to_string(d)) / "sub";
      fs::create_directories(dir);
      for (int f = 0; f < 10; ++f) {
        std::ofstream out{dir / ("file" + std::to_string(f) + ".txt")};
        out << "contents of " << d << '/' << f << '\n';
      }
    }
  }

  ~temp_tree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

struct hashed {
  std::string path;
  uint64_t sum;
};

} // namespace

BOOST_AUTO_TEST_SUITE(errgroup_suite, *utf::timeout(120))

// Go's TestZeroGroup: wait returns the first error, in submission order when
// each body is waited for before the next.
BOOST_AUTO_TEST_CASE(first_error_wins) {
  runtime rt{test::opts()};
  std::vector<std::vector<error>> cases = {
    {},
    {error{}},
    {error{errc::failed, "err1"}},
    {error{errc::failed, "err1"}, error{}},
    {error{errc::failed, "err1"}, error{}, error{errc::misuse, "err2"}},
  };
  for (auto& errs : cases) {
    errgroup g{rt};
    error first;
    for (auto& e : errs) {
      g.go([e] { return e; });
      if (!first)
        first = e;
      error got = g.wait_blocking();
      BOOST_CHECK(got == first);
      BOOST_CHECK_EQUAL(got.message(), first ? first.message() : got.message());
    }
  }
}

// Go's TestWithContext: the context is canceled after the first error, with
// that error as cause, and after wait() even when nothing failed.
BOOST_AUTO_TEST_CASE(context_is_canceled_after_the_first_error) {
  runtime rt{test::opts()};
  auto [g, ctx] = errgroup::with_context(rt, background());
  auto gate = make_chan<int>(rt);
  g.go([] { return error{errc::failed, "first failure"}; });
  g.go([ctx = ctx]() -> task<error> {
    co_await ctx.done().recv(); // canceled by the other body's error
    co_return error{errc::failed, "second"};
  });
  error err = g.wait_blocking();
  BOOST_CHECK(err == errc::failed);
  BOOST_CHECK_EQUAL(err.message(), "first failure");
  BOOST_CHECK(ctx.err() == errc::canceled);
  BOOST_CHECK_EQUAL(cause(ctx).message(), "first failure");
}

BOOST_AUTO_TEST_CASE(context_is_canceled_when_wait_returns_without_errors) {
  runtime rt{test::opts()};
  auto [g, ctx] = errgroup::with_context(rt, background());
  std::atomic<bool> saw_live{false};
  for (int i = 0; i < 10; ++i)
    g.go([c = ctx, &saw_live] {
      if (!c.err())
        saw_live = true;
    });
  error err = g.wait_blocking();
  BOOST_CHECK(!err);
  BOOST_CHECK(saw_live.load());
  BOOST_CHECK(ctx.err() == errc::canceled);
  BOOST_CHECK(cause(ctx) == errc::canceled);
  BOOST_CHECK(ctx.done().try_recv().status == recv_status::closed);
}

// Go's TestGoLimit: the observed maximum of concurrent bodies equals the
// limit, under load.
BOOST_AUTO_TEST_CASE(set_limit_bounds_concurrency_to_exactly_the_limit) {
  runtime rt{test::opts()};
  for (int limit : {1, 4, 16}) {
    errgroup g{rt};
    g.set_limit(limit);
    std::atomic<int> active{0};
    std::atomic<int> max_active{0};
    for (int i = 0; i < 300; ++i)
      g.go([&]() -> task<error> {
        int now = ++active;
        int prev = max_active.load();
        while (now > prev && !max_active.compare_exchange_weak(prev, now)) {
        }
        co_await sleep(200us); // parks the worker: others get to run
        --active;
        co_return error{};
      });
    error err = g.wait_blocking();
    BOOST_CHECK(!err);
    BOOST_CHECK_EQUAL(max_active.load(), limit);
  }
}

// Go's TestTryGo.
BOOST_AUTO_TEST_CASE(try_go_fails_at_the_limit_and_succeeds_after) {
  runtime rt{test::opts()};
  errgroup g{rt};
  constexpr int limit = 3;
  g.set_limit(limit);
  auto gate = make_chan<int>(rt);
  for (int i = 0; i < limit; ++i)
    BOOST_CHECK(g.try_go([gate]() -> task<> { (void)co_await gate.recv(); }));
  BOOST_CHECK(!g.try_go([] {}));
  gate.close();
  error err = g.wait_blocking();
  BOOST_CHECK(!err);
  BOOST_CHECK(g.try_go([] {}));
  g.wait_blocking();
  // Without a limit try_go always starts the body.
  errgroup h{rt};
  for (int i = 0; i < 50; ++i)
    BOOST_CHECK(h.try_go([] {}));
  h.wait_blocking();
}

BOOST_AUTO_TEST_CASE(changing_the_limit_while_bodies_run_is_misuse) {
  runtime rt{test::opts()};
  errgroup g{rt};
  auto gate = make_chan<int>(rt);
  g.go([gate]() -> task<> { (void)co_await gate.recv(); });
  try {
    g.set_limit(2);
    BOOST_FAIL("set_limit while active did not throw");
  } catch (const panic_error& e) {
    BOOST_CHECK(e.err() == errc::misuse);
    BOOST_CHECK_EQUAL(std::string{e.what()},
                      "errgroup: modify limit while 1 goroutines in the group "
                      "are still active");
  }
  gate.close();
  g.wait_blocking();
  g.set_limit(2); // fine once idle
}

// Go: "A limit of zero will prevent any new goroutines from being added."
// Go's Go then blocks for ever; rotina refuses at once and wait() never hangs.
BOOST_AUTO_TEST_CASE(limit_zero_refuses_every_body_and_wait_returns_at_once) {
  runtime rt{test::opts()};
  errgroup g{rt};
  g.set_limit(0);
  BOOST_CHECK(!g.try_go([] {}));
  try {
    g.go([] {});
    BOOST_ERROR("go with limit 0 did not panic");
  } catch (const panic_error& e) {
    BOOST_CHECK(e.err() == errc::misuse);
    BOOST_CHECK_MESSAGE(
      std::string{e.what()}.starts_with("errgroup: go with limit 0"), e.what());
  }
  BOOST_CHECK_THROW(g.go_wait_blocking([] {}), panic_error);
  auto err = test::run(rt, [g]() -> task<error> {
    auto f = [] {};
    try {
      co_await g.go_wait(f);
    } catch (const panic_error& e) {
      co_return e.err();
    }
    co_return error{};
  });
  BOOST_CHECK(err == errc::misuse);
  BOOST_CHECK(!g.wait_blocking()); // nothing pends: returns at once
  g.set_limit(1);
  std::atomic<int> ran{0};
  g.go([&ran] { ++ran; });
  BOOST_CHECK(!g.wait_blocking());
  BOOST_CHECK_EQUAL(ran.load(), 1);
}

// Go's Group.Go with a limit blocks its caller until a slot is free
// (TestGoLimit): go_wait parks the goroutine, go_wait_blocking the thread.
BOOST_AUTO_TEST_CASE(go_wait_blocks_the_caller_until_a_slot_is_free) {
  runtime rt{test::opts()};
  constexpr int limit = 2;
  constexpr int n = 12;
  errgroup g{rt};
  g.set_limit(limit);
  std::atomic<int> finished{0};
  std::atomic<int> active{0};
  std::atomic<int> max_active{0};
  std::atomic<int> early{0}; // a go_wait that returned with no slot free
  auto err
    = test::run(rt, [g, &finished, &active, &max_active, &early]() -> task<> {
        auto f = [&finished, &active, &max_active]() -> task<> {
          int now = ++active;
          int prev = max_active.load();
          while (now > prev && !max_active.compare_exchange_weak(prev, now)) {
          }
          co_await sleep(1ms);
          --active;
          ++finished;
        };
        for (int i = 0; i < n; ++i) {
          co_await g.go_wait(f);
          // i + 1 bodies submitted, at most `limit` of them unfinished.
          if (i + 1 - finished.load() > limit)
            ++early;
        }
      });
  BOOST_CHECK(!err);
  BOOST_CHECK(!g.wait_blocking());
  BOOST_CHECK_EQUAL(finished.load(), n);
  BOOST_CHECK_EQUAL(early.load(), 0);
  BOOST_CHECK_LE(max_active.load(), limit);
  // The plain-thread form.
  auto gate = make_chan<int>(rt);
  for (int i = 0; i < limit; ++i)
    g.go_wait_blocking([gate]() -> task<> { (void)co_await gate.recv(); });
  std::atomic<bool> submitted{false};
  std::thread t{[g, &submitted] {
    g.go_wait_blocking([] {});
    submitted = true;
  }};
  std::this_thread::sleep_for(20ms);
  BOOST_CHECK(!submitted.load()); // both slots taken: blocked
  gate.send_blocking(1);          // one body ends, its slot goes to t
  t.join();
  BOOST_CHECK(submitted.load());
  gate.close();
  BOOST_CHECK(!g.wait_blocking());
}

// A goroutine killed while parked in go_wait leaves the queue of slot waiters;
// its body is dropped, never run, and the group's slot accounting holds.
BOOST_AUTO_TEST_CASE(a_goroutine_killed_in_go_wait_drops_its_body) {
  runtime rt{test::opts()};
  errgroup g{rt};
  g.set_limit(1);
  auto gate = make_chan<int>(rt);
  g.go([gate]() -> task<> { (void)co_await gate.recv(); });
  std::atomic<int> ran{0};
  wait_group wg{rt};
  auto waiter = wg.go([g, &ran]() -> task<> {
    auto f = [&ran] { ++ran; };
    co_await g.go_wait(f); // parks: the only slot is taken
    ran += 100;            // never reached: killed while parked
  });
  std::this_thread::sleep_for(20ms);
  caf::anon_send_exit(waiter, caf::exit_reason::kill);
  wg.wait_blocking();
  BOOST_REQUIRE_EQUAL(wg.errors().size(), 1u);
  BOOST_CHECK(wg.errors()[0] == errc::killed);
  gate.close();
  BOOST_CHECK(!g.wait_blocking());
  BOOST_CHECK_EQUAL(ran.load(), 0);
  // The slot is free again.
  BOOST_CHECK(g.try_go([&ran] { ++ran; }));
  BOOST_CHECK(!g.wait_blocking());
  BOOST_CHECK_EQUAL(ran.load(), 1);
}

// Issue 10: wait() is an awaiter only: it converts to nothing and dropping
// it unawaited never blocks; plain threads say wait_blocking().
static_assert(!std::is_convertible_v<detail::errgroup_wait<false>, error>);
static_assert(
  !std::is_convertible_v<detail::errgroup_wait<true>, std::vector<error>>);

BOOST_AUTO_TEST_CASE(an_unawaited_wait_never_blocks_its_thread) {
  runtime rt{test::opts()};
  errgroup g{rt};
  auto gate = make_chan<int>(rt);
  g.go([gate]() -> task<> { (void)co_await gate.recv(); });
  std::atomic<bool> returned{false};
  std::thread t{[g, &returned] {
    { auto w = g.wait(); }
    { auto w = g.wait_all(); }
    returned = true;
  }};
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!returned.load() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_CHECK(returned.load());
  gate.close(); // releases the thread if it blocked after all
  t.join();
  BOOST_CHECK(!g.wait_blocking());
  BOOST_CHECK(g.wait_all_blocking().empty());
}

// Misuse is a panic_error (issue 10), never std::logic_error.
BOOST_AUTO_TEST_CASE(go_without_a_runtime_is_a_panic_and_nothing_pends) {
  errgroup g; // zero value on a plain thread: no runtime to start in
  BOOST_CHECK_THROW(g.go([] {}), panic_error);
  BOOST_CHECK_THROW(g.go_wait_blocking([] {}), panic_error);
  BOOST_CHECK(!g.wait_blocking()); // nothing was queued: returns at once
}

BOOST_AUTO_TEST_CASE(a_body_that_throws_is_its_error_with_message) {
  runtime rt{test::opts()};
  errgroup g{rt};
  g.set_limit(2);
  g.go([]() -> task<error> {
    co_await yield();
    throw std::runtime_error("disk on fire");
  });
  error err = g.wait_blocking();
  BOOST_CHECK(err == errc::panic);
  BOOST_CHECK_EQUAL(err.message(), "disk on fire");
}

BOOST_AUTO_TEST_CASE(wait_all_returns_every_error) {
  runtime rt{test::opts()};
  errgroup g{rt};
  g.set_limit(4);
  for (int i = 0; i < 20; ++i)
    g.go([i]() -> error {
      if (i % 5 == 0)
        return error{errc::failed, "task " + std::to_string(i)};
      return {};
    });
  std::vector<error> errs = g.wait_all_blocking();
  BOOST_REQUIRE_EQUAL(errs.size(), 4u);
  std::vector<std::string> msgs;
  for (auto& e : errs)
    msgs.push_back(e.message());
  std::sort(msgs.begin(), msgs.end());
  BOOST_CHECK_EQUAL(msgs[0], "task 0");
  BOOST_CHECK_EQUAL(msgs[3], "task 5");
  error first = g.wait_blocking(); // wait() stays Go's: the first one only
  BOOST_CHECK(first == errc::failed);
}

BOOST_AUTO_TEST_CASE(a_killed_worker_is_an_error_and_queued_bodies_still_run) {
  runtime rt{test::opts()};
  errgroup g{rt};
  g.set_limit(1);
  auto never = make_chan<int>(rt);
  std::atomic<bool> second_ran{false};
  g.go([never]() -> task<> { (void)co_await never.recv(); });
  g.go([&second_ran] { second_ran = true; });
  std::vector<caf::actor> workers;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((workers = g.workers()).empty()
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_REQUIRE_EQUAL(workers.size(), 1u);
  std::this_thread::sleep_for(10ms); // let it park in the first body
  caf::anon_send_exit(workers[0], caf::exit_reason::kill);
  std::vector<error> errs = g.wait_all_blocking();
  BOOST_REQUIRE_EQUAL(errs.size(), 1u);
  BOOST_CHECK(errs[0] == errc::killed);
  BOOST_CHECK(second_ran.load());
}

BOOST_AUTO_TEST_CASE(co_await_wait_inside_a_goroutine_and_nested_go) {
  runtime rt{test::opts()};
  std::atomic<int> sum{0};
  auto err = test::run(rt, [&sum]() -> task<error> {
    errgroup g; // zero value: this goroutine's runtime
    g.set_limit(3);
    for (int i = 1; i <= 10; ++i)
      g.go([g, i, &sum] {
        sum += i;
        if (i == 10)
          g.go([&sum] { sum += 100; }); // a body may start more bodies
      });
    co_return co_await g.wait();
  });
  BOOST_CHECK(!err);
  BOOST_CHECK_EQUAL(sum.load(), 155);
}

// errgroup_cancel: after the failing task no more than one limit-wide wave of
// further bodies passes its context check, as in Go.
BOOST_AUTO_TEST_CASE(after_the_first_error_at_most_one_wave_of_bodies_starts) {
  runtime rt{test::opts()};
  constexpr int n = 2000;
  constexpr int fail_at = 500;
  constexpr int limit = 8;
  auto [g, ctx] = errgroup::with_context(rt, background());
  g.set_limit(limit);
  std::atomic<int> ran{0};
  for (int i = 0; i < n; ++i)
    g.go([i, c = ctx, &ran]() -> error {
      if (c.err())
        return c.err();
      ++ran;
      if (i == fail_at)
        return error{errc::failed, "task failed"};
      return {};
    });
  error err = g.wait_blocking();
  BOOST_CHECK_EQUAL(err.message(), "task failed");
  BOOST_CHECK_GE(ran.load(), fail_at + 1 - limit);
  BOOST_CHECK_LE(ran.load(), fail_at + 1 + limit);
}

// errgroup's ExampleGroup_pipeline (md5all): walk a directory tree in one
// body, hash the files in a bounded number of bodies, collect the sums
// through a channel; the first error cancels the rest.
BOOST_AUTO_TEST_CASE(parallel_hashing_of_a_directory_tree_md5all) {
  runtime rt{test::opts()};
  temp_tree tree;
  std::map<std::string, uint64_t> expected;
  for (auto& e : fs::recursive_directory_iterator(tree.root))
    if (e.is_regular_file())
      expected[e.path().string()] = hash_file(e.path());
  BOOST_REQUIRE_EQUAL(expected.size(), 40u);

  std::map<std::string, uint64_t> got;
  auto err = test::run(rt, [&]() -> task<error> {
    auto [g, ctx] = errgroup::with_context(rt, background());
    auto paths = make_chan<std::string>();
    g.go([paths, c = ctx, root = tree.root]() -> task<error> {
      std::vector<std::string> files;
      for (auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file())
          files.push_back(e.path().string());
      for (auto& f : files)
        if (auto e = co_await send(c, paths, f))
          co_return e;
      paths.close();
      co_return error{};
    });
    auto results = make_chan<hashed>();
    constexpr int num_digesters = 4;
    for (int i = 0; i < num_digesters; ++i)
      g.go([paths, results, c = ctx]() -> task<error> {
        for (;;) {
          auto p = co_await paths.recv();
          if (!p)
            co_return error{};
          hashed h{*p, hash_file(*p)};
          if (auto e = co_await send(c, results, std::move(h)))
            co_return e;
        }
      });
    go([grp = g, results]() -> task<> {
      (void)co_await grp.wait();
      results.close();
    });
    while (auto r = co_await results.recv())
      got[r->path] = r->sum;
    co_return co_await g.wait();
  });
  BOOST_CHECK(!err);
  BOOST_CHECK(got == expected);
}

BOOST_AUTO_TEST_CASE(md5all_stops_at_the_first_error) {
  runtime rt{test::opts()};
  auto err = test::run(rt, [&rt]() -> task<error> {
    auto [g, ctx] = errgroup::with_context(rt, background());
    g.set_limit(2);
    auto paths = make_chan<std::string>();
    g.go([paths, c = ctx]() -> task<error> {
      for (int i = 0;; ++i)
        if (auto e
            = co_await send(c, paths, "/nonexistent/" + std::to_string(i)))
          co_return e; // canceled: stop producing
    });
    g.go([paths, c = ctx]() -> task<error> {
      auto p = co_await recv(c, paths);
      if (p.ok() && !fs::exists(*p))
        co_return error{errc::failed, "open " + *p + ": no such file"};
      co_return p.err();
    });
    co_return co_await g.wait();
  });
  BOOST_CHECK(err == errc::failed);
  BOOST_CHECK_EQUAL(err.message(), "open /nonexistent/0: no such file");
}

BOOST_AUTO_TEST_SUITE_END()
