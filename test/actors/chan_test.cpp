// Channel semantics, after Go's spec ("Channel types", "Send statements",
// "Receive operator", "Close") and its test/chan tests.
#include "rotina/chan.hpp"

#include <atomic>
#include <csignal>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "rotina/chan_actor.hpp"

#include "rotina/goroutine.hpp"
#include "rotina/select.hpp"
#include "test_util.hpp"

using namespace rotina;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

// Directional views are checked at compile time.
template <class C>
concept can_send = requires(C c) {
  c.send(1);
};
template <class C>
concept can_close = requires(C c) {
  c.close();
};
template <class C>
concept can_recv = requires(C c) {
  c.recv();
};
template <class C, class V>
concept can_send_value = requires(C c, V v) {
  c.send(v);
};

static_assert(!can_send<recv_chan<int>>);
static_assert(!can_close<recv_chan<int>>);
static_assert(!can_recv<send_chan<int>>);
static_assert(can_send<send_chan<int>> && can_close<send_chan<int>>);
static_assert(can_send<chan<int>> && can_recv<chan<int>>);
static_assert(std::is_convertible_v<chan<int>, recv_chan<int>>);
static_assert(std::is_convertible_v<chan<int>, send_chan<int>>);
static_assert(!std::is_convertible_v<recv_chan<int>, chan<int>>);
// A chan<T> carries only T.
static_assert(!std::is_convertible_v<chan<int>, chan<long>>);
static_assert(!can_send_value<chan<std::string>, std::vector<int>>);

} // namespace

BOOST_AUTO_TEST_SUITE(chan_suite, *utf::timeout(120))

BOOST_AUTO_TEST_CASE(unbuffered_send_completes_only_when_a_receiver_takes_it) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  std::atomic<bool> sent{false};
  auto done = test::start(rt, [ch, &sent]() -> task<> {
    co_await ch.send(42);
    sent = true;
  });
  std::this_thread::sleep_for(50ms);
  BOOST_CHECK(!sent);
  BOOST_CHECK_EQUAL(ch.recv_blocking().value(), 42);
  BOOST_CHECK(!done.recv_blocking().value());
  BOOST_CHECK(sent);
}

BOOST_AUTO_TEST_CASE(unbuffered_recv_waits_for_a_sender) {
  runtime rt{test::opts()};
  auto ch = make_chan<std::string>(rt);
  auto got = make_chan<std::string>(rt, 1);
  test::start(rt, [ch, got]() -> task<> {
    auto v = co_await ch.recv();
    co_await got.send(v.value_or("closed"));
  });
  std::this_thread::sleep_for(30ms);
  BOOST_CHECK(got.try_recv().status == recv_status::empty);
  ch.send_blocking(std::string(64, 'v'));
  BOOST_CHECK_EQUAL(*got.recv_blocking(), std::string(64, 'v'));
}

BOOST_AUTO_TEST_CASE(buffered_send_blocks_only_when_the_buffer_is_full) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt, 3);
  std::atomic<int> sent{0};
  auto done = test::start(rt, [ch, &sent]() -> task<> {
    for (int i = 0; i < 4; ++i) {
      co_await ch.send(i);
      ++sent;
    }
  });
  std::this_thread::sleep_for(50ms);
  BOOST_CHECK_EQUAL(sent.load(), 3);
  BOOST_CHECK_EQUAL(ch.len(), 3u);
  BOOST_CHECK_EQUAL(ch.cap(), 3u);
  BOOST_CHECK_EQUAL(*ch.recv_blocking(), 0);
  BOOST_CHECK(!done.recv_blocking().value());
  BOOST_CHECK_EQUAL(sent.load(), 4);
  for (int i = 1; i < 4; ++i)
    BOOST_CHECK_EQUAL(*ch.recv_blocking(), i);
}

