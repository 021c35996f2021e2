// Tests of nodes: type registry, handshake, failure detection, reconnect.
// The multinode cases run real rotina_test_node processes (harness.hpp).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include <rotina/error.hpp>
#include <rotina/node.hpp>
#include <rotina/runtime.hpp>
#include <rotina/type_registry.hpp>

#include "harness.hpp"

using namespace std::chrono_literals;
using rotina::test::node_process;

namespace {

struct registered_msg {
  int32_t value = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, registered_msg& x) {
  return f(caf::meta::type_name("test.registered_msg"), x.value);
}

struct late_msg {
  int32_t value = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, late_msg& x) {
  return f(caf::meta::type_name("test.late_msg"), x.value);
}

struct unregistered_msg {
  int32_t value = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unregistered_msg& x) {
  return f(caf::meta::type_name("test.unregistered_msg"), x.value);
}

std::vector<std::string> node_args(const std::string& name,
                                   std::vector<std::string> extra = {}) {
  std::vector<std::string> result{"--node-name=" + name, "--listen=true",
                                  "--scheduler.max-threads=2",
                                  "--middleman.workers=1"};
  for (auto& x : extra)
    result.push_back(x);
  return result;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Waits until `pred()` holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

int64_t down_time_ns(const std::string& line) {
  auto t = line.find("t=");
  return std::stoll(line.substr(t + 2));
}

} // namespace

// -- type registry (in-process) -----------------------------------------------

BOOST_AUTO_TEST_SUITE(registry_suite)

BOOST_AUTO_TEST_CASE(registration_before_start_is_listed_and_fingerprinted) {
  auto before = rotina::registered_types_fingerprint();
  rotina::register_type<registered_msg>("test.registered_msg");
  rotina::register_type<registered_msg>("test.registered_msg"); // no-op
  auto names = rotina::registered_types();
  BOOST_TEST(std::count(names.begin(), names.end(), "test.registered_msg")
             == 1);
  BOOST_TEST(rotina::registered_types_fingerprint() != before);
  BOOST_TEST(rotina::registered_types_fingerprint().size() == 64u);
  BOOST_TEST(rotina::is_registered<registered_msg>());
  BOOST_TEST(!rotina::is_registered<unregistered_msg>());
  BOOST_TEST(rotina::is_registered<std::string>()); // CAF built-in
  BOOST_TEST(rotina::is_registered<int32_t>());
}

BOOST_AUTO_TEST_CASE(conflicting_registrations_are_refused) {
  rotina::register_type<registered_msg>("test.registered_msg");
  BOOST_CHECK_THROW(rotina::register_type<late_msg>("test.registered_msg"),
                    rotina::panic_error);
  BOOST_CHECK_THROW(rotina::register_type<registered_msg>("test.other"),
                    rotina::panic_error);
  BOOST_CHECK_THROW(rotina::register_type<late_msg>(""), rotina::panic_error);
}

BOOST_AUTO_TEST_CASE(registration_after_a_runtime_started_is_an_error) {
  rotina::register_type<registered_msg>("test.registered_msg");
  rotina::runtime rt{rotina::options{{}, {"--scheduler.max-threads=2"}}};
  try {
    rotina::register_type<late_msg>("test.late_msg");
    BOOST_FAIL("register_type after start did not throw");
  } catch (const rotina::panic_error& err) {
    BOOST_TEST(contains(err.what(), "after a runtime started"));
    BOOST_TEST(contains(err.what(), "test.late_msg"));
  }
  BOOST_TEST(!rotina::is_registered<late_msg>());
}

BOOST_AUTO_TEST_CASE(on_node_down_for_an_unknown_node_fires_at_once) {
  rotina::runtime rt{
    rotina::options{{}, {"--node-name=solo", "--scheduler.max-threads=2"}}};
  BOOST_TEST(rt.self().name == "solo");
  BOOST_TEST(rt.self().port == 0);
  BOOST_TEST(rt.nodes().empty());
  int calls = 0;
  rotina::error seen;
  rotina::node ghost{"ghost", "127.0.0.1", 1, 42};
  auto token = rt.on_node_down(
    ghost, [&](const rotina::node& n, const rotina::error& err) {
      ++calls;
      seen = err;
      BOOST_TEST(n == ghost);
    });
  BOOST_TEST(calls == 1);
  BOOST_TEST((seen == rotina::errc::node_down));
  BOOST_TEST(contains(seen.message(), "ghost"));
  BOOST_TEST(!rt.cancel_node_watch(token));
  BOOST_TEST(!rt.agent_of(ghost));
}

BOOST_AUTO_TEST_CASE(listening_without_a_name_is_refused) {
  BOOST_CHECK_THROW(rotina::runtime(rotina::options{
                      {}, {"--listen=true", "--scheduler.max-threads=2"}}),
                    rotina::node_error);
}

BOOST_AUTO_TEST_CASE(listening_on_a_taken_port_is_refused) {
  rotina::runtime first{rotina::options{
    {}, {"--node-name=first", "--listen=true", "--scheduler.max-threads=2"}}};
  auto port = first.self().port;
  BOOST_TEST(port != 0);
  try {
    rotina::runtime second{rotina::options{
      {},
      {"--node-name=second", "--listen-port=" + std::to_string(port),
       "--scheduler.max-threads=2"}}};
    BOOST_FAIL("a second runtime listened on a taken port");
  } catch (const rotina::node_error& err) {
    BOOST_TEST(contains(err.what(),
                        "cannot listen on 127.0.0.1:" + std::to_string(port)),
               err.what());
  }
}

BOOST_AUTO_TEST_CASE(connect_without_a_name_is_refused) {
  rotina::runtime rt{rotina::options{{}, {"--scheduler.max-threads=2"}}};
  auto res = rt.connect("127.0.0.1", 1);
  BOOST_REQUIRE(!res);
  BOOST_TEST((res.error().code == rotina::connect_errc::not_configured));
}

BOOST_AUTO_TEST_SUITE_END()

// -- connecting ---------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(nodes_suite)

BOOST_AUTO_TEST_CASE(two_nodes_connect_and_list_each_other) {
  node_process a{node_args("a")};
  node_process b{node_args("b")};
  BOOST_TEST(a.port != 0);
  auto res = b.ask(a.connect_cmd(), "connect");
  BOOST_TEST(res == "connect ok a@127.0.0.1:" + std::to_string(a.port));
  BOOST_TEST(b.ask("nodes", "nodes") == "nodes a");
  BOOST_TEST(b.ask("agent a", "agent") == "agent ok node_of-ok");
  BOOST_TEST(eventually([&] { return a.ask("nodes", "nodes") == "nodes b"; }));
  BOOST_TEST(a.ask("agent b", "agent") == "agent ok node_of-ok");
  // Connecting again returns the same peer.
  BOOST_TEST(b.ask(a.connect_cmd(), "connect") == res);
  BOOST_TEST(a.quit() == 0);
  BOOST_TEST(b.quit() == 0);
}

BOOST_AUTO_TEST_CASE(three_nodes_started_in_any_order_connect_via_peers) {
  auto pa = rotina::test::free_port();
  auto pb = rotina::test::free_port();
  auto pc = rotina::test::free_port();
  auto peer
    = [](uint16_t p) { return "\"127.0.0.1:" + std::to_string(p) + "\""; };
  // c first (its peers do not exist yet), then b, then a.
  node_process c{
    node_args("c", {"--listen-port=" + std::to_string(pc),
                    "--peers=[" + peer(pa) + "," + peer(pb) + "]"})};
  std::this_thread::sleep_for(300ms);
  node_process b{node_args("b", {"--listen-port=" + std::to_string(pb),
                                 "--peers=[" + peer(pa) + "]"})};
  std::this_thread::sleep_for(300ms);
  node_process a{node_args("a", {"--listen-port=" + std::to_string(pa)})};
  BOOST_TEST(c.ask("wait-peers", "peers") == "peers ok");
  BOOST_TEST(b.ask("wait-peers", "peers") == "peers ok");
  for (auto* n : {&a, &b, &c}) {
    std::string want = n == &a   ? "nodes b,c"
                       : n == &b ? "nodes a,c"
                                 : "nodes a,b";
    BOOST_TEST(eventually([&] { return n->ask("nodes", "nodes") == want; }),
               n->name << " lists " << want);
  }
  BOOST_TEST(a.stderr_text() == "");
}

BOOST_AUTO_TEST_CASE(a_peer_that_never_starts_fails_after_connect_timeout) {
  auto port = rotina::test::free_port();
  auto t0 = std::chrono::steady_clock::now();
  node_process c{
    node_args("c", {"--connect-timeout=1s",
                    "--peers=[\"127.0.0.1:" + std::to_string(port) + "\"]"})};
  auto res = c.ask("wait-peers", "peers", 10s);
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(contains(res, "peers err connection refused"), res);
  BOOST_TEST(contains(res, "within rotina.connect-timeout (1s"), res);
  BOOST_TEST(took < 5s);
  BOOST_TEST(eventually([&] {
    return contains(c.stderr_text(), "could not connect to peer 127.0.0.1:"
                                       + std::to_string(port));
  }));
  BOOST_TEST(c.quit() == 0);
}

BOOST_AUTO_TEST_CASE(duplicate_name_is_refused_naming_both_on_both_sides) {
  node_process a{node_args("a")};
  node_process b{node_args("b")};
  node_process b2{node_args("b")};
  BOOST_TEST(contains(b.ask(a.connect_cmd(), "connect"), "connect ok"));
  auto res = b2.ask(a.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err node name taken"), res);
  BOOST_TEST(contains(res, "'b' (127.0.0.1:" + std::to_string(b.port) + ")"),
             res);
  BOOST_TEST(contains(res, "'b' (127.0.0.1:" + std::to_string(b2.port) + ")"),
             res);
  BOOST_TEST(eventually([&] { return contains(a.stderr_text(), "refused"); }));
  BOOST_TEST(contains(a.stderr_text(), "node name taken"), a.stderr_text());
  // A node connecting to one with its own name.
  node_process a2{node_args("a")};
  res = a2.ask(a.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err node name taken"), res);
  BOOST_TEST(contains(res, "'a' (127.0.0.1:" + std::to_string(a.port) + ")"),
             res);
  BOOST_TEST(contains(res, "'a' (127.0.0.1:" + std::to_string(a2.port) + ")"),
             res);
  BOOST_TEST(a.ask("nodes", "nodes") == "nodes b");
}

BOOST_AUTO_TEST_CASE(settings_mismatch_is_refused_naming_both_values) {
  node_process a{node_args("a")};
  node_process b{
    node_args("b", {"--heartbeat-interval=200ms", "--heartbeat-timeout=1s"})};
  auto res = b.ask(a.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err settings mismatch"), res);
  BOOST_TEST(contains(res, "heartbeat-interval 500ms"), res);
  BOOST_TEST(contains(res, "heartbeat-interval 200ms"), res);
  BOOST_TEST(contains(res, "heartbeat-timeout 1s"), res);
  BOOST_TEST(
    eventually([&] { return contains(a.stderr_text(), "settings mismatch"); }));
  BOOST_TEST(contains(a.stderr_text(), "200ms"));
  // The refusing node names the peer and its address.
  BOOST_TEST(contains(a.stderr_text(),
                      "refused peer 'b' (127.0.0.1:" + std::to_string(b.port)),
             a.stderr_text());
  BOOST_TEST(a.ask("nodes", "nodes") == "nodes ");
}

BOOST_AUTO_TEST_CASE(type_fingerprint_mismatch_is_refused_naming_both) {
  node_process a{node_args("a", {"--types=point"})};
  node_process b{node_args("b", {"--types=point,blob"})};
  auto res = b.ask(a.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err type fingerprint mismatch"), res);
  BOOST_TEST(contains(res, "(1 types)"), res);
  BOOST_TEST(contains(res, "(2 types)"), res);
  BOOST_TEST(contains(res, "only on 'b': [test.blob]"), res);
  BOOST_TEST(eventually(
    [&] { return contains(a.stderr_text(), "type fingerprint mismatch"); }));
  // Same types: accepted.
  node_process c{node_args("c", {"--types=blob,point"})};
  BOOST_TEST(contains(c.ask(b.connect_cmd(), "connect"), "connect ok"));
}

BOOST_AUTO_TEST_CASE(connect_where_nothing_listens_is_refused_at_once) {
  node_process b{node_args("b")};
  auto port = rotina::test::free_port();
  auto t0 = std::chrono::steady_clock::now();
  auto res = b.ask("connect 127.0.0.1 " + std::to_string(port), "connect");
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(contains(res, "connect err connection refused"), res);
  BOOST_TEST(contains(res, std::to_string(port)), res);
  BOOST_TEST(took < 2s);
}

BOOST_AUTO_TEST_CASE(connect_to_a_frozen_node_times_out_within_its_bound) {
  node_process a{node_args("a")};
  node_process b{node_args("b", {"--connect-timeout=1s"})};
  BOOST_REQUIRE(a.stop_and_wait());
  auto t0 = std::chrono::steady_clock::now();
  auto res = b.ask(a.connect_cmd(), "connect", 10s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - t0);
  std::cout << "connect to a SIGSTOPped node failed after " << took.count()
            << " ms (connect-timeout 1s): " << res << std::endl;
  BOOST_TEST(contains(res, "connect err connect timed out"), res);
  BOOST_TEST(took >= 900ms);
  BOOST_TEST(took < 2500ms);
  a.signal(SIGCONT);
}

BOOST_AUTO_TEST_CASE(garbage_on_the_port_leaves_the_node_serving) {
  node_process a{node_args("a")};
  // Not a BASP header: the first byte is no valid operation, so CAF closes
  // the connection (a valid header announcing a huge payload is issue 13).
  std::string garbage(64, '\xff');
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(rotina::test::send_raw(a.port, garbage));
  BOOST_TEST(rotina::test::send_raw(a.port, "GET / HTTP/1.0\r\n\r\n"));
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(a.alive());
  node_process b{node_args("b")};
  BOOST_TEST(contains(b.ask(a.connect_cmd(), "connect"), "connect ok"));
}

BOOST_AUTO_TEST_SUITE_END()

// -- failures -----------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(node_failure_suite)

BOOST_AUTO_TEST_CASE(sigkill_is_seen_as_node_down_within_100ms) {
  node_process a{node_args("a")};
  node_process b{node_args("b")};
  BOOST_REQUIRE(contains(b.ask(a.connect_cmd(), "connect"), "connect ok"));
  BOOST_REQUIRE(b.ask("watch a", "watch") == "watch ok");
  auto t0 = rotina::test::now_ns();
  a.signal(SIGKILL);
  auto line = b.expect("down a", 5s);
  auto ms = (down_time_ns(line) - t0) / 1e6;
  std::cout << "SIGKILL seen as node down after " << ms << " ms: " << line
            << std::endl;
  BOOST_TEST(ms < 100.0);
  BOOST_TEST(contains(line, "is down: connection lost"), line);
  BOOST_TEST(b.ask("nodes", "nodes") == "nodes ");
}

BOOST_AUTO_TEST_CASE(sigstop_is_seen_as_node_down_within_the_bound) {
  // Defaults: heartbeat-interval 500ms, heartbeat-timeout 2s: the bound is
  // timeout + 2 x interval = 3 s.
  node_process a{node_args("a")};
  node_process b{node_args("b")};
  BOOST_REQUIRE(contains(b.ask(a.connect_cmd(), "connect"), "connect ok"));
  BOOST_REQUIRE(b.ask("watch a", "watch") == "watch ok");
  auto t0 = rotina::test::now_ns();
  a.signal(SIGSTOP);
  auto line = b.expect("down a", 10s);
  auto ms = (down_time_ns(line) - t0) / 1e6;
  std::cout << "SIGSTOP seen as node down after " << ms << " ms: " << line
            << std::endl;
  BOOST_TEST(ms >= 1900.0);
  BOOST_TEST(ms <= 3000.0);
  a.signal(SIGCONT);
}

BOOST_AUTO_TEST_CASE(a_restarted_node_with_the_same_name_joins_again) {
  node_process a{node_args("a")};
  auto b = std::make_unique<node_process>(node_args("b"));
  BOOST_REQUIRE(contains(b->ask(a.connect_cmd(), "connect"), "connect ok"));
  BOOST_REQUIRE(
    eventually([&] { return a.ask("nodes", "nodes") == "nodes b"; }));
  BOOST_REQUIRE(a.ask("watch b", "watch") == "watch ok");
  b->signal(SIGKILL);
  BOOST_TEST(contains(a.expect("down b", 5s), "is down"));
  BOOST_TEST(a.ask("nodes", "nodes") == "nodes ");
  b = std::make_unique<node_process>(node_args("b"));
  BOOST_TEST(contains(b->ask(a.connect_cmd(), "connect"), "connect ok"));
  BOOST_TEST(eventually([&] { return a.ask("nodes", "nodes") == "nodes b"; }));
  BOOST_TEST(b->quit() == 0);
  BOOST_TEST(a.quit() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
