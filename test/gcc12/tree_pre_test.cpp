// The g++ 12 tree-PRE trap (docs/gcc12.md) written with rotina's own API: a
// goroutine sends braced temporaries built from the loop's locals,
// `co_await ch.send(work{l, r, 7.0})`, into a buffered channel (every send
// completes without suspending, the case GCC < 13 miscompiles at -O2). The
// test target is compiled at -O2 whatever the build type; with rotina's flags
// (rotina::rotina adds -fno-tree-pre for GCC < 13) every value must be the
// one of its own iteration. test/gcc12/CMakeLists.txt also builds this file a
// second time with -ftree-pre, where g++ 12 gets it wrong (that test is
// expected to fail: it proves this one can).
#define BOOST_TEST_MODULE gcc12_tree_pre
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "rotina/chan.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/runtime.hpp"

using namespace rotina;
namespace utf = boost::unit_test;

namespace {

// Trivially copyable: no help against the defect.
struct work {
  double l;
  double r;
  double h;
};

constexpr int n_sends = 64;

options opts() {
  options o;
  o.overrides.push_back("scheduler.max-threads=2");
  o.overrides.push_back("rotina.shutdown=\"cancel\"");
  return o;
}

} // namespace

BOOST_AUTO_TEST_SUITE(tree_pre_suite, *utf::timeout(60))

BOOST_AUTO_TEST_CASE(send_of_a_braced_temporary_in_a_loop_sends_its_own_value) {
  runtime rt{opts()};
  auto ch = make_chan<work>(rt, n_sends); // room for all: no send suspends
  auto done = make_chan<int>(rt, 1);
  auto producer = [ch, done]() -> task<> {
    for (int i = 0; i < n_sends; ++i) {
      double l = 0.5 * i + 1;
      double r = l + 0.5;
      co_await ch.send(work{l, r, 7.0});
    }
    co_await done.send(n_sends);
  };
  go(rt, producer);
  BOOST_REQUIRE_EQUAL(done.recv_blocking().value_or(-1), n_sends);
  int wrong = 0;
  for (int i = 0; i < n_sends; ++i) {
    auto w = ch.recv_blocking();
    BOOST_REQUIRE(w.has_value());
    if (w->l != 0.5 * i + 1 || w->r != 0.5 * i + 1.5 || w->h != 7.0) {
      ++wrong;
      BOOST_TEST_MESSAGE("send " << i << ": l=" << w->l << " r=" << w->r
                                 << " (want " << 0.5 * i + 1 << " "
                                 << 0.5 * i + 1.5 << ")");
    }
  }
  BOOST_CHECK_EQUAL(wrong, 0);
}

BOOST_AUTO_TEST_SUITE_END()
