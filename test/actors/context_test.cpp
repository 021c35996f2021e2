// context semantics, after Go's context/context_test.go (TestBackground,
// TestWithCancel, TestParentFinishesChild, TestChildFinishesFirst,
// TestDeadline, TestTimeout, TestCanceledTimeout, TestValues, TestCause,
// TestAfterFunc*) and the Go idiom of selecting on ctx.Done().
#include "rotina/context.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "rotina/chan.hpp"
#include "rotina/errgroup.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/select.hpp"
#include "test_util.hpp"

using namespace rotina;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

inline const context_key<std::string> user_key{"user"};
inline const context_key<int> depth_key{"depth"};

bool is_closed(const context& ctx) {
  return ctx.done().try_recv().status == recv_status::closed;
}

} // namespace

BOOST_AUTO_TEST_SUITE(context_suite, *utf::timeout(60))

BOOST_AUTO_TEST_CASE(background_is_never_done) {
  auto bg = background();
  BOOST_CHECK(!bg.err());
  BOOST_CHECK(bg.done().nil());
  BOOST_CHECK(!bg.deadline());
  BOOST_CHECK(!cause(bg));
  BOOST_CHECK(background() == background());
  BOOST_CHECK(!(context{} == background()));
  BOOST_CHECK(!todo().err());
  BOOST_CHECK(todo().done().nil());
  BOOST_CHECK(!(todo() == background()));
}

// Go's TestWithCancel & co. with a nil parent: "cannot create context from
// nil parent". A default-constructed context is Go's nil Context, not
// Background.
BOOST_AUTO_TEST_CASE(deriving_from_the_nil_context_panics_with_go_wording) {
  runtime rt{test::opts()};
  context nil_ctx;
  BOOST_CHECK(nil_ctx.nil());
  BOOST_CHECK(!background().nil());
  auto check = [](auto&& f) {
    try {
      f();
      BOOST_ERROR("deriving from a nil context did not panic");
    } catch (const panic_error& e) {
      BOOST_CHECK(e.err() == errc::misuse);
      BOOST_CHECK_EQUAL(std::string{e.what()},
                        "cannot create context from nil parent");
    }
  };
  check([&] { (void)with_cancel(nil_ctx); });
  check([&] { (void)with_cancel_cause(nil_ctx); });
  check([&] { (void)with_timeout(nil_ctx, 1s); });
  check([&] { (void)with_deadline(nil_ctx, clock::now() + 1s); });
  check([&] { (void)with_value(nil_ctx, depth_key, 1); });
  check([&] { (void)errgroup::with_context(rt, nil_ctx); });
  // Its accessors panic too (Go dereferences nil), never a silent Background.
  BOOST_CHECK_THROW((void)nil_ctx.err(), panic_error);
  BOOST_CHECK_THROW((void)nil_ctx.done(), panic_error);
  BOOST_CHECK_THROW((void)nil_ctx.deadline(), panic_error);
  BOOST_CHECK_THROW((void)cause(nil_ctx), panic_error);
  BOOST_CHECK_THROW((void)after_func(nil_ctx, [] {}), panic_error);
  BOOST_CHECK_EQUAL(nil_ctx.to_string(), "<nil>");
}

