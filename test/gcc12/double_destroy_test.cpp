// The g++ 12 double-destroy trap (docs/gcc12.md) written with rotina's own
// API. g++ 12 destroys twice an aggregate temporary (a braced struct, a
// capturing lambda) with a non-trivial destructor written inside a co_await
// full-expression; no flag fixes it. The safe spellings of docs/gcc12.md name
// the value first. This suite checks them: every object is destroyed exactly
// once (a live counter), and the std::string members (longer than the small
// string buffer, so on the heap) give AddressSanitizer a double free to catch.
// double_destroy_unsafe.cpp holds the unsafe spellings (a test expected to
// fail on g++ < 13: the counter can see the defect).
#define BOOST_TEST_MODULE gcc12_double_destroy
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <optional>
#include <string>

#include "double_destroy_types.hpp"
#include "rotina/chan.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/runtime.hpp"
#include "rotina/select.hpp"

using namespace rotina;
using namespace rotina::gcc12_test;
namespace utf = boost::unit_test;

BOOST_AUTO_TEST_SUITE(double_destroy_suite, *utf::timeout(60))

BOOST_AUTO_TEST_CASE(a_named_message_sent_by_co_await_is_destroyed_once) {
  live = 0;
  {
    runtime rt{opts()};
    auto ch = make_chan<message>(rt, 4);
    auto done = make_chan<int>(rt, 1);
    auto producer = [ch, done]() -> task<> {
      for (int i = 0; i < 3; ++i) {
        // Safe: named first, then moved into the send.
        message m{tracked{}, long_text(i)};
        co_await ch.send(std::move(m));
      }
      co_await done.send(1);
    };
    go(rt, producer);
    BOOST_REQUIRE_EQUAL(done.recv_blocking().value_or(0), 1);
    for (int i = 0; i < 3; ++i)
      BOOST_CHECK_EQUAL(ch.recv_blocking()->text, long_text(i));
  }
  BOOST_CHECK_EQUAL(live.load(), 0);
}

BOOST_AUTO_TEST_CASE(
  a_named_capturing_lambda_in_a_select_case_is_destroyed_once) {
  live = 0;
  {
    runtime rt{opts()};
    auto ch = make_chan<std::string>(rt, 4);
    auto done = make_chan<std::string>(rt, 1);
    auto producer = [ch, done]() -> task<> {
      std::string log;
      for (int i = 0; i < 3; ++i) {
        // Safe: the capturing lambda has a name; the case copies it.
        auto sent = [t = tracked{}, text = long_text(i), &log] { log += text; };
        co_await select(send_case(ch, long_text(i), sent));
      }
      co_await done.send(std::move(log));
    };
    go(rt, producer);
    BOOST_CHECK_EQUAL(done.recv_blocking().value_or(""),
                      long_text(0) + long_text(1) + long_text(2));
  }
  BOOST_CHECK_EQUAL(live.load(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