BOOST_AUTO_TEST_CASE(recv_drains_buffer_then_reports_closed) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt, 4);
  auto err = test::run(rt, [ch]() -> task<> {
    co_await ch.send(1);
    co_await ch.send(2);
    ch.close();
  });
  BOOST_CHECK(!err);
  BOOST_CHECK_EQUAL(ch.len(), 2u);
  BOOST_CHECK_EQUAL(*ch.recv_blocking(), 1);
  BOOST_CHECK_EQUAL(*ch.recv_blocking(), 2);
  for (int i = 0; i < 3; ++i) // closed, at once, forever
    BOOST_CHECK(!ch.recv_blocking().has_value());
  BOOST_CHECK(ch.try_recv().status == recv_status::closed);
}

BOOST_AUTO_TEST_CASE(close_wakes_blocked_receivers_with_closed) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  auto results = make_chan<bool>(rt, 8);
  for (int i = 0; i < 8; ++i)
    test::start(rt, [ch, results]() -> task<> {
      auto v = co_await ch.recv();
      co_await results.send(v.has_value());
    });
  std::this_thread::sleep_for(30ms);
  ch.close();
  for (int i = 0; i < 8; ++i)
    BOOST_CHECK(!*test::recv_within(rt, results));
}

BOOST_AUTO_TEST_CASE(close_makes_blocked_senders_panic) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  std::vector<chan<error>> dones;
  for (int i = 0; i < 4; ++i)
    dones.push_back(
      test::start(rt, [ch, i]() -> task<> { co_await ch.send(i); }));
  std::this_thread::sleep_for(30ms);
  ch.close();
  for (auto& d : dones) {
    auto err = *d.recv_blocking();
    BOOST_CHECK(err == errc::send_on_closed);
    BOOST_CHECK_EQUAL(err.message(), "send on closed channel");
  }
}

BOOST_AUTO_TEST_CASE(
  send_on_closed_channel_panics_and_ends_only_that_goroutine) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt, 1);
  ch.close();
  auto err = test::run(rt, [ch]() -> task<> { co_await ch.send(1); });
  BOOST_CHECK(err == errc::send_on_closed);
  BOOST_CHECK_THROW((void)ch.try_send(1), panic_error);
  BOOST_CHECK_THROW(ch.send_blocking(1), panic_error);
  // Other goroutines go on.
  auto ok = make_chan<int>(rt, 1);
  BOOST_CHECK(!test::run(rt, [ok]() -> task<> { co_await ok.send(7); }));
  BOOST_CHECK_EQUAL(*ok.recv_blocking(), 7);
}

BOOST_AUTO_TEST_CASE(close_of_closed_and_of_nil_channel_panic) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  ch.close();
  try {
    ch.close();
    BOOST_FAIL("no panic");
  } catch (const panic_error& x) {
    BOOST_CHECK(x.err() == errc::close_of_closed);
    BOOST_CHECK_EQUAL(std::string{x.what()}, "close of closed channel");
  }
  chan<int> nil;
  BOOST_CHECK(nil.nil());
  BOOST_CHECK_THROW(nil.close(), panic_error);
  auto err = test::run(rt, [nil] { nil.close(); });
  BOOST_CHECK(err == errc::close_of_nil);
}

BOOST_AUTO_TEST_CASE(nil_channel_blocks_forever_until_shutdown) {
  auto parked = std::make_shared<std::atomic<int>>(0);
  {
    runtime rt{test::opts()};
    chan<int> nil;
    auto a = test::start(rt, [nil, parked]() -> task<> {
      ++*parked;
      co_await nil.send(1);
      ++*parked; // never reached
    });
    auto b = test::start(rt, [nil, parked]() -> task<> {
      ++*parked;
      (void)co_await nil.recv();
      ++*parked;
    });
    std::this_thread::sleep_for(50ms);
    BOOST_CHECK(a.try_recv().status == recv_status::empty);
    BOOST_CHECK(b.try_recv().status == recv_status::empty);
    BOOST_CHECK(nil.try_recv().status == recv_status::empty);
    BOOST_CHECK(!nil.try_send(1));
    BOOST_CHECK_EQUAL(nil.len(), 0u);
    BOOST_CHECK_EQUAL(nil.cap(), 0u);
  } // shutdown cancels both; no hang, no leak
  BOOST_CHECK_EQUAL(parked->load(), 2);
}