// Go's TestString-like names: context.Background, context.TODO, .WithCancel,
// .WithDeadline(<deadline> [<remaining>]), .WithValue(<key>, <value>).
BOOST_AUTO_TEST_CASE(to_string_names_the_chain_of_constructors_as_go_does) {
  runtime rt{test::opts()};
  BOOST_CHECK_EQUAL(background().to_string(), "context.Background");
  BOOST_CHECK_EQUAL(to_string(todo()), "context.TODO");
  BOOST_CHECK_EQUAL(background(rt).to_string(), "context.Background");
  BOOST_CHECK_EQUAL(todo(rt).to_string(), "context.TODO");
  auto [c1, cancel1] = with_cancel(background(rt));
  BOOST_CHECK_EQUAL(c1.to_string(), "context.Background.WithCancel");
  auto v = with_value(c1, user_key, std::string{"alice"});
  BOOST_CHECK_EQUAL(v.to_string(),
                    "context.Background.WithCancel.WithValue(user, alice)");
  BOOST_CHECK_EQUAL(with_value(todo(), depth_key, 3).to_string(),
                    "context.TODO.WithValue(depth, 3)");
  auto [c2, cancel2] = with_timeout(v, 1h);
  auto name = c2.to_string();
  auto prefix
    = std::string{"context.Background.WithCancel.WithValue(user, alice)"
                  ".WithDeadline(m=+"};
  BOOST_CHECK_MESSAGE(name.starts_with(prefix), name);
  BOOST_CHECK_MESSAGE(name.find(" [59m59.") != std::string::npos
                        || name.find(" [1h0m0s])") != std::string::npos,
                      name);
  BOOST_CHECK_MESSAGE(name.ends_with("s])"), name);
  auto [c3, cancel3] = with_cancel_cause(c2);
  BOOST_CHECK(c3.to_string().ends_with("s]).WithCancel"));
  cancel3(error{});
  cancel2();
  cancel1();
}

BOOST_AUTO_TEST_CASE(cancel_sets_err_and_closes_done_and_twice_is_harmless) {
  auto [ctx, cancel] = with_cancel(background());
  BOOST_CHECK(!ctx.err());
  BOOST_CHECK(ctx.done().try_recv().status == recv_status::empty);
  cancel();
  BOOST_CHECK(ctx.err() == errc::canceled);
  BOOST_CHECK_EQUAL(ctx.err().message(), "context canceled");
  BOOST_CHECK(is_closed(ctx));
  cancel(); // harmless
  BOOST_CHECK(ctx.err() == errc::canceled);
  BOOST_CHECK(!(ctx.err() == errc::deadline_exceeded));
}

// Go's TestParentFinishesChild and TestChildFinishesFirst, three levels deep
// with a value context in between.
BOOST_AUTO_TEST_CASE(cancel_propagates_down_three_levels_and_never_up) {
  auto [top, cancel_top] = with_cancel(background());
  auto [mid, cancel_mid] = with_cancel(top);
  auto val = with_value(mid, depth_key, 2);
  auto [leaf, cancel_leaf] = with_cancel(val);
  auto [leaf2, cancel_leaf2] = with_cancel_cause(leaf);
  cancel_leaf2(error{errc::failed, "leaf only"});
  BOOST_CHECK(leaf2.err() == errc::canceled);
  BOOST_CHECK(!leaf.err() && !mid.err() && !top.err()); // never up
  cancel_mid();
  for (auto* c : {&mid, &val, &leaf}) {
    BOOST_CHECK(c->err() == errc::canceled);
    BOOST_CHECK(is_closed(*c));
  }
  BOOST_CHECK(!top.err());
  BOOST_CHECK(cause(leaf2) == errc::failed); // its own, earlier cause stays
  cancel_top();
  cancel_leaf();
  BOOST_CHECK(top.err() == errc::canceled);
}

BOOST_AUTO_TEST_CASE(a_child_of_a_canceled_parent_is_canceled_at_once) {
  auto [parent, cancel] = with_cancel_cause(background());
  cancel(error{errc::failed, "why"});
  auto [child, cancel_child] = with_cancel(parent);
  BOOST_CHECK(child.err() == errc::canceled);
  BOOST_CHECK(is_closed(child));
  BOOST_CHECK_EQUAL(cause(child).message(), "why");
  cancel_child();
}

