// Remote goroutines (rotina::go_on, register_goroutine), errgroup and
// wait_group with bodies on other nodes, and placement: real rotina_go_node
// processes on 127.0.0.1 (node/go_node.cpp), each test bounded in time.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include <rotina/go_on.hpp>
#include <rotina/runtime.hpp>

#include "harness.hpp"

using namespace std::chrono_literals;
using rotina::test::node_process;

namespace {

std::vector<std::string> go_args(const std::string& name,
                                 std::vector<std::string> extra = {}) {
  std::vector<std::string> result{"--node-name=" + name, "--listen=true",
                                  "--scheduler.max-threads=2",
                                  "--middleman.workers=1"};
  for (auto& x : extra)
    result.push_back(x);
  return result;
}

std::unique_ptr<node_process> start(const std::string& name,
                                    std::vector<std::string> extra = {}) {
  return std::make_unique<node_process>(go_args(name, std::move(extra)), 20s,
                                        true, ROTINA_GO_NODE);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void connect(node_process& from, node_process& to) {
  auto line = from.ask(to.connect_cmd(), "connect", 20s);
  BOOST_TEST_REQUIRE(contains(line, "connect ok"), line);
}

int64_t time_of(const std::string& line) {
  auto t = line.find("t=");
  BOOST_TEST_REQUIRE(t != std::string::npos, line);
  return std::stoll(line.substr(t + 2));
}

// The failure-detection bound of a SIGKILLed peer (docs/distribution.md:
// 100 ms target), plus the 1 s the tests allow on top.
constexpr int64_t kill_bound_ns = 1'100'000'000;

} // namespace

BOOST_AUTO_TEST_SUITE(go_on_suite)

namespace {

// Inspectable (CAF could serialize it) but not registered.
struct not_on_the_wire {
  int32_t x = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, not_on_the_wire& v) {
  return f(caf::meta::type_name("test.not_on_the_wire"), v.x);
}

rotina::task<> sum_body(int64_t, int64_t) {
  co_return;
}

rotina::task<> local_body(not_on_the_wire) {
  co_return;
}

template <class F>
std::string misuse_of(F f) {
  try {
    f();
  } catch (const rotina::panic_error& ex) {
    BOOST_TEST((ex.err() == rotina::errc::misuse));
    return ex.err().message();
  }
  return "no panic_error";
}

} // namespace

BOOST_AUTO_TEST_CASE(register_goroutine_checks_names_and_argument_types) {
  rotina::register_goroutine("test.sum", &sum_body);
  auto names = rotina::registered_goroutines();
  BOOST_TEST((std::find(names.begin(), names.end(), "test.sum(@i64, @i64)")
              != names.end()));
  auto msg
    = misuse_of([] { rotina::register_goroutine("test.sum", &sum_body); });
  BOOST_TEST(contains(msg, "\"test.sum\"): the name is registered already"),
             msg);
  msg = misuse_of([] { rotina::register_goroutine("", &sum_body); });
  BOOST_TEST(contains(msg, "empty name"), msg);
  msg
    = misuse_of([] { rotina::register_goroutine("test.local", &local_body); });
  BOOST_TEST(contains(msg, "argument 1 ("), msg);
  BOOST_TEST(contains(msg, "cannot cross nodes"), msg);
  // A stateless lambda works too.
  rotina::register_goroutine("test.lambda",
                             [](std::string) -> rotina::task<> { co_return; });
  names = rotina::registered_goroutines();
  BOOST_TEST((std::find(names.begin(), names.end(), "test.lambda(@str)")
              != names.end()));
}

BOOST_AUTO_TEST_CASE(go_on_refuses_an_argument_that_cannot_cross) {
  rotina::runtime rt{rotina::options{{}, {"--scheduler.max-threads=2"}}};
  auto msg = misuse_of([&] {
    (void)rotina::go_on(rt, rt.self(), "test.local", not_on_the_wire{});
  });
  BOOST_TEST(contains(msg, "rotina::go_on(\"test.local\"): argument 1 ("), msg);
}

BOOST_AUTO_TEST_CASE(go_on_runs_the_body_on_the_other_node) {
  auto a = start("a");
  auto b = start("b");
  connect(*a, *b);
  // The body runs on b and sends a + b back over the chan<int64_t>
  // argument, which arrived on b as a working remote channel.
  auto line = a->ask("add b 40 2", "add", 20s);
  BOOST_TEST(line == "add ok 42");
  line = a->ask("add b -7 7", "add", 20s);
  BOOST_TEST(line == "add ok 0");
  // The same call on the node itself goes through the same table.
  line = a->ask("add a 1 2", "add", 20s);
  BOOST_TEST(line == "add ok 3");
  BOOST_TEST(a->quit() == 0, a->stderr_text());
  BOOST_TEST(b->quit() == 0);
}

BOOST_AUTO_TEST_CASE(a_remote_error_comes_back_with_its_node) {
  auto a = start("a");
  auto b = start("b");
  connect(*a, *b);
  auto line = a->ask("fail b oops", "fail", 20s);
  BOOST_TEST(contains(line, "fail err failed | oops (from b)"), line);
  BOOST_TEST(contains(line, "origin=\"fail\" on node 'b'"), line);
  line = a->ask("boom b", "boom", 20s);
  BOOST_TEST(contains(line, "boom err goroutine panicked | boom on b"), line);
  BOOST_TEST(contains(line, "origin=\"boom\" on node 'b'"), line);
}

BOOST_AUTO_TEST_CASE(an_unknown_name_is_refused_naming_node_and_goroutine) {
  auto a = start("a");
  auto b = start("b");
  connect(*a, *b);
  auto line = a->ask("call b resize", "call", 20s);
  BOOST_TEST(contains(line, "call err not found"), line);
  BOOST_TEST(contains(line, "node 'b' has no goroutine \"resize\""), line);
  BOOST_TEST(contains(line, "add(@i64, @i64, chan<@i64>)"), line);
}

BOOST_AUTO_TEST_CASE(other_argument_types_are_refused_with_both_lists) {
  auto a = start("a");
  auto b = start("b");
  connect(*a, *b);
  auto line = a->ask("add b 1 2 i32", "add", 20s);
  BOOST_TEST(contains(line, "add err type mismatch"), line);
  BOOST_TEST(contains(line, "goroutine \"add\" on node 'b' takes (@i64, "
                            "@i64, chan<@i64>), the call passed (@i32, @i32, "
                            "chan<@i64>)"),
             line);
  // Fewer arguments than registered: also a mismatch, never a crash.
  line = a->ask("call b add", "call", 20s);
  BOOST_TEST(contains(line, "call err type mismatch"), line);
  BOOST_TEST(contains(line, "the call passed ()"), line);
}

BOOST_AUTO_TEST_CASE(a_node_without_the_registration_is_named) {
  auto a = start("a");
  auto b = start("b", {"--goroutines=nap"});
  auto c = start("c", {"--goroutines=none"});
  connect(*a, *b);
  connect(*a, *c);
  // b registers goroutines, but not "add".
  auto line = a->ask("add b 1 2", "add", 20s);
  BOOST_TEST(contains(line, "add err not found"), line);
  BOOST_TEST(contains(line, "node 'b' has no goroutine \"add\" registered "
                            "(registered: [nap(@i64)])"),
             line);
  // c registers none at all.
  line = a->ask("add c 1 2", "add", 20s);
  BOOST_TEST(contains(line, "add err not found"), line);
  BOOST_TEST(contains(line, "node 'c' has no goroutine \"add\": it registers "
                            "no goroutines"),
             line);
}

BOOST_AUTO_TEST_CASE(go_on_round_trips_complete) {
  auto a = start("a");
  auto b = start("b");
  connect(*a, *b);
  // 200 go_on + wait round trips of an empty body (the figure quoted in
  // docs/distribution.md comes from this line).
  auto line = a->ask("rtt b 200", "rtt", 60s);
  BOOST_TEST_REQUIRE(contains(line, "rtt ok"), line);
  BOOST_TEST(contains(line, "n=200"), line);
  BOOST_TEST_MESSAGE(line);
}

BOOST_AUTO_TEST_CASE(errgroup_remote_error_wins_with_its_origin) {
  auto a = start("a");
  auto b = start("b");
  auto c = start("c");
  connect(*a, *b);
  connect(*a, *c);
  // b naps 300 ms and succeeds, c fails: wait returns c's error.
  auto line = a->ask("eg b c", "eg", 20s);
  BOOST_TEST(contains(line, "eg err failed | remote failure (from c)"), line);
  BOOST_TEST(contains(line, "origin=\"fail\" on node 'c'"), line);
  BOOST_TEST(a->quit() == 0, a->stderr_text()); // no leak, no hang (ASan checks at exit)
}

BOOST_AUTO_TEST_CASE(errgroup_set_limit_counts_remote_bodies) {
  auto a = start("a");
  auto b = start("b");
  connect(*a, *b);
  // Limit 1: three 200 ms naps on b run one after the other, and try_go_on
  // finds no free slot meanwhile.
  auto line = a->ask("eglimit b 3 200", "eglimit", 20s);
  BOOST_TEST_REQUIRE(contains(line, "eglimit ok"), line);
  auto ms = std::stoll(line.substr(line.find("ms=") + 3));
  BOOST_TEST(ms >= 600, line);
  BOOST_TEST(contains(line, "refused=1"), line);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(go_on_failure_suite)

BOOST_AUTO_TEST_CASE(errgroup_wait_returns_node_down_when_a_node_is_killed) {
  auto a = start("a");
  auto b = start("b");
  auto c = start("c");
  connect(*a, *b);
  connect(*a, *c);
  a->send("egkill b c");
  b->expect("nap started ms=60000", 20s);
  auto t_kill = rotina::test::now_ns();
  b->signal(SIGKILL);
  auto line = a->expect("egkill", 20s);
  BOOST_TEST(contains(line, "egkill err node down"), line);
  BOOST_TEST(contains(line, "node 'b' was lost while goroutine \"nap\" ran "
                            "there"),
             line);
  BOOST_TEST(contains(line, "origin=\"nap\" on node 'b'"), line);
  auto dt = time_of(line) - t_kill;
  BOOST_TEST_MESSAGE("wait returned " << dt / 1000 << " us after the kill");
  BOOST_TEST(dt < kill_bound_ns,
             "wait returned " << dt / 1000000 << " ms after the kill");
  BOOST_TEST(a->quit() == 0, a->stderr_text());
}

BOOST_AUTO_TEST_CASE(wait_group_wait_fails_over_to_node_down) {
  auto a = start("a");
  auto b = start("b");
  auto c = start("c");
  connect(*a, *b);
  connect(*a, *c);
  a->send("wgkill b c");
  b->expect("nap started ms=60000", 20s);
  auto t_kill = rotina::test::now_ns();
  b->signal(SIGKILL);
  auto line = a->expect("wgkill done", 20s);
  // wait returned, the counter is zero (c's done did not underflow it), and
  // errors() names the lost node.
  BOOST_TEST(contains(line, "count=0 errors=node down |"), line);
  BOOST_TEST(contains(line, "node 'b' was lost"), line);
  auto dt = time_of(line) - t_kill;
  BOOST_TEST_MESSAGE("wait returned " << dt / 1000 << " us after the kill");
  BOOST_TEST(dt < kill_bound_ns,
             "wait returned " << dt / 1000000 << " ms after the kill");
  BOOST_TEST(a->quit() == 0, a->stderr_text());
}

BOOST_AUTO_TEST_CASE(go_on_to_a_node_that_is_gone_fails_at_once) {
  auto a = start("a");
  auto b = start("b");
  connect(*a, *b);
  BOOST_TEST(a->ask("add b 1 1", "add", 20s) == "add ok 2");
  b->kill_now();
  // After detection, a new go_on to b fails with node_down at once.
  std::string line;
  for (int i = 0; i < 50; ++i) {
    line = a->ask("call b boom", "call", 20s);
    if (contains(line, "node down"))
      break;
    std::this_thread::sleep_for(50ms);
  }
  BOOST_TEST(contains(line, "call err node down"), line);
  BOOST_TEST(contains(line, "'b'"), line);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(placement_suite)

BOOST_AUTO_TEST_CASE(round_robin_spreads_300_tasks_exactly_evenly) {
  auto a = start("a");
  auto b = start("b");
  auto c = start("c");
  auto d = start("d");
  connect(*a, *b);
  connect(*a, *c);
  connect(*a, *d);
  auto line = a->ask("place 300", "place", 60s);
  BOOST_TEST(line == "place b=100 c=100 d=100");
  BOOST_TEST(a->quit() == 0, a->stderr_text());
}

BOOST_AUTO_TEST_CASE(a_node_joining_or_leaving_changes_placement) {
  auto a = start("a");
  auto b = start("b");
  auto c = start("c");
  auto d = start("d");
  connect(*a, *b);
  connect(*a, *c);
  BOOST_TEST(a->ask("place 20", "place", 60s) == "place b=10 c=10");
  connect(*a, *d); // joins: from now on a third of the tasks
  BOOST_TEST(a->ask("place 30", "place", 60s) == "place b=10 c=10 d=10");
  d->kill_now(); // leaves: once a sees it, no task goes there
  std::string line;
  for (int i = 0; i < 100; ++i) {
    line = a->ask("place 3", "place", 60s);
    if (!contains(line, "d=") && !contains(line, "err"))
      break;
    std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST((line == "place b=2 c=1" || line == "place b=1 c=2"), line);
  BOOST_TEST(a->ask("place 20", "place", 60s) == "place b=10 c=10");
}

BOOST_AUTO_TEST_CASE(least_loaded_favours_the_idle_nodes) {
  auto a = start("a", {"--placement=least-loaded"});
  auto b = start("b");
  auto c = start("c");
  auto d = start("d");
  connect(*a, *b);
  connect(*a, *c);
  connect(*a, *d);
  // b runs 20 goroutines; c and d are idle: 30 tasks go to c and d only.
  BOOST_TEST(a->ask("busy b 20", "busy", 20s) == "busy ok");
  for (int i = 0; i < 20; ++i)
    b->expect("nap started", 20s);
  auto line = a->ask("place 30 warm", "place", 60s);
  BOOST_TEST(!contains(line, "b="), line);
  BOOST_TEST(contains(line, "c="), line);
  BOOST_TEST(contains(line, "d="), line);
  // a shuts down while its 20 calls to b still wait: they end as killed,
  // without a leak or a hang.
  BOOST_TEST(a->quit() == 0, a->stderr_text());
}

BOOST_AUTO_TEST_SUITE_END()
