// Go's own channel tests, ported: what runtime/chan_test.go and test/chan/*.go
// check, rewritten with rotina's goroutines, channels and select. The Go test
// each case follows is named above it.
//
// Goroutines never use Boost.Test macros (not thread-safe): they return an
// error that the test thread checks, always with a time limit.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rotina/chan.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/select.hpp"
#include "rotina/wait_group.hpp"
#include "test_util.hpp"

using namespace rotina;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

/// TestChan sweeps the capacities 0..N-1 (N = 20 with -short).
constexpr size_t max_cap = 20;

/// How long a blocked operation must stay blocked (Go sleeps 1 ms).
constexpr auto blocked_window = 20ms;

/// Busy-waits `n` steps (a compiler barrier each, so the loop stays).
void spin(int n) {
  for (int k = 0; k < n; ++k)
    std::atomic_signal_fence(std::memory_order_seq_cst);
}

error fail(std::string what) {
  return error{errc::failed, std::move(what)};
}

/// Fails the test case unless the goroutine whose outcome `done` receives
/// (test::start) ends within `limit` without an error.
void require_ok(runtime& rt, const chan<error>& done,
                std::chrono::milliseconds limit = 20s) {
  auto err = test::recv_within(rt, done, limit);
  BOOST_REQUIRE(err.has_value());
  BOOST_REQUIRE_MESSAGE(!*err, err->message());
}

void require_all_ok(runtime& rt, const std::vector<chan<error>>& dones) {
  for (auto& done : dones)
    require_ok(rt, done);
}

// -- select7.go: the three receive forms and the three send forms ------------

/// recv1: `<-c`; recv2: `select { case <-c: }`; recv3: a select with a second
/// case on a channel that is never ready. Expects the value 1.
task<error> recv_form(int form, chan<int> c, chan<int> never) {
  std::optional<int> v;
  if (form == 0) {
    v = co_await c.recv();
  } else if (form == 1) {
    (void)co_await select(recv_case(c, v));
  } else {
    auto idx = co_await select(recv_case(c, v), recv_case(never));
    if (idx != 0)
      co_return fail("recv3: the never-ready case was chosen");
  }
  co_return v == 1 ? error{} : fail("receiver did not get 1");
}

/// send1: `c <- 1`; send2: `select { case c <- 1: }`; send3: a select with a
/// second send case on a channel that is never ready.
task<error> send_form(int form, chan<int> c, chan<int> never) {
  if (form == 0) {
    co_await c.send(1);
  } else if (form == 1) {
    (void)co_await select(send_case(c, 1));
  } else {
    auto idx = co_await select(send_case(c, 1), send_case(never, 1));
    if (idx != 0)
      co_return fail("send3: the never-ready case was chosen");
  }
  co_return error{};
}

// -- fifo.go: a daisy chain of goroutines passing a token ---------------------

/// Go's Chain: waits for the token, receives from `ch` and expects `val`,
/// passes the token on.
task<error> chain_receiver(chan<int> ch, int val, chan<int> in, chan<int> out) {
  (void)co_await in.recv();
  auto v = co_await ch.recv();
  if (v != val)
    co_return fail("chain link " + std::to_string(val) + " received "
                   + (v ? std::to_string(*v) : std::string{"closed"}));
  co_await out.send(1);
  co_return error{};
}

/// The mirror image: waits for the token, sends `val` on `ch`, passes the
/// token on.
task<> chain_sender(chan<int> ch, int val, chan<int> in, chan<int> out) {
  (void)co_await in.recv();
  co_await ch.send(val);
  co_await out.send(1);
}

/// A type without data, Go's struct{}.
struct empty {};