BOOST_AUTO_TEST_CASE(a_timeout_fires_within_a_few_ms_of_its_deadline) {
  runtime rt{test::opts()};
  auto start = clock::now();
  auto [ctx, cancel] = with_timeout(background(rt), 50ms);
  BOOST_REQUIRE(ctx.deadline());
  BOOST_CHECK(*ctx.deadline() >= start + 50ms);
  BOOST_CHECK(!ctx.done().recv_blocking()); // closed, no value
  auto elapsed = clock::now() - start;
  BOOST_CHECK(elapsed >= 45ms);
  BOOST_CHECK(elapsed < 2s);
  BOOST_CHECK(ctx.err() == errc::deadline_exceeded);
  BOOST_CHECK_EQUAL(ctx.err().message(), "context deadline exceeded");
  BOOST_CHECK(cause(ctx) == errc::deadline_exceeded);
  cancel(); // after the deadline: harmless, err stays
  BOOST_CHECK(ctx.err() == errc::deadline_exceeded);
}

BOOST_AUTO_TEST_CASE(a_child_of_a_timed_out_parent_reports_deadline_exceeded) {
  runtime rt{test::opts()};
  auto [parent, cancel] = with_timeout(background(rt), 20ms);
  auto [child, cancel_child] = with_cancel(with_value(parent, depth_key, 1));
  auto [grandchild, cancel_gc] = with_timeout(child, 1h);
  // The earlier deadline of the parent wins.
  BOOST_CHECK(grandchild.deadline() == parent.deadline());
  (void)grandchild.done().recv_blocking();
  BOOST_CHECK(grandchild.err() == errc::deadline_exceeded);
  BOOST_CHECK(child.err() == errc::deadline_exceeded);
  cancel_gc();
  cancel_child();
  cancel();
}

// Go's TestCanceledTimeout: canceling before the deadline gives canceled.
BOOST_AUTO_TEST_CASE(cancel_before_the_deadline_reports_canceled) {
  runtime rt{test::opts()};
  auto [ctx, cancel] = with_timeout(background(rt), 1h);
  cancel();
  BOOST_CHECK(ctx.err() == errc::canceled);
  auto [past, cancel_past] = with_deadline(background(rt), clock::now() - 1s);
  BOOST_CHECK(past.err() == errc::deadline_exceeded); // at once
  cancel_past();
}

// Go's rule "If Done is not yet closed, Err returns nil": whoever sees err()
// non-empty must find done() closed. A 2 ms timeout fires on the clock actor
// while this thread polls err(); an explicit cancel races a polling thread.
BOOST_AUTO_TEST_CASE(err_is_empty_while_done_is_open) {
  runtime rt{test::opts()};
  int violations = 0;
  for (int i = 0; i < 300; ++i) {
    auto [ctx, cancel] = with_timeout(background(rt), 2ms);
    auto give_up = clock::now() + 5s;
    for (;;) {
      if (ctx.err()) {
        violations += is_closed(ctx) ? 0 : 1;
        break;
      }
      if (clock::now() > give_up)
        BOOST_FAIL("a 2 ms timeout did not fire within 5 s");
    }
    cancel();
  }
  // A canceler thread cancels 20000 contexts in turn while this thread and a
  // second poller wait for each one's err() and then look at its done().
  constexpr int n = 20000;
  std::vector<context> ctxs;
  std::vector<cancel_func> cancels;
  for (int i = 0; i < n; ++i) {
    auto [ctx, cancel] = with_cancel(background(rt));
    ctxs.push_back(ctx);
    cancels.push_back(cancel);
  }
  std::atomic<int> seen{0};
  std::atomic<int> bad{0};
  auto poll = [&ctxs, &seen, &bad] {
    for (auto& ctx : ctxs) {
      while (!ctx.err())
        ;
      bad += is_closed(ctx) ? 0 : 1;
      ++seen;
    }
  };
  std::thread poller{poll};
  std::thread canceler{[&cancels] {
    for (auto& c : cancels)
      c();
  }};
  poll();
  canceler.join();
  poller.join();
  BOOST_CHECK_EQUAL(seen.load(), 2 * n);
  violations += bad.load();
  BOOST_CHECK_EQUAL(violations, 0);
}