BOOST_AUTO_TEST_CASE(try_send_and_try_recv_report_every_outcome) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt, 1);
  BOOST_CHECK(ch.try_recv().status == recv_status::empty);
  BOOST_CHECK(ch.try_send(1));
  BOOST_CHECK(!ch.try_send(2)); // full
  auto r = ch.try_recv();
  BOOST_CHECK(r.status == recv_status::received);
  BOOST_CHECK_EQUAL(*r.value, 1);
  auto unbuffered = make_chan<int>(rt);
  BOOST_CHECK(!unbuffered.try_send(1)); // no receiver waiting
  ch.close();
  BOOST_CHECK(ch.try_recv().status == recv_status::closed);
}

BOOST_AUTO_TEST_CASE(try_send_hands_off_to_a_waiting_receiver) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  auto got = test::start(rt, [ch]() -> task<error> {
    auto v = co_await ch.recv();
    co_return *v == 5 ? error{} : error{errc::failed, "wrong value"};
  });
  bool sent = false;
  for (int i = 0; i < 2000 && !sent; ++i) {
    sent = ch.try_send(5);
    if (!sent)
      std::this_thread::sleep_for(1ms);
  }
  BOOST_CHECK(sent);
  BOOST_CHECK(!*got.recv_blocking());
}

// Go's chan.go recv: "the queue is full ... take the item at the head of the
// queue. Make the sender enqueue its item at the tail of the queue". The
// receive that frees a slot moves the longest-waiting sender's value in at
// once; the core's fast path (buffer holds a value) must not skip that.
BOOST_AUTO_TEST_CASE(a_recv_from_a_full_buffer_moves_a_parked_sender_in) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt, 2);
  BOOST_REQUIRE(ch.try_send(1));
  BOOST_REQUIRE(ch.try_send(2));
  test::start(rt, [ch]() -> task<> { co_await ch.send(3); });
  test::await_waiting(ch, 1, 0);
  auto r = ch.try_recv();
  BOOST_REQUIRE(r.status == recv_status::received);
  BOOST_CHECK_EQUAL(*r.value, 1);
  // Done under the receive's lock: no wait.
  BOOST_CHECK_EQUAL(ch.len(), 2u);
  BOOST_CHECK(ch.state()->waiting() == std::make_pair(size_t{0}, size_t{0}));
  BOOST_CHECK_EQUAL(*ch.try_recv().value, 2);
  BOOST_CHECK_EQUAL(*ch.try_recv().value, 3);
}

// Go's chan.go send: "Found a waiting receiver. We pass the value we want to
// send directly to the receiver, bypassing the channel buffer". The core's
// fast path (room in the buffer) must not buffer it instead.
BOOST_AUTO_TEST_CASE(
  a_send_to_a_buffered_channel_hands_off_to_a_parked_receiver) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt, 2);
  auto got = test::start(rt, [ch]() -> task<error> {
    auto v = co_await ch.recv();
    co_return v&&* v == 7 ? error{} : error{errc::failed, "wrong value"};
  });
  test::await_waiting(ch, 0, 1);
  BOOST_REQUIRE(ch.try_send(7));
  BOOST_CHECK_EQUAL(ch.len(), 0u);
  BOOST_CHECK(ch.state()->waiting() == std::make_pair(size_t{0}, size_t{0}));
  BOOST_CHECK(!*got.recv_blocking());
}

BOOST_AUTO_TEST_CASE(values_come_out_in_fifo_order) {
  runtime rt{test::opts()};
  for (size_t cap : {0u, 1u, 7u, 1024u}) {
    auto ch = make_chan<int>(rt, cap);
    test::start(rt, [ch]() -> task<> {
      for (int i = 0; i < 10000; ++i)
        co_await ch.send(i);
      ch.close();
    });
    int expected = 0;
    while (auto v = ch.recv_blocking())
      BOOST_REQUIRE_EQUAL(*v, expected++);
    BOOST_CHECK_EQUAL(expected, 10000);
  }
}

