// task<T>: awaiting runs a task once; misuse is a clear panic (issue 9: a
// null or finished coroutine was resumed).
#include "rotina/task.hpp"

#include <string>

#include "rotina/error.hpp"
#include "test_util.hpp"

using namespace rotina;
namespace utf = boost::unit_test;

namespace {

task<int> answer() {
  co_return 42;
}

/// Awaits `t` and reports the panic's message (or "no panic") on `out`.
task<> await_and_report(task<int>* t, chan<std::string> out) {
  std::string what = "no panic";
  try {
    (void)co_await *t;
  } catch (const panic_error& x) {
    what = x.what();
  }
  co_await out.send(what);
}

task<> await_twice(chan<std::string> out) {
  auto t = answer();
  auto first = co_await t;
  std::string what = "no panic";
  try {
    (void)co_await t;
  } catch (const panic_error& x) {
    what = x.what();
  }
  co_await out.send(std::to_string(first) + ": " + what);
}

} // namespace

BOOST_AUTO_TEST_SUITE(task_suite, *utf::timeout(60))

BOOST_AUTO_TEST_CASE(awaiting_an_empty_task_panics) {
  runtime rt{test::opts()};
  auto out = make_chan<std::string>(rt, 1);
  task<int> empty;
  BOOST_CHECK(!test::run(rt, &await_and_report, &empty, out));
  const std::string empty_panic = "rotina: co_await on an empty task (default "
                                  "constructed or moved from)";
  BOOST_CHECK_EQUAL(*out.recv_blocking(), empty_panic);
  auto t = answer();
  auto moved = std::move(t);
  BOOST_CHECK(!test::run(rt, &await_and_report, &t, out));
  BOOST_CHECK_EQUAL(*out.recv_blocking(), empty_panic); // moved from
  BOOST_CHECK(!test::run(rt, &await_and_report, &moved, out));
  BOOST_CHECK_EQUAL(*out.recv_blocking(), "no panic");
}

BOOST_AUTO_TEST_CASE(awaiting_a_task_twice_panics) {
  runtime rt{test::opts()};
  auto out = make_chan<std::string>(rt, 1);
  BOOST_CHECK(!test::run(rt, &await_twice, out));
  BOOST_CHECK_EQUAL(*out.recv_blocking(),
                    "42: rotina: co_await on a task that was already awaited "
                    "(a task runs once)");
}

BOOST_AUTO_TEST_SUITE_END()