BOOST_AUTO_TEST_CASE(with_deadline_needs_a_runtime) {
  try {
    (void)with_timeout(background(), 1s);
    BOOST_FAIL("with_timeout without a runtime did not panic");
  } catch (const panic_error& e) {
    BOOST_CHECK(e.err() == errc::misuse);
    BOOST_CHECK(std::string{e.what()}.find("no runtime") != std::string::npos);
  }
  BOOST_CHECK_THROW((void)after_func(background(), [] {}), panic_error);
}

// Go's TestValues.
BOOST_AUTO_TEST_CASE(values_are_found_on_the_path_to_the_root) {
  auto c1 = with_value(background(), user_key, std::string{"ann"});
  auto [c2, cancel] = with_cancel(c1);
  auto c3 = with_value(c2, depth_key, 3);
  auto c4 = with_value(c3, user_key, std::string{"bob"}); // shadows
  BOOST_REQUIRE(c3.value(user_key));
  BOOST_CHECK_EQUAL(*c3.value(user_key), "ann");
  BOOST_CHECK_EQUAL(*c4.value(user_key), "bob");
  BOOST_CHECK_EQUAL(*c4.value(depth_key), 3);
  BOOST_CHECK(c1.value(depth_key) == nullptr);
  BOOST_CHECK(background().value(user_key) == nullptr);
  cancel();
  BOOST_CHECK(c4.err() == errc::canceled); // values share cancellation
}

// Go's TestCause.
BOOST_AUTO_TEST_CASE(cause_reports_the_cancel_cause_or_err) {
  auto [a, cancel_a] = with_cancel(background());
  BOOST_CHECK(!cause(a));
  cancel_a();
  BOOST_CHECK(cause(a) == errc::canceled);
  auto [b, cancel_b] = with_cancel_cause(background());
  cancel_b(error{errc::failed, "boom"});
  cancel_b(error{errc::misuse, "later"}); // first cause wins
  BOOST_CHECK(b.err() == errc::canceled);
  BOOST_CHECK(cause(b) == errc::failed);
  BOOST_CHECK_EQUAL(cause(b).message(), "boom");
  auto [c, cancel_c] = with_cancel_cause(background());
  cancel_c(error{});
  BOOST_CHECK(cause(c) == errc::canceled);
}

// Go's TestAfterFuncCalledAfterCancel / NotCalledAfterStop /
// CalledAsynchronously.
BOOST_AUTO_TEST_CASE(after_func_runs_once_after_cancel_unless_stopped) {
  runtime rt{test::opts()};
  auto [ctx, cancel] = with_cancel(background(rt));
  auto ran = make_chan<int>(rt, 4);
  auto stop1 = after_func(ctx, [ran] { (void)ran.try_send(1); });
  auto stop2 = after_func(ctx, [ran] { (void)ran.try_send(2); });
  BOOST_CHECK(stop2());
  BOOST_CHECK(!stop2()); // already stopped
  cancel();
  cancel();
  BOOST_CHECK_EQUAL(*ran.recv_blocking(), 1);
  BOOST_CHECK(!stop1()); // already started
  // Registered on a done context: runs at once.
  auto stop3 = after_func(ctx, [ran] { (void)ran.try_send(3); });
  BOOST_CHECK_EQUAL(*ran.recv_blocking(), 3);
  BOOST_CHECK(!stop3());
  std::this_thread::sleep_for(10ms);
  BOOST_CHECK(ran.try_recv().status == recv_status::empty); // 2 never ran
}