BOOST_AUTO_TEST_CASE(each_senders_values_stay_in_order_with_many_senders) {
  runtime rt{test::opts(4)};
  constexpr int senders = 8;
  constexpr int per_sender = 5000;
  auto ch = make_chan<std::pair<int, int>>(rt, 16);
  for (int s = 0; s < senders; ++s)
    test::start(rt, [ch, s]() -> task<> {
      for (int i = 0; i < per_sender; ++i)
        co_await ch.send({s, i});
    });
  std::vector<int> next(senders, 0);
  for (int n = 0; n < senders * per_sender; ++n) {
    auto [s, i] = *ch.recv_blocking();
    BOOST_REQUIRE_EQUAL(i, next[s]);
    ++next[s];
  }
}

BOOST_AUTO_TEST_CASE(blocked_senders_are_served_in_arrival_order) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  for (int i = 0; i < 5; ++i) {
    test::start(rt, [ch, i]() -> task<> { co_await ch.send(i); });
    test::await_waiting(ch, i + 1, 0); // sender i parked before i+1 starts
  }
  for (int i = 0; i < 5; ++i)
    BOOST_CHECK_EQUAL(*ch.recv_blocking(), i);
}

BOOST_AUTO_TEST_CASE(blocked_receivers_are_served_in_arrival_order) {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  auto order = make_chan<int>(rt, 5);
  for (int i = 0; i < 5; ++i) {
    test::start(rt, [ch, order, i]() -> task<> {
      auto v = co_await ch.recv();
      co_await order.send(i * 100 + *v);
    });
    test::await_waiting(ch, 0, i + 1);
  }
  for (int i = 0; i < 5; ++i) {
    ch.send_blocking(i);
    BOOST_CHECK_EQUAL(*order.recv_blocking(), i * 100 + i);
  }
}

BOOST_AUTO_TEST_CASE(every_value_is_received_exactly_once) {
  // 10^6 values, 8 senders and 8 receivers, unbuffered and buffered, swept
  // over 1, 2 and 4 scheduler threads.
  constexpr int64_t senders = 8, receivers = 8, per_sender = 125000;
  constexpr int64_t total = senders * per_sender;
  for (size_t threads : {1u, 2u, 4u}) {
    runtime rt{test::opts(threads)};
    for (size_t cap : {0u, 64u}) {
      auto ch = make_chan<int64_t>(rt, cap);
      auto sent = make_chan<int>(rt, senders);
      auto sums = make_chan<std::pair<int64_t, int64_t>>(rt, receivers);
      for (int64_t s = 0; s < senders; ++s)
        test::start(rt, [ch, sent, s]() -> task<> {
          for (int64_t i = 0; i < per_sender; ++i)
            co_await ch.send(s * per_sender + i + 1);
          co_await sent.send(1);
        });
      for (int64_t r = 0; r < receivers; ++r)
        test::start(rt, [ch, sums]() -> task<> {
          int64_t sum = 0, count = 0;
          while (auto v = co_await ch.recv()) {
            sum += *v;
            ++count;
          }
          co_await sums.send({sum, count});
        });
      for (int64_t s = 0; s < senders; ++s)
        BOOST_REQUIRE(sent.recv_blocking());
      ch.close();
      test::check_received_once(sums, receivers, total);
    }
  }
}

BOOST_AUTO_TEST_CASE(plain_threads_use_the_blocking_operations) {
  runtime rt{test::opts()};
  auto ch = make_chan<std::unique_ptr<int>>(rt); // move-only values
  std::thread producer{[ch] {
    for (int i = 0; i < 1000; ++i)
      ch.send_blocking(std::make_unique<int>(i));
    ch.close();
  }};
  int expected = 0;
  while (auto v = ch.recv_blocking())
    BOOST_REQUIRE_EQUAL(**v, expected++);
  producer.join();
  BOOST_CHECK_EQUAL(expected, 1000);
}

BOOST_AUTO_TEST_CASE(buffered_values_are_destroyed_with_the_channel) {
  runtime rt{test::opts()};
  auto alive = std::make_shared<int>(0);
  {
    auto ch = make_chan<std::shared_ptr<int>>(rt, 4);
    BOOST_CHECK(ch.try_send(alive));
    BOOST_CHECK(ch.try_send(alive));
    BOOST_CHECK_EQUAL(alive.use_count(), 3);
  }
  BOOST_CHECK_EQUAL(alive.use_count(), 1);
}