/// zerosize.go for one element type: sends, receives and close on a channel of
/// `T` with capacity `cap`.
template <class T>
void check_zero_size_channel(runtime& rt, size_t cap) {
  auto c = make_chan<T>(rt, cap);
  BOOST_CHECK_EQUAL(c.cap(), cap);
  auto sender = test::start(rt, [c]() -> task<> {
    for (int i = 0; i < 3; ++i)
      co_await c.send(T{});
    c.close();
  });
  require_ok(rt, test::start(rt, [c]() -> task<error> {
               for (int i = 0; i < 3; ++i)
                 if (!co_await c.recv())
                   co_return fail("closed before the third value");
               if (co_await c.recv())
                 co_return fail("a fourth value");
               co_return error{};
             }));
  require_ok(rt, sender);
  BOOST_CHECK(c.try_recv().status == recv_status::closed);
  if (cap > 0) {
    auto d = make_chan<T>(rt, cap);
    BOOST_CHECK(d.try_send(T{}));
    BOOST_CHECK_EQUAL(d.len(), 1u);
    BOOST_CHECK(d.try_recv().status == recv_status::received);
    BOOST_CHECK_EQUAL(d.len(), 0u);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(go_chan_suite, *utf::timeout(300))

// -- runtime/chan_test.go TestChan, capacities 0..19 -------------------------
// The blocking checks run all capacities at once and share one 20 ms window.

// Go: runtime/chan_test.go TestChan
BOOST_AUTO_TEST_CASE(recv_from_an_empty_channel_blocks_for_capacities_0_to_19) {
  auto received = std::make_shared<std::atomic<int>>(0);
  runtime rt{test::opts(4)};
  std::vector<chan<int>> chs;
  std::vector<chan<error>> dones;
  for (size_t cap = 0; cap < max_cap; ++cap) {
    auto c = make_chan<int>(rt, cap);
    chs.push_back(c);
    // Go's two receive forms; here a receive and a one-case select.
    dones.push_back(test::start(rt, [c, received]() -> task<> {
      (void)co_await c.recv();
      ++*received;
    }));
    dones.push_back(test::start(rt, [c, received]() -> task<> {
      (void)co_await select(recv_case(c));
      ++*received;
    }));
  }
  for (auto& c : chs)
    test::await_waiting(c, 0, 2);
  std::this_thread::sleep_for(blocked_window);
  BOOST_CHECK_EQUAL(received->load(), 0);
  for (auto& c : chs) {
    // A non-blocking receive reports "nothing" instead of blocking.
    BOOST_CHECK(c.try_recv().status == recv_status::empty);
    // Go: `c <- 0; c <- 0` releases both receivers.
    BOOST_CHECK(c.try_send(0));
    BOOST_CHECK(c.try_send(0));
  }
  require_all_ok(rt, dones);
  BOOST_CHECK_EQUAL(received->load(), 2 * static_cast<int>(max_cap));
}

// Go: runtime/chan_test.go TestChan
BOOST_AUTO_TEST_CASE(send_to_a_full_channel_blocks_for_capacities_0_to_19) {
  auto sent = std::make_shared<std::atomic<int>>(0);
  runtime rt{test::opts(4)};
  std::vector<chan<int>> chs;
  std::vector<chan<error>> dones;
  for (size_t cap = 0; cap < max_cap; ++cap) {
    auto c = make_chan<int>(rt, cap);
    chs.push_back(c);
    for (size_t i = 0; i < cap; ++i)
      BOOST_REQUIRE(c.try_send(static_cast<int>(i)));
    dones.push_back(test::start(rt, [c, sent]() -> task<> {
      co_await c.send(-1);
      ++*sent;
    }));
  }
  for (auto& c : chs)
    test::await_waiting(c, 1, 0);
  std::this_thread::sleep_for(blocked_window);
  BOOST_CHECK_EQUAL(sent->load(), 0);
  for (size_t cap = 0; cap < max_cap; ++cap) {
    auto& c = chs[cap];
    // A non-blocking send reports "full" instead of blocking.
    BOOST_CHECK(!c.try_send(0));
    BOOST_CHECK_EQUAL(c.len(), cap);
    // One receive makes room: the oldest value comes out (the blocked
    // sender's own value on an unbuffered channel).
    auto r = c.try_recv();
    BOOST_REQUIRE(r.status == recv_status::received);
    BOOST_CHECK_EQUAL(*r.value, cap == 0 ? -1 : 0);
  }
  require_all_ok(rt, dones);
  BOOST_CHECK_EQUAL(sent->load(), static_cast<int>(max_cap));
  // The released sender's value went in behind the others.
  for (size_t cap = 1; cap < max_cap; ++cap) {
    auto& c = chs[cap];
    BOOST_CHECK_EQUAL(c.len(), cap);
    for (size_t i = 1; i < cap; ++i)
      BOOST_CHECK_EQUAL(c.try_recv().value.value_or(-2), static_cast<int>(i));
    BOOST_CHECK_EQUAL(c.try_recv().value.value_or(-2), -1);
  }
}

// Go: runtime/chan_test.go TestChan
BOOST_AUTO_TEST_CASE(
  recv_from_a_closed_channel_drains_the_buffer_then_reports_closed_for_capacities_0_to_19) {
  runtime rt{test::opts()};
  for (size_t cap = 0; cap < max_cap; ++cap) {
    auto c = make_chan<int>(rt, cap);
    for (size_t i = 0; i < cap; ++i)
      BOOST_REQUIRE(c.try_send(static_cast<int>(i)));
    c.close();
    BOOST_CHECK_EQUAL(c.len(), cap);
    require_ok(rt, test::start(rt, [c, cap]() -> task<error> {
                 for (size_t i = 0; i < cap; ++i) {
                   auto v = co_await c.recv();
                   if (v != static_cast<int>(i))
                     co_return fail("wrong buffered value after close");
                 }
                 for (int k = 0; k < 2; ++k)
                   if (co_await c.recv())
                     co_return fail("a value from a closed, drained channel");
                 co_return error{};
               }));
    BOOST_CHECK(!c.recv_blocking().has_value());
    BOOST_CHECK(c.try_recv().status == recv_status::closed);
  }
}

// Go: runtime/chan_test.go TestChan
BOOST_AUTO_TEST_CASE(close_unblocks_a_blocked_receiver_for_capacities_0_to_19) {
  runtime rt{test::opts(4)};
  std::vector<chan<int>> chs;
  std::vector<chan<error>> dones;
  for (size_t cap = 0; cap < max_cap; ++cap) {
    auto c = make_chan<int>(rt, cap);
    chs.push_back(c);
    dones.push_back(test::start(rt, [c]() -> task<error> {
      auto v = co_await c.recv();
      co_return v ? fail("a value from a closed channel") : error{};
    }));
  }
  for (auto& c : chs)
    test::await_waiting(c, 0, 1);
  for (auto& c : chs)
    c.close();
  require_all_ok(rt, dones);
}

// Go: runtime/chan_test.go TestChan
BOOST_AUTO_TEST_CASE(
  one_senders_100_values_arrive_uncorrupted_in_fifo_order_for_capacities_0_to_19) {
  runtime rt{test::opts()};
  for (size_t cap = 0; cap < max_cap; ++cap) {
    auto c = make_chan<int>(rt, cap);
    // Twice, as Go does (once per receive form).
    for (int round = 0; round < 2; ++round) {
      auto sender = test::start(rt, [c]() -> task<> {
        for (int i = 0; i < 100; ++i)
          co_await c.send(i);
      });
      require_ok(rt, test::start(rt, [c]() -> task<error> {
                   for (int i = 0; i < 100; ++i) {
                     auto v = co_await c.recv();
                     if (v != i)
                       co_return fail(
                         "expected " + std::to_string(i) + ", received "
                         + (v ? std::to_string(*v) : std::string{"closed"}));
                   }
                   co_return error{};
                 }));
      require_ok(rt, sender);
    }
    BOOST_CHECK_EQUAL(c.len(), 0u);
  }
}

// Go: runtime/chan_test.go TestChan
BOOST_AUTO_TEST_CASE(
  values_from_4_senders_are_received_exactly_once_by_4_receivers_for_capacities_0_to_19) {
  constexpr int senders = 4, receivers = 4, per_sender = 1000;
  runtime rt{test::opts(4)};
  for (size_t cap = 0; cap < max_cap; ++cap) {
    // Every sender sends 0..999: each value must arrive `senders` times.
    auto counts = std::make_shared<std::vector<std::atomic<int>>>(per_sender);
    auto c = make_chan<int>(rt, cap);
    std::vector<chan<error>> dones;
    for (int p = 0; p < senders; ++p)
      dones.push_back(test::start(rt, [c]() -> task<> {
        for (int i = 0; i < per_sender; ++i)
          co_await c.send(i);
      }));
    for (int p = 0; p < receivers; ++p)
      dones.push_back(test::start(rt, [c, counts]() -> task<error> {
        for (int i = 0; i < per_sender; ++i) {
          auto v = co_await c.recv();
          if (!v || *v < 0 || *v >= per_sender)
            co_return fail("received a value nobody sent");
          ++(*counts)[static_cast<size_t>(*v)];
        }
        co_return error{};
      }));
    require_all_ok(rt, dones);
    int wrong = 0;
    for (auto& n : *counts)
      if (n.load() != senders)
        ++wrong;
    BOOST_CHECK_MESSAGE(wrong == 0, "capacity " << cap << ": " << wrong
                                                << " values not received "
                                                << senders << " times");
    BOOST_CHECK_EQUAL(c.len(), 0u);
  }
}

// Go: runtime/chan_test.go TestChan
BOOST_AUTO_TEST_CASE(len_and_cap_count_buffered_values_for_capacities_0_to_19) {
  runtime rt{test::opts()};
  for (size_t cap = 0; cap < max_cap; ++cap) {
    auto c = make_chan<int>(rt, cap);
    BOOST_CHECK_EQUAL(c.len(), 0u);
    BOOST_CHECK_EQUAL(c.cap(), cap);
    require_ok(rt, test::start(rt, [c, cap]() -> task<> {
                 for (size_t i = 0; i < cap; ++i)
                   co_await c.send(static_cast<int>(i));
               }));
    BOOST_CHECK_EQUAL(c.len(), cap);
    BOOST_CHECK_EQUAL(c.cap(), cap);
  }
}

// Go: runtime/chan_test.go TestNonblockRecvRace
BOOST_AUTO_TEST_CASE(
  nonblocking_recv_racing_close_on_a_full_buffer_is_never_empty) {
  // A channel holding one value is ready whether or not the close got in
  // first: a non-blocking receive (try_recv, or select with a default) must
  // get the value or "closed", never "nothing". The value is received once,
  // by the goroutine or by the test thread's receive after the close.
  // Go starts the goroutine and closes at once; here the goroutine also
  // waits for a start signal given right before the close, and the test
  // thread spins 0..63 steps in between, so that the two really overlap.
  constexpr int rounds = 10000; // Go: 10000
  auto ready = std::make_shared<std::atomic<int>>(-1);
  auto start = std::make_shared<std::atomic<int>>(-1);
  runtime rt{test::opts()};
  auto outcomes = make_chan<std::pair<int, int>>(rt, rounds);
  std::vector<char> main_got(rounds, 0);
  for (int i = 0; i < rounds; ++i) {
    auto c = make_chan<int>(rt, 1);
    BOOST_REQUIRE(c.try_send(1));
    // outcome: 0 = empty (the bug), 1 = the value, 2 = closed
    go(rt, [c, outcomes, i, ready, start]() -> task<> {
      ready->store(i);
      auto give_up = std::chrono::steady_clock::now() + 1s;
      while (start->load() != i && std::chrono::steady_clock::now() < give_up)
        spin(1);
      int outcome;
      if (i % 2 == 0) {
        auto r = c.try_recv();
        outcome = r.status == recv_status::received ? 1
                  : r.status == recv_status::closed ? 2
                                                    : 0;
      } else {
        std::optional<int> v;
        auto idx = co_await select(recv_case(c, v), default_case());
        outcome = idx == 1 ? 0 : v ? 1 : 2;
      }
      co_await outcomes.send({i, outcome});
    });
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (ready->load() != i) {
      if (std::chrono::steady_clock::now() > deadline)
        BOOST_FAIL("the goroutine of round " << i << " never started");
      std::this_thread::yield();
    }
    start->store(i);
    spin(i % 64);
    c.close();
    auto v = c.recv_blocking(); // closed: never blocks
    BOOST_REQUIRE(!v || *v == 1);
    main_got[static_cast<size_t>(i)] = v.has_value();
  }
  int empties = 0, not_once = 0, goroutine_got = 0;
  for (int n = 0; n < rounds; ++n) {
    auto r = test::recv_within(rt, outcomes);
    BOOST_REQUIRE(r.has_value());
    auto [i, outcome] = *r;
    if (outcome == 0)
      ++empties;
    else if ((outcome == 1) == (main_got[static_cast<size_t>(i)] != 0))
      ++not_once;
    goroutine_got += outcome == 1;
  }
  BOOST_CHECK_EQUAL(empties, 0);
  BOOST_CHECK_EQUAL(not_once, 0);
  BOOST_TEST_MESSAGE("the goroutine received the value in "
                     << goroutine_got << " of " << rounds
                     << " rounds, the test thread in the others");
}

// Go: runtime/chan_test.go TestSelfSelect
BOOST_AUTO_TEST_CASE(
  goroutines_selecting_send_and_recv_on_one_channel_never_receive_their_own_value_unbuffered) {
  constexpr int iterations = 1000;
  runtime rt{test::opts()};
  for (size_t cap : {0u, 1u, 10u}) {
    auto c = make_chan<int>(rt, cap);
    auto sent = std::make_shared<std::atomic<int>>(0);
    auto received = std::make_shared<std::atomic<int>>(0);
    std::vector<chan<error>> dones;
    for (int p = 0; p < 2; ++p)
      dones.push_back(
        test::start(rt, [c, cap, p, sent, received]() -> task<error> {
          for (int i = 0; i < iterations; ++i) {
            // The value is the sender's identity. Goroutine 1 alternates the
            // order of the cases.
            std::optional<int> v;
            bool did_send;
            if (p == 0 || i % 2 == 0) {
              did_send = co_await select(send_case(c, p), recv_case(c, v)) == 0;
            } else {
              did_send = co_await select(recv_case(c, v), send_case(c, p)) == 1;
            }
            if (did_send) {
              ++*sent;
              continue;
            }
            ++*received;
            if (!v)
              co_return fail("closed");
            if (cap == 0 && *v == p)
              co_return fail("goroutine " + std::to_string(p)
                             + " received its own value");
          }
          co_return error{};
        }));
    require_all_ok(rt, dones);
    // Nothing lost or made up: what was sent was received or is buffered.
    BOOST_CHECK_EQUAL(sent->load() + received->load(), 2 * iterations);
    BOOST_CHECK_EQUAL(static_cast<size_t>(sent->load() - received->load()),
                      c.len());
  }
}

// Go: runtime/chan_test.go TestSelectStress
BOOST_AUTO_TEST_CASE(
  plain_and_select_senders_and_receivers_on_4_channels_deliver_each_value_exactly_once) {
  // Per channel: a plain sender sends 0..n-1 and the select sender n..2n-1;
  // a plain receiver takes n values and the select receiver n. The select
  // goroutines switch a channel's case off (nil) after n values on it.
  constexpr int n = 20000; // Go: 100000 (10000 with -short)
  runtime rt{test::opts(4)};
  std::array<chan<int>, 4> cs{make_chan<int>(rt), make_chan<int>(rt),
                              make_chan<int>(rt, 2), make_chan<int>(rt, 3)};
  auto seen = std::make_shared<std::vector<std::atomic<int>>>(4 * 2 * n);
  auto record = [seen](int k, const std::optional<int>& v) {
    if (!v || *v < 0 || *v >= 2 * n)
      return false;
    ++(*seen)[static_cast<size_t>(k * 2 * n + *v)];
    return true;
  };
  std::vector<chan<error>> dones;
  for (int k = 0; k < 4; ++k) {
    auto c = cs[static_cast<size_t>(k)];
    dones.push_back(test::start(rt, [c]() -> task<> {
      for (int i = 0; i < n; ++i)
        co_await c.send(i);
    }));
    dones.push_back(test::start(rt, [c, k, record]() -> task<error> {
      for (int i = 0; i < n; ++i)
        if (!record(k, co_await c.recv()))
          co_return fail("plain receiver got a value nobody sent");
      co_return error{};
    }));
  }
  dones.push_back(test::start(rt, [cs]() -> task<error> {
    auto c1 = cs;
    std::array<int, 4> count{};
    for (int i = 0; i < 4 * n; ++i) {
      auto idx = co_await select(
        send_case(c1[3], n + count[3]), send_case(c1[2], n + count[2]),
        send_case(c1[1], n + count[1]), send_case(c1[0], n + count[0]));
      auto k = static_cast<size_t>(3 - idx);
      if (++count[k] == n)
        c1[k] = {};
    }
    for (auto x : count)
      if (x != n)
        co_return fail("select sender: wrong count");
    co_return error{};
  }));
  dones.push_back(test::start(rt, [cs, record]() -> task<error> {
    auto c1 = cs;
    std::array<int, 4> count{};
    std::array<std::optional<int>, 4> got;
    for (int i = 0; i < 4 * n; ++i) {
      auto idx
        = co_await select(recv_case(c1[0], got[0]), recv_case(c1[1], got[1]),
                          recv_case(c1[2], got[2]), recv_case(c1[3], got[3]));
      auto k = static_cast<size_t>(idx);
      if (!record(idx, got[k]))
        co_return fail("select receiver got a value nobody sent");
      if (++count[k] == n)
        c1[k] = {};
    }
    co_return error{};
  }));
  require_all_ok(rt, dones);
  for (int k = 0; k < 4; ++k) {
    int wrong = 0;
    for (int v = 0; v < 2 * n; ++v)
      if ((*seen)[static_cast<size_t>(k * 2 * n + v)].load() != 1)
        ++wrong;
    BOOST_CHECK_MESSAGE(wrong == 0, "channel " << k << ": " << wrong
                                               << " values not received "
                                                  "exactly once");
    BOOST_CHECK_EQUAL(cs[static_cast<size_t>(k)].len(), 0u);
  }
}

// Go: runtime/chan_test.go TestMultiConsumer
BOOST_AUTO_TEST_CASE(
  workers_on_a_shared_jobs_channel_return_every_job_once_sum_and_count_match) {
  constexpr int nwork = 23;
  constexpr int niter = 271828;
  static constexpr std::array<int, 10> pn{2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  runtime rt{test::opts()};
  auto q = make_chan<int>(rt, nwork * 3);
  auto r = make_chan<int>(rt, nwork * 3);
  wait_group wg{rt};
  for (int w = 0; w < nwork; ++w) {
    wg.add(1);
    go(rt, [q, r, wg, w]() -> task<> {
      while (auto v = co_await q.recv()) {
        // Go: "mess with the fifo-ish nature of range".
        if (pn[static_cast<size_t>(w) % pn.size()] == *v)
          co_await yield();
        co_await r.send(*v);
      }
      wg.done();
    });
  }
  int64_t expect = 0;
  for (int i = 0; i < niter; ++i)
    expect += pn[static_cast<size_t>(i) % pn.size()];
  // Feeder and closer.
  auto feeder = test::start(rt, [q, r, wg]() -> task<> {
    for (int i = 0; i < niter; ++i)
      co_await q.send(pn[static_cast<size_t>(i) % pn.size()]);
    q.close();          // no more work
    co_await wg.wait(); // workers done
    r.close();          // so there can be no more results
  });
  // Consume and check.
  auto totals = make_chan<std::pair<int64_t, int64_t>>(rt, 1);
  go(rt, [r, totals]() -> task<> {
    int64_t count = 0, sum = 0;
    while (auto v = co_await r.recv()) {
      ++count;
      sum += *v;
    }
    co_await totals.send({count, sum});
  });
  auto got = test::recv_within(rt, totals, 60s);
  BOOST_REQUIRE(got.has_value());
  BOOST_CHECK_EQUAL(got->first, niter);
  BOOST_CHECK_EQUAL(got->second, expect);
  require_ok(rt, feeder);
}

// Go: test/chan/select6.go (issue 2075)
BOOST_AUTO_TEST_CASE(
  a_select_that_lost_leaves_the_other_channels_wait_queue_intact) {
  // Receivers queue on c1 before the select and (second round) after it; the
  // select waits on c1 and c2, c2 fires, and the select's goroutine queues on
  // c1 again. Every waiter still on c1 must then get one send, in arrival
  // order. Go's bug: the lost case corrupted c1's queue when the select was
  // last in it, and later waiters never woke.
  runtime rt{test::opts()};
  for (int after : {0, 2}) {
    auto c1 = make_chan<int>(rt);
    auto c2 = make_chan<bool>(rt);
    auto c3 = make_chan<bool>(rt);
    auto got = make_chan<std::pair<int, int>>(rt, 8); // {receiver, value}
    auto receiver = [c1, got](int id) -> task<> {
      auto v = co_await c1.recv();
      co_await got.send({id, v.value_or(-1)});
    };
    go(rt, receiver, 0);
    test::await_waiting(c1, 0, 1);
    static constexpr int selector = 100;
    auto sel_done = test::start(rt, [c1, c2, c3, got]() -> task<error> {
      auto idx = co_await select(recv_case(c1), recv_case(c2));
      if (idx != 1)
        co_return fail("the c1 case fired");
      co_await c3.send(true);
      auto v = co_await c1.recv();
      co_await got.send({selector, v.value_or(-1)});
      co_return error{};
    });
    test::await_waiting(c1, 0, 2);
    test::await_waiting(c2, 0, 1);
    for (int j = 1; j <= after; ++j) {
      go(rt, receiver, j);
      test::await_waiting(c1, 0, 2 + static_cast<size_t>(j));
    }
    go(rt, [c2]() -> task<> { co_await c2.send(true); });
    BOOST_REQUIRE(test::recv_within(rt, c3).value_or(false));
    // The select's case on c1 is gone; its goroutine queued again, last.
    const auto waiters = 2 + static_cast<size_t>(after);
    test::await_waiting(c1, 0, waiters);
    for (size_t k = 0; k < waiters; ++k)
      BOOST_CHECK_MESSAGE(c1.try_send(static_cast<int>(k)),
                          "send " << k << " on c1 found no waiter");
    // FIFO: send k goes to receiver k (0, then those that queued after the
    // select), the last one to the select's goroutine. The receivers report
    // in any order.
    std::vector<int> value_of(waiters, -1);
    for (size_t k = 0; k < waiters; ++k) {
      auto r = test::recv_within(rt, got);
      BOOST_REQUIRE(r.has_value());
      auto [id, v] = *r;
      auto slot = id == selector ? waiters - 1 : static_cast<size_t>(id);
      BOOST_REQUIRE(slot < waiters);
      BOOST_CHECK_EQUAL(value_of[slot], -1); // one report per receiver
      value_of[slot] = v;
    }
    for (size_t k = 0; k < waiters; ++k)
      BOOST_CHECK_EQUAL(value_of[k], static_cast<int>(k));
    require_ok(rt, sel_done);
    BOOST_CHECK(c1.state()->waiting() == std::make_pair(size_t{0}, size_t{0}));
  }
}

// Go: test/chan/select7.go
BOOST_AUTO_TEST_CASE(
  every_recv_form_rendezvouses_with_every_send_form_in_both_orders) {
  // Forms: 0 plain, 1 one-case select, 2 select with a never-ready second
  // case. On an unbuffered channel, with the receiver parked first and with
  // the sender parked first.
  runtime rt{test::opts()};
  for (int rf = 0; rf < 3; ++rf)
    for (int sf = 0; sf < 3; ++sf)
      for (bool receiver_first : {true, false}) {
        BOOST_TEST_CONTEXT("recv form "
                           << rf << ", send form " << sf
                           << (receiver_first ? ", receiver first"
                                              : ", sender first")) {
          auto c = make_chan<int>(rt);
          auto never_r = make_chan<int>(rt);
          auto never_s = make_chan<int>(rt);
          chan<error> rd, sd;
          if (receiver_first) {
            rd = test::start(rt, &recv_form, rf, c, never_r);
            test::await_waiting(c, 0, 1);
            sd = test::start(rt, &send_form, sf, c, never_s);
          } else {
            sd = test::start(rt, &send_form, sf, c, never_s);
            test::await_waiting(c, 1, 0);
            rd = test::start(rt, &recv_form, rf, c, never_r);
          }
          require_ok(rt, rd);
          require_ok(rt, sd);
          // The losing cases left nothing behind.
          const auto none = std::make_pair(size_t{0}, size_t{0});
          BOOST_CHECK(c.state()->waiting() == none);
          BOOST_CHECK(never_r.state()->waiting() == none);
          BOOST_CHECK(never_s.state()->waiting() == none);
        }
      }
}

// Go: test/chan/doubleselect.go
BOOST_AUTO_TEST_CASE(a_select_over_4_channels_sends_each_value_on_exactly_one) {
  // One sender selects over four unbuffered channels; if two cases ever ran
  // in one select, a value would arrive twice. Two forwarders per channel
  // move values into one mux channel; the reader checks each value arrives
  // exactly once.
  constexpr int n = 100000; // Go's default -n
  constexpr int forwarders_per_chan = 2;
  runtime rt{test::opts()};
  std::array<chan<int>, 4> cs{make_chan<int>(rt), make_chan<int>(rt),
                              make_chan<int>(rt), make_chan<int>(rt)};
  auto cmux = make_chan<int>(rt);
  auto done = make_chan<bool>(rt);
  go(rt, [cs]() -> task<> {
    for (int i = 0; i < n; ++i)
      (void)co_await select(send_case(cs[0], i), send_case(cs[1], i),
                            send_case(cs[2], i), send_case(cs[3], i));
    for (auto& c : cs)
      c.close();
  });
  for (auto& c : cs)
    for (int f = 0; f < forwarders_per_chan; ++f)
      go(rt, [c, cmux, done]() -> task<> {
        while (auto v = co_await c.recv())
          co_await cmux.send(*v);
        co_await done.send(true);
      });
  go(rt, [cmux, done]() -> task<> {
    for (int f = 0; f < 4 * forwarders_per_chan; ++f)
      (void)co_await done.recv();
    cmux.close();
  });
  require_ok(rt,
             test::start(rt,
                         [cmux]() -> task<error> {
                           std::vector<char> seen(n, 0);
                           int count = 0;
                           while (auto v = co_await cmux.recv()) {
                             if (*v < 0 || *v >= n)
                               co_return fail("a value nobody sent");
                             if (seen[static_cast<size_t>(*v)])
                               co_return fail("duplicate value "
                                              + std::to_string(*v));
                             seen[static_cast<size_t>(*v)] = 1;
                             ++count;
                           }
                           co_return count == n ? error{} : fail("values lost");
                         }),
             60s);
}

// Go: test/chan/zerosize.go
BOOST_AUTO_TEST_CASE(channels_of_empty_types_send_receive_and_close) {
  // Go's chan struct{} and chan [0]byte, unbuffered and buffered.
  runtime rt{test::opts()};
  for (size_t cap : {0u, 1u, 4u}) {
    BOOST_TEST_CONTEXT("capacity " << cap) {
      check_zero_size_channel<empty>(rt, cap);
      check_zero_size_channel<std::array<unsigned char, 0>>(rt, cap);
    }
  }
}

// Go: test/chan/goroutines.go (with the +1 per link of Go's "whispers" daisy
// chain)
BOOST_AUTO_TEST_CASE(a_daisy_chain_of_10000_goroutines_adds_one_per_link) {
  constexpr int n = 10000;
  runtime rt{test::opts()};
  auto leftmost = make_chan<int>(rt);
  auto left = leftmost;
  for (int i = 0; i < n; ++i) {
    auto right = make_chan<int>(rt);
    go(rt, [left, right]() -> task<> {
      if (auto v = co_await right.recv())
        co_await left.send(*v + 1);
    });
    left = right;
  }
  go(rt, [left]() -> task<> { co_await left.send(1); });
  auto v = test::recv_within(rt, leftmost, 60s);
  BOOST_REQUIRE(v.has_value());
  BOOST_CHECK_EQUAL(*v, n + 1);
}

// Go: test/chan/fifo.go AsynchFifo and SynchFifo
BOOST_AUTO_TEST_CASE(
  chained_goroutines_receive_an_unbuffered_channels_values_in_order) {
  constexpr int n = 100; // Go: 10
  runtime rt{test::opts()};
  // AsynchFifo: a buffered channel gives back what went in, in order.
  auto buffered = make_chan<int>(rt, n);
  for (int i = 0; i < n; ++i)
    BOOST_REQUIRE(buffered.try_send(i));
  for (int i = 0; i < n; ++i)
    BOOST_CHECK_EQUAL(buffered.try_recv().value.value_or(-1), i);
  // SynchFifo: link i receives only after link i-1 did, and must get i.
  auto ch = make_chan<int>(rt);
  auto in = make_chan<int>(rt);
  auto start = in;
  std::vector<chan<error>> dones;
  for (int i = 0; i < n; ++i) {
    auto out = make_chan<int>(rt);
    dones.push_back(test::start(rt, &chain_receiver, ch, i, in, out));
    in = out;
  }
  dones.push_back(test::start(rt, [ch, start, in]() -> task<> {
    co_await start.send(0);
    for (int i = 0; i < n; ++i)
      co_await ch.send(i);
    (void)co_await in.recv();
  }));
  require_all_ok(rt, dones);
}

// Go: test/chan/fifo.go SynchFifo, mirrored (the chain sends)
BOOST_AUTO_TEST_CASE(chained_goroutines_sending_their_index_arrive_in_order) {
  constexpr int n = 100;
  runtime rt{test::opts()};
  auto ch = make_chan<int>(rt);
  auto in = make_chan<int>(rt);
  auto start = in;
  std::vector<chan<error>> dones;
  for (int i = 0; i < n; ++i) {
    auto out = make_chan<int>(rt);
    dones.push_back(test::start(rt, &chain_sender, ch, i, in, out));
    in = out;
  }
  dones.push_back(test::start(rt, [ch, start, in]() -> task<error> {
    co_await start.send(0);
    for (int i = 0; i < n; ++i) {
      auto v = co_await ch.recv();
      if (v != i)
        co_return fail("expected " + std::to_string(i) + ", received "
                       + (v ? std::to_string(*v) : std::string{"closed"}));
    }
    (void)co_await in.recv();
    co_return error{};
  }));
  require_all_ok(rt, dones);
}

BOOST_AUTO_TEST_SUITE_END()