// The Go idiom: select { case v := <-ch: ...; case <-ctx.Done(): ... }.
BOOST_AUTO_TEST_CASE(done_works_as_a_select_case) {
  runtime rt{test::opts()};
  auto [ctx, cancel] = with_cancel(background(rt));
  auto ch = make_chan<int>(rt);
  auto chosen = make_chan<int>(rt, 1);
  auto end = test::start(rt, [ch, chosen, c = ctx]() -> task<> {
    auto i = co_await select(recv_case(ch), recv_case(c.done()));
    co_await chosen.send(static_cast<int>(i));
  });
  std::this_thread::sleep_for(10ms);
  cancel();
  BOOST_CHECK_EQUAL(*chosen.recv_blocking(), 1);
  BOOST_CHECK(!*end.recv_blocking());
}

BOOST_AUTO_TEST_CASE(done_is_awaitable) {
  runtime rt{test::opts()};
  auto [ctx, cancel] = with_timeout(background(rt), 10ms);
  auto err = test::run(rt, [c = ctx]() -> task<error> {
    co_await c.done().recv();
    co_return c.err();
  });
  BOOST_CHECK(err == errc::deadline_exceeded);
  cancel();
}

BOOST_AUTO_TEST_CASE(recv_with_a_context_tells_value_closed_and_canceled) {
  runtime rt{test::opts()};
  auto [ctx, cancel] = with_cancel(background(rt));
  auto ch = make_chan<int>(rt, 2);
  auto out = make_chan<std::string>(rt, 8);
  (void)ch.try_send(7);
  auto end = test::start(rt, [ch, out, c = ctx]() -> task<> {
    auto r = co_await recv(c, ch);
    // g++ 12 mis-destroys a ?: temporary inside co_await: name it first.
    std::string what = r.ok() ? "value " + std::to_string(*r) : "no value";
    co_await out.send(std::move(what));
    auto r2 = co_await recv(c, ch); // parks until canceled
    what = r2.err() == errc::canceled ? "canceled" : "wrong";
    co_await out.send(std::move(what));
    auto [c2, cancel2] = with_cancel(background());
    auto closed = make_chan<int>();
    closed.close();
    auto r3 = co_await recv(c2, closed);
    what = r3.closed() ? "closed" : "wrong";
    co_await out.send(std::move(what));
    cancel2();
  });
  BOOST_CHECK_EQUAL(*out.recv_blocking(), "value 7");
  std::this_thread::sleep_for(10ms);
  cancel();
  BOOST_CHECK_EQUAL(*out.recv_blocking(), "canceled");
  BOOST_CHECK_EQUAL(*out.recv_blocking(), "closed");
  BOOST_CHECK(!*end.recv_blocking());
}

BOOST_AUTO_TEST_CASE(send_with_a_context_returns_its_error_when_canceled) {
  runtime rt{test::opts()};
  auto [ctx, cancel] = with_timeout(background(rt), 30ms);
  auto ch = make_chan<int>(rt); // nobody receives
  auto err = test::run(
    rt, [ch, c = ctx]() -> task<error> { co_return co_await send(c, ch, 1); });
  BOOST_CHECK(err == errc::deadline_exceeded);
  cancel();
}

BOOST_AUTO_TEST_CASE(sleep_with_a_context_returns_early_on_cancel) {
  runtime rt{test::opts()};
  auto [ctx, cancel] = with_cancel(background(rt));
  auto slept = make_chan<clock::duration>(rt, 1);
  auto start = clock::now();
  auto end = test::start(rt, [c = ctx, slept]() -> task<error> {
    auto t0 = clock::now();
    auto full = co_await sleep(c, 20ms); // a full sleep: empty error
    co_await slept.send(clock::now() - t0);
    if (full)
      co_return full;
    co_return co_await sleep(c, 1h);
  });
  auto first = *slept.recv_blocking();
  BOOST_CHECK(first >= 18ms);
  BOOST_CHECK(first < 2s);
  std::this_thread::sleep_for(20ms);
  cancel(); // ends the 1 h sleep
  BOOST_CHECK(*end.recv_blocking() == errc::canceled);
  BOOST_CHECK(clock::now() - start < 5s);
}

BOOST_AUTO_TEST_SUITE_END()