BOOST_AUTO_TEST_CASE(channels_compare_by_identity) {
  runtime rt{test::opts()};
  auto a = make_chan<int>(rt);
  auto b = a;
  auto c = make_chan<int>(rt);
  BOOST_CHECK(a == b);
  BOOST_CHECK(!(a == c));
  recv_chan<int> r = a;
  BOOST_CHECK(r == b);
}

// Go's makechan: "makechan: size out of range" when cap * elemsize overflows
// or exceeds what can be allocated (issue 9: it allocated 8 bytes and then
// overflowed the heap on send).
BOOST_AUTO_TEST_CASE(make_chan_panics_when_the_buffer_size_overflows) {
  runtime rt{test::opts()};
  auto wraps = std::numeric_limits<size_t>::max() / sizeof(int64_t) + 2;
  auto is_size_panic = [](const panic_error& x) {
    return std::string{x.what()} == "makechan: size out of range";
  };
  BOOST_CHECK_EXCEPTION((void)make_chan<int64_t>(rt, wraps), panic_error,
                        is_size_panic);
  BOOST_CHECK_EXCEPTION((void)make_chan<char>(rt, size_t{1} << 60), panic_error,
                        is_size_panic);
  BOOST_CHECK_EQUAL(make_chan<int64_t>(rt, 1024).cap(), 1024u);
}

// rotina.default-capacity is the capacity of make_chan<T>(rt) and of
// make_chan<T>() inside a goroutine (issue 9: parsed, never read).
BOOST_AUTO_TEST_CASE(make_chan_without_capacity_uses_the_default_capacity) {
  auto o = test::opts();
  o.overrides.push_back("rotina.default-capacity=3");
  runtime rt{o};
  auto ch = make_chan<int>(rt);
  BOOST_CHECK_EQUAL(ch.cap(), 3u);
  BOOST_CHECK(ch.try_send(1) && ch.try_send(2) && ch.try_send(3));
  BOOST_CHECK(!ch.try_send(4));
  auto caps = make_chan<size_t>(rt, 1);
  auto err = test::run(rt, [caps]() -> task<> {
    auto cap = make_chan<int>().cap();
    co_await caps.send(cap);
  });
  BOOST_CHECK(!err);
  BOOST_CHECK_EQUAL(*caps.recv_blocking(), 3u);
  BOOST_CHECK_EQUAL(make_chan<int>(rt, 0).cap(), 0u); // explicit 0 stays 0
}

namespace {

/// Runs `f` in a child process (bounded by 20 s) and returns what it wrote to
/// stderr if it died of SIGABRT; otherwise a description of what happened.
template <class F>
std::string abort_output_of(F f) {
  int fds[2];
  if (::pipe(fds) != 0)
    return "pipe failed";
  auto pid = ::fork();
  if (pid == 0) {
    // Boost.Test's handlers would catch the abort (and its timeout alarm).
    std::signal(SIGABRT, SIG_DFL);
    std::signal(SIGALRM, SIG_DFL);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    f();
    ::_exit(0);
  }
  ::close(fds[1]);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ::close(fds[0]);
      return "hung (killed after 20 s)";
    }
    std::this_thread::sleep_for(10ms);
  }
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
    return "did not abort; stderr: " + out;
  return out;
}

void recv_blocking_in_a_goroutine() {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  (void)test::run(rt, [ch]() -> task<> {
    (void)ch.recv_blocking();
    co_return;
  });
}

void send_blocking_in_a_goroutine() {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  (void)test::run(rt, [ch]() -> task<> {
    ch.send_blocking(1);
    co_return;
  });
}

void select_blocking_in_a_goroutine() {
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  (void)test::run(rt, [ch]() -> task<> {
    (void)select_blocking(recv_case(ch));
    co_return;
  });
}

} // namespace

// Thread-blocking calls inside a goroutine would block a scheduler worker
// (and deadlock silently when every worker does): they abort with a message,
// as wait() does (issue 9).
BOOST_AUTO_TEST_CASE(blocking_calls_inside_a_goroutine_abort_with_a_message) {
  auto out = abort_output_of(&recv_blocking_in_a_goroutine);
  BOOST_CHECK_MESSAGE(out.find("recv_blocking called inside a goroutine")
                        != std::string::npos,
                      out);
  out = abort_output_of(&send_blocking_in_a_goroutine);
  BOOST_CHECK_MESSAGE(out.find("send_blocking called inside a goroutine")
                        != std::string::npos,
                      out);
  out = abort_output_of(&select_blocking_in_a_goroutine);
  BOOST_CHECK_MESSAGE(out.find("select_blocking called inside a goroutine")
                        != std::string::npos,
                      out);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(chan_actor_suite, *utf::timeout(60))

BOOST_AUTO_TEST_CASE(a_channel_outliving_its_runtime_panics_clearly) {
  // ch.actor() read the destroyed runtime before (ASan:
  // stack-use-after-scope in runtime::system()). The local operations need
  // no runtime and keep working.
  auto rt = std::make_unique<runtime>(test::opts());
  auto ch = make_chan<int>(*rt, 1);
  rt.reset();
  BOOST_CHECK_EXCEPTION(ch.actor(), panic_error, [](const panic_error& e) {
    return std::string{e.what()}.find("the runtime was destroyed")
           != std::string::npos;
  });
  BOOST_CHECK(ch.try_send(7));
  auto got = ch.try_recv();
  BOOST_CHECK(got.status == recv_status::received && got.value == 7);
}

// The channel's actor identity: the same channel, reached by messages, as
// another node reaches it.
BOOST_AUTO_TEST_CASE(actor_identity_meets_local_goroutines_on_one_queue) {
  using namespace rotina::detail;
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  auto a = ch.actor();
  BOOST_CHECK(a == ch.actor()); // one identity per channel
  caf::scoped_actor self{rt.system()};
  // A local goroutine receives what a message sends.
  auto got = make_chan<int>(rt, 1);
  test::start(
    rt, [ch, got]() -> task<> { co_await got.send(*co_await ch.recv()); });
  bool sent = false;
  self->request(a, 10s, chan_send_atom::value, 11)
    .receive([&] { sent = true; },
             [&](caf::error& e) { BOOST_FAIL(caf::to_string(e)); });
  BOOST_CHECK(sent);
  BOOST_CHECK_EQUAL(*got.recv_blocking(), 11);
  // A message receives what a local goroutine sends (the request parks).
  test::start(rt, [ch]() -> task<> { co_await ch.send(22); });
  self->request(a, 10s, chan_recv_atom::value)
    .receive(
      [&](int v, bool ok) {
        BOOST_CHECK(ok);
        BOOST_CHECK_EQUAL(v, 22);
      },
      [&](caf::error& e) { BOOST_FAIL(caf::to_string(e)); });
  // A parked request is woken by close with "closed".
  auto closer = test::start(rt, [ch]() -> task<> {
    co_await sleep(20ms);
    ch.close();
  });
  self->request(a, 10s, chan_recv_atom::value)
    .receive([&](int, bool ok) { BOOST_CHECK(!ok); },
             [&](caf::error& e) { BOOST_FAIL(caf::to_string(e)); });
  // Closing twice through the actor reports Go's panic as an error.
  self->request(a, 10s, chan_close_atom::value)
    .receive([&] { BOOST_FAIL("second close succeeded"); },
             [&](caf::error& e) {
               BOOST_CHECK(from_caf_error(e) == errc::close_of_closed);
             });
  self->request(a, 10s, chan_send_atom::value, 1)
    .receive([&] { BOOST_FAIL("send on closed succeeded"); },
             [&](caf::error& e) {
               BOOST_CHECK(from_caf_error(e) == errc::send_on_closed);
             });
  BOOST_CHECK(!*closer.recv_blocking());
}

BOOST_AUTO_TEST_SUITE_END()
