// Tests of channels across nodes (issue 11, "Channels across nodes";
// docs/distribution.md): real rotina_test_node processes (harness.hpp) share
// channels published by name, looked up, and sent over channels. Every node
// process is reaped by its node_process, also when a check fails; every wait
// is bounded.
//
// The Go rules checked are the channel rules of the Go spec ("Send
// statements", "Receive operator", "Close"): an unbuffered send completes
// only when a receiver has the value, a buffered send blocks only while the
// buffer is full, values from one sender arrive in order, close wakes
// receivers after the buffered values and makes blocked senders panic. The
// distribution rules are issue 11's: a lost owner is node_down, never a close.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace std::chrono_literals;
using rotina::test::node_process;

namespace {

/// How long a completion must NOT arrive to count as "still blocked".
constexpr auto blocked_for = 300ms;

std::vector<std::string> chan_node_args(const std::string& name,
                                        std::vector<std::string> extra = {}) {
  std::vector<std::string> result{"--node-name=" + name, "--listen=true",
                                  "--scheduler.max-threads=2"};
  for (auto& x : extra)
    result.push_back(x);
  return result;
}

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A test node: a node_process with a backlog, so that waiting for one reply
/// keeps the other lines (node_process::expect drops them).
class tnode {
public:
  explicit tnode(const std::string& name, std::vector<std::string> extra = {})
    : proc(chan_node_args(name, std::move(extra))), name(proc.name) {
    // nop
  }

  void send(const std::string& cmd) {
    proc.send(cmd);
  }

  /// The next line, from the backlog first.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    if (!backlog.empty()) {
      auto line = backlog.front();
      backlog.pop_front();
      return line;
    }
    return proc.read_line(timeout);
  }

  /// The first line whose first words are `prefix` (from the backlog, then
  /// from the node), keeping the others; throws after `timeout`.
  std::string expect(const std::string& prefix,
                     std::chrono::milliseconds timeout = 20s) {
    auto match = [&](const std::string& line) {
      return line.compare(0, prefix.size(), prefix) == 0
             && (line.size() == prefix.size() || line[prefix.size()] == ' ');
    };
    for (auto i = backlog.begin(); i != backlog.end(); ++i)
      if (match(*i)) {
        auto line = *i;
        backlog.erase(i);
        return line;
      }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      auto line = left.count() > 0 ? proc.read_line(left) : std::nullopt;
      if (!line)
        throw std::runtime_error("node '" + name + "': no line '" + prefix
                                 + " ...' within "
                                 + std::to_string(timeout.count())
                                 + " ms; stderr: " + proc.stderr_text());
      if (match(*line))
        return *line;
      backlog.push_back(*line);
    }
  }

  std::string ask(const std::string& cmd, const std::string& prefix,
                  std::chrono::milliseconds timeout = 20s) {
    send(cmd);
    return expect(prefix, timeout);
  }

  void signal(int sig) {
    proc.signal(sig);
  }

  std::string connect_cmd() const {
    return proc.connect_cmd();
  }

  uint16_t port() const {
    return proc.port;
  }

  node_process proc;
  std::string name;
  std::deque<std::string> backlog;
};

/// Whether `n` lists `peer` among its connected nodes.
bool lists(tnode& n, const std::string& peer) {
  auto line = n.ask("nodes", "nodes");
  std::stringstream names{line.substr(line.find(' ') + 1)};
  std::string x;
  while (std::getline(names, x, ','))
    if (x == peer)
      return true;
  return false;
}

/// Connects `from` to `to` and waits until both list each other.
void link(tnode& from, tnode& to) {
  auto res = from.ask(to.connect_cmd(), "connect");
  BOOST_REQUIRE_MESSAGE(has(res, "connect ok"), res);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!lists(to, from.name) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  BOOST_REQUIRE_MESSAGE(lists(to, from.name),
                        to.name << " does not list " << from.name);
}

/// Checks that `n` says nothing for `d` (an operation still blocked).
void quiet(tnode& n, std::chrono::milliseconds d = blocked_for) {
  auto line = n.read_line(d);
  BOOST_TEST(!line.has_value(), n.name
                                  << " answered while it should still block: "
                                  << line.value_or(""));
  if (line)
    n.backlog.push_front(*line);
}

/// Asks `n` for `cmd` and checks the whole reply line.
void ask_is(tnode& n, const std::string& cmd, const std::string& want,
            std::chrono::milliseconds timeout = 20s) {
  std::string prefix = cmd.substr(0, cmd.find(' '));
  auto line = n.ask(cmd, prefix, timeout);
  BOOST_TEST(line == want, n.name << ": '" << cmd << "' -> '" << line
                                  << "', want '" << want << "'");
}

/// Makes `name` on `owner` (published) and looks it up on every node of
/// `others`, which must be linked to `owner`.
void share(tnode& owner, const std::string& name, size_t cap,
           const std::string& kind, std::vector<tnode*> others) {
  ask_is(owner, "make " + name + " " + std::to_string(cap) + " " + kind,
         "make ok");
  for (auto* n : others)
    ask_is(*n, "lookup " + owner.name + " " + name + " " + kind,
           "lookup ok remote=1");
}

/// The same bytes and checksum as test_node.cpp's make_bytes / fnv1a.
std::string make_bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 7) % 5 == 0 ? 0 : 'a' + i % 26);
  return s;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string bytes_reply(size_t n) {
  return "recv ok len=" + std::to_string(n)
         + " sum=" + std::to_string(fnv1a(make_bytes(n)));
}

/// What drain prints for the values [from, from + n) of each range.
struct drained {
  int64_t count = 0;
  int64_t sum = 0;
  uint64_t sq = 0;

  void add_range(int64_t from, int64_t n) {
    for (int64_t v = from; v < from + n; ++v) {
      ++count;
      sum += v;
      sq += static_cast<uint64_t>(v) * static_cast<uint64_t>(v);
    }
  }
};

/// Parses "key=<number>" out of a drain line.
int64_t field(const std::string& line, const std::string& key) {
  auto i = line.find(" " + key + "=");
  BOOST_REQUIRE_MESSAGE(i != std::string::npos, "no " << key << " in " << line);
  return std::stoll(line.substr(i + key.size() + 2));
}

uint64_t ufield(const std::string& line, const std::string& key) {
  auto i = line.find(" " + key + "=");
  BOOST_REQUIRE_MESSAGE(i != std::string::npos, "no " << key << " in " << line);
  return std::stoull(line.substr(i + key.size() + 2));
}

using ms = std::chrono::milliseconds;

ms since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - t0);
}

} // namespace

// -- semantics
// ------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(remote_chan_suite)

/// Go: "communication blocks until the send can proceed"; on an unbuffered
/// channel a send proceeds only when a receiver is ready. Owner a, remote
/// sender b: b's send stays blocked until a receives.
BOOST_AUTO_TEST_CASE(unbuffered_remote_send_waits_for_the_owners_receiver) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 0, "i", {&b});
  b.send("send c 5");
  quiet(b);
  ask_is(a, "recv c", "recv ok 5");
  BOOST_TEST(b.expect("send", 5s) == "send ok 5");
}

/// The same rule with the receiver remote: the owner's send completes only
/// once b's receive took the value.
BOOST_AUTO_TEST_CASE(unbuffered_owner_send_waits_for_a_remote_receiver) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 0, "i", {&b});
  a.send("send c 6");
  quiet(a);
  ask_is(b, "recv c", "recv ok 6");
  BOOST_TEST(a.expect("send", 5s) == "send ok 6");
}

/// Sender and receiver both remote (owner a, sender b, receiver c): the
/// rendezvous happens at the owner; neither side completes alone.
BOOST_AUTO_TEST_CASE(unbuffered_rendezvous_between_two_remote_nodes) {
  tnode a{"a"};
  tnode b{"b"};
  tnode c{"c"};
  link(b, a);
  link(c, a);
  share(a, "c", 0, "i", {&b, &c});
  b.send("send c 7");
  quiet(b);
  c.send("recv c");
  BOOST_TEST(c.expect("recv", 5s) == "recv ok 7");
  BOOST_TEST(b.expect("send", 5s) == "send ok 7");
  // And the other way round: the receiver first.
  b.send("recv c");
  quiet(b);
  ask_is(c, "send c 8", "send ok 8");
  BOOST_TEST(b.expect("recv", 5s) == "recv ok 8");
}

/// Go: "A send on a buffered channel can proceed if there is room in the
/// buffer." cap 3: three remote sends complete without a receiver, the
/// fourth blocks until the owner receives one; len and cap read through.
BOOST_AUTO_TEST_CASE(buffered_remote_sender_blocks_only_while_full) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 3, "i", {&b});
  ask_is(b, "sendn c 0 3", "sendn done", 10s);
  ask_is(b, "trysend c 98", "trysend false"); // full: Go's select default
  b.send("send c 99");
  quiet(b);
  ask_is(a, "len c", "len 3 cap 3");
  ask_is(b, "len c", "len 3 cap 3");
  ask_is(a, "recv c", "recv ok 0");
  BOOST_TEST(b.expect("send", 5s) == "send ok 99");
  ask_is(a, "recv c", "recv ok 1");
  ask_is(a, "recv c", "recv ok 2");
  ask_is(a, "recv c", "recv ok 99");
  ask_is(b, "len c", "len 0 cap 3");
}

/// Go's memory model: "A send on a channel is synchronized before the
/// completion of the corresponding receive". b's buffered sends on c
/// complete, then b sends on d; once a received from d, the values b sent
/// on c before are in c's buffer (len counts them, try_recv gets the first)
/// even when credited sends ship later as batches.
BOOST_AUTO_TEST_CASE(completed_remote_sends_are_visible_after_a_later_sync) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 1024, "i", {&b});
  share(a, "d", 0, "i", {&b});
  for (int round = 0; round < 3; ++round) {
    ask_is(b, "sendn c 0 100", "sendn done", 20s);
    b.send("send d 1");
    ask_is(a, "recv d", "recv ok 1");
    BOOST_TEST(b.expect("send", 5s) == "send ok 1");
    ask_is(a, "len c", "len 100 cap 1024");
    ask_is(a, "tryrecv c", "tryrecv received 0");
    for (int i = 1; i < 100; ++i)
      ask_is(a, "tryrecv c", "tryrecv received " + std::to_string(i));
    ask_is(a, "tryrecv c", "tryrecv empty");
  }
}

/// The buffered rule with the receiver remote: the owner's sender blocks
/// on a full buffer until a remote receive makes room.
BOOST_AUTO_TEST_CASE(buffered_owner_sender_unblocked_by_a_remote_receiver) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 2, "i", {&b});
  ask_is(a, "sendn c 10 2", "sendn done", 10s);
  a.send("send c 12");
  quiet(a);
  ask_is(b, "recv c", "recv ok 10");
  BOOST_TEST(a.expect("send", 5s) == "send ok 12");
  ask_is(b, "tryrecv c", "tryrecv received 11");
  ask_is(b, "recv c", "recv ok 12");
  ask_is(b, "tryrecv c", "tryrecv empty");
}

/// Go's channels are FIFO: values from one sender arrive in the order sent,
/// remote sender to the owner (buffered and unbuffered).
BOOST_AUTO_TEST_CASE(values_of_one_remote_sender_arrive_in_order) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  for (size_t cap : {size_t{0}, size_t{16}}) {
    auto name = "c" + std::to_string(cap);
    share(a, name, cap, "i", {&b});
    a.send("drain " + name);
    ask_is(b, "sendn " + name + " 0 2000", "sendn done", 60s);
    ask_is(b, "close " + name, "close ok");
    drained want;
    want.add_range(0, 2000);
    auto line = a.expect("drain", 20s);
    BOOST_TEST(line
                 == "drain closed count=2000 ordered=1 sum="
                      + std::to_string(want.sum)
                      + " sq=" + std::to_string(want.sq),
               "cap " << cap << ": " << line);
  }
}

/// FIFO from the owner's sender to a remote receiver.
BOOST_AUTO_TEST_CASE(values_to_a_remote_receiver_arrive_in_order) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 16, "i", {&b});
  b.send("drain c");
  ask_is(a, "sendn c 0 2000", "sendn done", 60s);
  ask_is(a, "close c", "close ok");
  drained want;
  want.add_range(0, 2000);
  auto line = b.expect("drain", 20s);
  BOOST_TEST(line
               == "drain closed count=2000 ordered=1 sum="
                    + std::to_string(want.sum)
                    + " sq=" + std::to_string(want.sq),
             line);
}

/// Go's close: "After calling close, and after any previously sent values
/// have been received, receive operations will return the zero value".
/// A remote receiver gets the three buffered values, then "closed"; a
/// remote receiver parked on an empty channel is woken with "closed".
BOOST_AUTO_TEST_CASE(close_gives_remote_receivers_the_buffer_then_closed) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 4, "i", {&b});
  share(a, "e", 0, "i", {&b});
  ask_is(a, "sendn c 10 3", "sendn done", 10s);
  ask_is(a, "close c", "close ok");
  ask_is(b, "recv c", "recv ok 10");
  ask_is(b, "recv c", "recv ok 11");
  ask_is(b, "recv c", "recv ok 12");
  ask_is(b, "recv c", "recv closed");
  ask_is(b, "tryrecv c", "tryrecv closed");
  b.send("recv e");
  quiet(b);
  ask_is(a, "close e", "close ok");
  BOOST_TEST(b.expect("recv", 5s) == "recv closed");
}

/// Go: "Closing the channel ... sending to a closed channel causes a
/// run-time panic": a remote sender parked on the channel when its owner
/// closes it gets panic_error "send on closed channel".
BOOST_AUTO_TEST_CASE(close_fails_a_remote_blocked_sender_with_the_panic) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 0, "i", {&b});
  b.send("send c 1");
  quiet(b);
  ask_is(a, "close c", "close ok");
  auto line = b.expect("send", 5s);
  BOOST_TEST(has(line, "send err send on closed channel"), line);
  // Nothing was delivered: the owner sees a closed, empty channel.
  ask_is(a, "recv c", "recv closed");
  // The same on a full buffered channel: two sends fit, the third is parked
  // when the owner closes; the buffered two are still received.
  share(a, "f", 2, "i", {&b});
  b.send("sendn f 0 3");
  quiet(b);
  ask_is(a, "close f", "close ok");
  line = b.expect("sendn", 5s);
  BOOST_TEST(has(line, "sendn err send on closed channel"), line);
  ask_is(b, "recv f", "recv ok 0");
  ask_is(b, "recv f", "recv ok 1");
  ask_is(b, "recv f", "recv closed");
}

/// close from a remote node closes the owner's channel; a second close from
/// there panics with Go's "close of closed channel", and so do sends.
BOOST_AUTO_TEST_CASE(close_from_a_remote_node_and_close_of_closed) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 2, "i", {&b});
  ask_is(b, "trysend c 3", "trysend true");
  ask_is(b, "close c", "close ok");
  ask_is(a, "recv c", "recv ok 3");
  ask_is(a, "tryrecv c", "tryrecv closed");
  auto line = b.ask("close c", "close");
  BOOST_TEST(has(line, "close err close of closed channel"), line);
  line = a.ask("close c", "close");
  BOOST_TEST(has(line, "close err close of closed channel"), line);
  line = b.ask("send c 4", "send");
  BOOST_TEST(has(line, "send err send on closed channel"), line);
  line = b.ask("trysend c 4", "trysend");
  BOOST_TEST(has(line, "trysend err send on closed channel"), line);
  ask_is(b, "recv c", "recv closed");
}

/// Go serves the blocked receivers (and senders) of a channel in arrival
/// order (runtime/chan.go: recvq and sendq are FIFO queues): b parks first,
/// c second, at the owner; the owner's sends go to b, then to c. Then the
/// same for blocked remote senders and the owner's receives.
BOOST_AUTO_TEST_CASE(blocked_remote_parties_are_served_in_arrival_order) {
  tnode a{"a"};
  tnode b{"b"};
  tnode c{"c"};
  link(b, a);
  link(c, a);
  share(a, "ch", 0, "i", {&b, &c});
  b.send("recv ch");
  quiet(b);
  c.send("recv ch");
  quiet(c);
  ask_is(a, "send ch 1", "send ok 1");
  BOOST_TEST(b.expect("recv", 5s) == "recv ok 1");
  quiet(c, 100ms);
  ask_is(a, "send ch 2", "send ok 2");
  BOOST_TEST(c.expect("recv", 5s) == "recv ok 2");
  b.send("send ch 3");
  quiet(b);
  c.send("send ch 4");
  quiet(c);
  ask_is(a, "recv ch", "recv ok 3");
  BOOST_TEST(b.expect("send", 5s) == "send ok 3");
  ask_is(a, "recv ch", "recv ok 4");
  BOOST_TEST(c.expect("send", 5s) == "send ok 4");
}

/// Each value exactly once: two remote sender nodes (disjoint ranges) and
/// the owner draining; count, sum and sum of squares are exact and each
/// sender's values arrive in order.
BOOST_AUTO_TEST_CASE(two_remote_senders_each_value_exactly_once) {
  tnode a{"a"};
  tnode b{"b"};
  tnode c{"c"};
  link(b, a);
  link(c, a);
  share(a, "c", 8, "i", {&b, &c});
  a.send("drain c 1000000");
  b.send("sendn c 0 3000");
  c.send("sendn c 1000000 3000");
  BOOST_TEST(b.expect("sendn", 60s) == "sendn done");
  BOOST_TEST(c.expect("sendn", 60s) == "sendn done");
  ask_is(a, "close c", "close ok");
  drained want;
  want.add_range(0, 3000);
  want.add_range(1000000, 3000);
  auto line = a.expect("drain", 20s);
  BOOST_TEST(line
               == "drain closed count=6000 ordered=1 sum="
                    + std::to_string(want.sum)
                    + " sq=" + std::to_string(want.sq),
             line);
}

/// Each value exactly once the other way: the owner sends to two remote
/// receiver nodes; their counts add up, no value is duplicated or lost
/// (sums exact), and each receiver sees the values in order.
BOOST_AUTO_TEST_CASE(two_remote_receivers_each_value_exactly_once) {
  tnode a{"a"};
  tnode b{"b"};
  tnode c{"c"};
  link(b, a);
  link(c, a);
  share(a, "c", 8, "i", {&b, &c});
  b.send("drain c");
  c.send("drain c");
  ask_is(a, "sendn c 0 6000", "sendn done", 60s);
  ask_is(a, "close c", "close ok");
  auto lb = b.expect("drain", 20s);
  auto lc = c.expect("drain", 20s);
  BOOST_TEST_MESSAGE("b: " << lb << "; c: " << lc);
  BOOST_REQUIRE(has(lb, "drain closed"));
  BOOST_REQUIRE(has(lc, "drain closed"));
  drained want;
  want.add_range(0, 6000);
  BOOST_TEST(field(lb, "count") + field(lc, "count") == want.count);
  BOOST_TEST(field(lb, "sum") + field(lc, "sum") == want.sum);
  BOOST_TEST(ufield(lb, "sq") + ufield(lc, "sq") == want.sq);
  BOOST_TEST(field(lb, "ordered") == 1);
  BOOST_TEST(field(lc, "ordered") == 1);
}

/// Issue 11's shape: producers and consumers on three nodes over one channel
/// owned by a; every node sends its own range and drains. Each value
/// arrives exactly once (counts, sums and sums of squares add up) and each
/// sender's values arrive in order at every receiver. Values per sender:
/// ROTINA_CHAN_VALUES (default 3000; issue 11 asks 10^6 in all, about 3 min
/// under ASan at the measured ~6000 values/s).
BOOST_AUTO_TEST_CASE(producers_and_consumers_on_three_nodes_exactly_once) {
  int64_t n = 3000;
  if (auto env = std::getenv("ROTINA_CHAN_VALUES"))
    n = std::stoll(env);
  tnode a{"a"};
  tnode b{"b"};
  tnode c{"c"};
  link(b, a);
  link(c, a);
  share(a, "ch", 64, "i", {&b, &c});
  constexpr int64_t block = 1000000000;
  for (auto* x : {&a, &b, &c})
    x->send("drain ch " + std::to_string(block));
  auto t0 = std::chrono::steady_clock::now();
  a.send("sendn ch 0 " + std::to_string(n));
  b.send("sendn ch " + std::to_string(block) + " " + std::to_string(n));
  c.send("sendn ch " + std::to_string(2 * block) + " " + std::to_string(n));
  auto bound = std::chrono::milliseconds{30000 + n * 20};
  for (auto* x : {&a, &b, &c})
    BOOST_TEST(x->expect("sendn", bound) == "sendn done", x->name);
  ask_is(a, "close ch", "close ok");
  drained want;
  for (int64_t i = 0; i < 3; ++i)
    want.add_range(i * block, n);
  drained got;
  for (auto* x : {&a, &b, &c}) {
    auto line = x->expect("drain", 20s);
    BOOST_TEST_MESSAGE(x->name << ": " << line);
    BOOST_REQUIRE_MESSAGE(has(line, "drain closed"), line);
    BOOST_TEST(field(line, "ordered") == 1, x->name << ": " << line);
    got.count += field(line, "count");
    got.sum += field(line, "sum");
    got.sq += ufield(line, "sq");
  }
  auto took = since(t0);
  std::cout << "3 nodes, 3 x " << n << " values exactly once in "
            << took.count() << " ms" << std::endl;
  BOOST_TEST(got.count == want.count);
  BOOST_TEST(got.sum == want.sum);
  BOOST_TEST(got.sq == want.sq);
}

// -- value fidelity
// -------------------------------------------------------------

/// Strings cross byte for byte: empty, a lone NUL, NULs inside, 1 MiB; in
/// both directions (length and FNV-1a checksum compared).
BOOST_AUTO_TEST_CASE(strings_with_nuls_and_of_one_mib_cross_intact) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "s", 0, "s", {&b});
  for (size_t n : {size_t{0}, size_t{1}, size_t{11}, size_t{1048576}}) {
    b.send("sends s " + std::to_string(n));
    ask_is(a, "recv s", bytes_reply(n), 20s);
    BOOST_TEST(b.expect("sends", 20s) == "sends ok");
    a.send("sends s " + std::to_string(n));
    ask_is(b, "recv s", bytes_reply(n), 20s);
    BOOST_TEST(a.expect("sends", 20s) == "sends ok");
  }
}

/// int64 extremes cross unchanged in both directions.
BOOST_AUTO_TEST_CASE(int64_extremes_cross_unchanged) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 0, "i", {&b});
  for (int64_t v :
       {std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max(), int64_t{0}, int64_t{-1}}) {
    auto text = std::to_string(v);
    b.send("send c " + text);
    ask_is(a, "recv c", "recv ok " + text);
    BOOST_TEST(b.expect("send", 5s) == "send ok " + text);
    a.send("send c " + text);
    ask_is(b, "recv c", "recv ok " + text);
    BOOST_TEST(a.expect("send", 5s) == "send ok " + text);
  }
}

/// A registered struct (test.point, on every node) crosses field by field.
BOOST_AUTO_TEST_CASE(a_registered_struct_crosses) {
  tnode a{"a", {"--types=point"}};
  tnode b{"b", {"--types=point"}};
  link(b, a);
  share(a, "p", 1, "p", {&b});
  ask_is(b, "sendp p 2147483647 -2147483648", "sendp ok");
  ask_is(a, "recvp p", "recvp ok 2147483647 -2147483648");
  ask_is(a, "sendp p -7 9", "sendp ok");
  ask_is(b, "recvp p", "recvp ok -7 9");
}

/// Go: channels are first-class values ("chan chan int"). b sends its own
/// channel over a's carrier; a (the carrier's owner) receives a remote handle
/// and uses it in both directions with b.
BOOST_AUTO_TEST_CASE(a_channel_sent_to_the_owner_of_its_carrier_works_there) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "cc", 0, "c", {&b});
  ask_is(b, "make in 0 i", "make ok");
  b.send("sendchan cc in");
  ask_is(a, "recvchan cc x", "recvchan ok remote=1");
  BOOST_TEST(b.expect("sendchan", 5s) == "sendchan ok");
  a.send("send x 41");
  quiet(a); // unbuffered on b: no receiver yet
  ask_is(b, "recv in", "recv ok 41");
  BOOST_TEST(a.expect("send", 5s) == "send ok 41");
  a.send("recv x");
  ask_is(b, "send in 42", "send ok 42");
  BOOST_TEST(a.expect("recv", 5s) == "recv ok 42");
  ask_is(a, "close x", "close ok");
  ask_is(b, "recv in", "recv closed");
}

/// A handle passed on through a third node's channel works where its owner
/// is connected (a's channel x travels over b's carrier to c), and where the
/// owner is not connected (d knows only b) every operation fails with
/// node_down saying so, instead of hanging.
BOOST_AUTO_TEST_CASE(a_channel_passed_on_through_a_third_node) {
  tnode a{"a"};
  tnode b{"b"};
  tnode c{"c"};
  tnode d{"d"};
  link(a, b);
  link(c, b);
  link(c, a);
  link(d, b);
  share(b, "cc", 0, "c", {&a, &c, &d});
  ask_is(a, "make x 0 i", "make ok");
  a.send("sendchan cc x");
  ask_is(c, "recvchan cc y", "recvchan ok remote=1");
  BOOST_TEST(a.expect("sendchan", 5s) == "sendchan ok");
  c.send("send y 5");
  quiet(c);
  ask_is(a, "recv x", "recv ok 5");
  BOOST_TEST(c.expect("send", 5s) == "send ok 5");
  a.send("sendchan cc x");
  ask_is(d, "recvchan cc z", "recvchan ok remote=1");
  BOOST_TEST(a.expect("sendchan", 5s) == "sendchan ok");
  auto line = d.ask("send z 6", "send", 5s);
  BOOST_TEST(has(line, "send err node down |"), line);
  BOOST_TEST(has(line, "not connected to node 'd'"), line);
  BOOST_TEST(has(line, "'a'"), line);
  line = d.ask("tryrecv z", "tryrecv", 5s);
  BOOST_TEST(has(line, "tryrecv err node down |"), line);
}

/// Go: a nil channel is a value like any other ("var c chan int; cc <- c").
/// A nil chan<int64> crosses in both directions (the owner's channel actor
/// converts it for a remote receiver, a remote sender's proxy for the
/// owner) and arrives as nil; the carrier keeps working.
BOOST_AUTO_TEST_CASE(a_nil_channel_crosses_as_nil) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "cc", 1, "c", {&b});
  BOOST_TEST(a.ask("sendnil cc", "sendchan", 5s) == "sendchan ok");
  ask_is(b, "recvchan cc n1", "recvchan ok nil");
  BOOST_TEST(b.ask("sendnil cc", "sendchan", 5s) == "sendchan ok");
  ask_is(a, "recvchan cc n2", "recvchan ok nil");
  ask_is(a, "make x 0 i", "make ok");
  ask_is(a, "sendchan cc x", "sendchan ok");
  ask_is(b, "recvchan cc y", "recvchan ok remote=1");
}

/// A channel that goes out and comes home is the local channel again (not a
/// proxy to itself): a sends its channel "own" to b, b sends it back.
BOOST_AUTO_TEST_CASE(a_channel_that_comes_home_is_local_again) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "cc", 0, "c", {&b});
  ask_is(a, "make own 1 i", "make ok");
  a.send("sendchan cc own");
  ask_is(b, "recvchan cc y", "recvchan ok remote=1");
  BOOST_TEST(a.expect("sendchan", 5s) == "sendchan ok");
  a.send("recvchan cc z");
  ask_is(b, "sendchan cc y", "sendchan ok");
  BOOST_TEST(a.expect("recvchan", 5s) == "recvchan ok remote=0");
  // z is own: a value sent on z is received on own, and b's y still works.
  ask_is(a, "trysend z 5", "trysend true");
  ask_is(a, "tryrecv own", "tryrecv received 5");
  ask_is(b, "send y 6", "send ok 6");
  ask_is(a, "recv z", "recv ok 6");
}

// -- errors
// ---------------------------------------------------------------------

/// lookup of a name nothing was published under: errc::not_found, and the
/// message lists what is published.
BOOST_AUTO_TEST_CASE(lookup_of_a_missing_name_lists_what_is_published) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  ask_is(a, "make jobs 0 i", "make ok");
  ask_is(a, "make words 0 s", "make ok");
  auto line = b.ask("lookup a nope i", "lookup");
  BOOST_TEST(has(line, "lookup err not found |"), line);
  BOOST_TEST(has(line, "\"nope\""), line);
  BOOST_TEST(has(line, "\"jobs\""), line);
  BOOST_TEST(has(line, "\"words\""), line);
  BOOST_TEST(has(line, "'a'"), line);
}

/// lookup with the wrong element type: errc::type_mismatch naming both
/// types (Go: a type assertion failure names both).
BOOST_AUTO_TEST_CASE(lookup_with_a_wrong_element_type_names_both) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  ask_is(a, "make jobs 0 i", "make ok");
  auto line = b.ask("lookup a jobs s", "lookup");
  BOOST_TEST(has(line, "lookup err type mismatch |"), line);
  BOOST_TEST(has(line, "chan<@i64>"), line);
  BOOST_TEST(has(line, "chan<@str>"), line);
  BOOST_TEST(has(line, "\"jobs\""), line);
  // The right type still works afterwards.
  ask_is(b, "lookup a jobs i", "lookup ok remote=1");
}

/// lookup on a node that is no longer connected fails at once with
/// node_down naming it (no request is made, nothing waits).
BOOST_AUTO_TEST_CASE(lookup_on_a_node_that_is_not_connected) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  ask_is(a, "make jobs 0 i", "make ok");
  ask_is(b, "watch a", "watch ok");
  a.signal(SIGKILL);
  BOOST_REQUIRE(has(b.expect("down a", 5s), "is down"));
  auto t0 = std::chrono::steady_clock::now();
  auto line = b.ask("lookup a jobs i", "lookup");
  BOOST_TEST(has(line, "lookup err node down |"), line);
  BOOST_TEST(has(line, "not connected"), line);
  BOOST_TEST(has(line, "a@127.0.0.1:" + std::to_string(a.port())), line);
  BOOST_TEST(since(t0) < 1000ms);
}

/// Like Go's net/rpc Register, a published channel lives while published:
/// the owner dropping its last handle does not end it for other nodes.
BOOST_AUTO_TEST_CASE(a_published_channel_outlives_the_owners_handle) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 2, "i", {&b});
  ask_is(a, "drop c", "drop ok");
  ask_is(b, "trysend c 3", "trysend true");
  ask_is(b, "len c", "len 1 cap 2");
  ask_is(b, "tryrecv c", "tryrecv received 3");
  ask_is(b, "close c", "close ok");
  ask_is(b, "recv c", "recv closed");
}

/// Go's select with a case on a channel of another node: b's select waits
/// (its 2 s timeout case is the witness) until the owner sends, then
/// receives the value; with no sender the timeout case is chosen and no
/// value is taken. The same select on the owner (a local channel) works
/// with a remote sender.
BOOST_AUTO_TEST_CASE(select_with_a_remote_case) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 0, "i", {&b});
  b.send("select c");
  quiet(b);
  ask_is(a, "send c 5", "send ok 5");
  BOOST_TEST(b.expect("select", 5s) == "select ok recv 5");
  auto t0 = std::chrono::steady_clock::now();
  auto line = b.ask("select c", "select", 10s);
  auto took = since(t0);
  BOOST_TEST(line == "select timeout", line);
  BOOST_TEST(took >= 1900ms);
  BOOST_TEST(took < 4000ms);
  // The timed-out select left nothing behind at the owner: a's send now
  // waits for a receiver, and the owner's own receive gets it.
  a.send("send c 6");
  quiet(a);
  ask_is(a, "recv c", "recv ok 6");
  BOOST_TEST(a.expect("send", 5s) == "send ok 6");
  a.send("select c");
  ask_is(b, "send c 7", "send ok 7");
  BOOST_TEST(a.expect("select", 5s) == "select ok recv 7");
}

/// rt.lookup from a goroutine (one at a time, so a worker stays free).
BOOST_AUTO_TEST_CASE(lookup_from_a_goroutine) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  ask_is(a, "make c 0 i", "make ok");
  ask_is(b, "glookup a c", "glookup ok");
  auto line = b.ask("glookup a nope", "glookup");
  BOOST_TEST(has(line, "glookup err not found |"), line);
}

/// try_send / try_recv on a remote channel from two goroutines (all the
/// workers of node a) while the owner b has its workers free: every request
/// is answered; the values tried and taken balance (sent == got + len).
///
/// Before lead-remote 2f097a9 both loops failed after request-timeout (5 s):
/// the scoped_actor request waited on the goroutine's worker and CAF's BASP
/// workers, jobs of the same scheduler, never read the answers.
BOOST_AUTO_TEST_CASE(try_operations_from_goroutines_on_one_node) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(b, "cb", 4, "i", {&a});
  a.send("gtry cb 200");
  a.send("gtry cb 200");
  int64_t sent = 0;
  int64_t got = 0;
  for (int i = 0; i < 2; ++i) {
    auto line = a.expect("gtry", 60s);
    BOOST_TEST(has(line, "gtry done"), line);
    if (has(line, "gtry done")) {
      sent += field(line, "sent");
      got += field(line, "got");
    }
  }
  auto len = b.ask("len cb", "len");
  BOOST_TEST(sent > 0);
  BOOST_TEST(sent == got + std::stoll(len.substr(4)), len);
}

/// try_send / try_recv on remote channels from goroutines on both nodes at
/// once (each a bounded request answered by the other node's channel actor,
/// which runs on the same scheduler workers as the goroutines): two
/// goroutines per node, two workers per node; everything completes, no
/// request runs into rotina.request-timeout.
///
/// Before lead-remote 2f097a9 all four loops failed after request-timeout
/// (neither owner's channel actor could run either).
BOOST_AUTO_TEST_CASE(try_operations_from_goroutines_on_both_nodes) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "ca", 4, "i", {&b});
  share(b, "cb", 4, "i", {&a});
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i) {
    a.send("gtry cb 200");
    b.send("gtry ca 200");
  }
  for (auto* x : {&a, &b})
    for (int i = 0; i < 2; ++i) {
      auto line = x->expect("gtry", 60s);
      BOOST_TEST(has(line, "gtry done"), x->name << ": " << line);
    }
  std::cout << "4 x 200 remote try_send + try_recv from goroutines: "
            << since(t0).count() << " ms" << std::endl;
}

/// rt.lookup from as many goroutines as node b has workers (two): each
/// waits on its worker for the agent's answer, which a helper actor on the
/// same workers must read.
///
/// Before the helper was detached both lookups failed after request-timeout
/// + 1 s ("lookup of "c" on node a@...: no answer within 6s"): with every
/// worker waiting, the helper actors never ran.
BOOST_AUTO_TEST_CASE(lookups_from_every_worker_at_once) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  ask_is(a, "make c 0 i", "make ok");
  auto t0 = std::chrono::steady_clock::now();
  b.send("glookup a c");
  b.send("glookup a c");
  for (int i = 0; i < 2; ++i) {
    auto line = b.expect("glookup", 20s);
    BOOST_TEST(line == "glookup ok", line);
  }
  std::cout << "2 lookups from goroutines (2 workers): " << since(t0).count()
            << " ms" << std::endl;
}

/// The blocking thread path: recv_blocking on a remote channel waits for the
/// owner's send (rendezvous) and sees a close.
BOOST_AUTO_TEST_CASE(recv_blocking_on_a_remote_channel) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 0, "i", {&b});
  b.send("recvb c");
  quiet(b);
  ask_is(a, "send c 9", "send ok 9");
  BOOST_TEST(b.expect("recvb", 5s) == "recvb ok 9");
  b.send("recvb c");
  quiet(b);
  ask_is(a, "close c", "close ok");
  BOOST_TEST(b.expect("recvb", 5s) == "recvb closed");
}

BOOST_AUTO_TEST_SUITE_END()

// -- node loss
// ------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(remote_chan_failure_suite)

/// Issue 11: when the owner dies, every blocked operation on its channels
/// fails with node_down, never as a close (a range loop must not end as if
/// the producer had finished). b drains (goroutine recv), c sends
/// (goroutine, parked), d receives on a plain thread (recv_blocking); the
/// owner a is killed with SIGKILL. Each fails with node_down naming 'a'
/// within the detection bound; later operations on the handles fail too.
BOOST_AUTO_TEST_CASE(owner_killed_fails_blocked_operations_with_node_down) {
  tnode a{"a"};
  tnode b{"b"};
  tnode c{"c"};
  tnode d{"d"};
  link(b, a);
  link(c, a);
  link(d, a);
  share(a, "r", 4, "i", {&b, &d});
  share(a, "u", 0, "i", {&c});
  ask_is(a, "sendn r 0 2", "sendn done", 10s);
  b.send("drain r");
  c.send("send u 1");
  quiet(b);
  quiet(c, 50ms);
  // d: the two buffered values went to b; d parks on the empty channel.
  d.send("recvb r");
  quiet(d);
  auto t0 = std::chrono::steady_clock::now();
  a.signal(SIGKILL);
  auto lb = b.expect("drain", 5s);
  auto tb = since(t0);
  auto lc = c.expect("send", 5s);
  auto tc = since(t0);
  auto ld = d.expect("recvb", 5s);
  auto td = since(t0);
  std::cout << "owner SIGKILLed: blocked drain failed after " << tb.count()
            << " ms, blocked send after " << tc.count()
            << " ms, blocked recv_blocking after " << td.count() << " ms\n  "
            << lb << "\n  " << lc << "\n  " << ld << std::endl;
  for (auto* line : {&lb, &lc, &ld}) {
    BOOST_TEST(!has(*line, "closed"), *line);
    BOOST_TEST(has(*line, " err node down |"), *line);
    BOOST_TEST(has(*line, "'a'"), *line);
  }
  BOOST_TEST(has(lb, "count=2"), lb); // the values before the loss arrived
  // Detection of a SIGKILLed peer is bounded by 100 ms (issue 11); the
  // failures then wake the parties and come back through each node's stdout
  // (measured: 21 ms for all three, load 10 on 2 cores, ASan): 50 ms slack.
  BOOST_TEST(tb.count() < 150);
  BOOST_TEST(tc.count() < 150);
  BOOST_TEST(td.count() < 150);
  // Later operations on the dead owner's handles fail at once, never block
  // and never look like a close.
  for (auto cmd : {"recv r", "send r 1", "trysend r 1", "tryrecv r", "close r",
                   "drain r"}) {
    std::string name = cmd;
    auto line = b.ask(name, name.substr(0, name.find(' ')), 5s);
    BOOST_TEST(has(line, " err node down |"), cmd << " -> " << line);
    BOOST_TEST(has(line, "'a'"), cmd << " -> " << line);
  }
  auto line = d.ask("recvb r", "recvb", 5s);
  BOOST_TEST(has(line, "recvb err node down |"), line);
  ask_is(b, "len r", "len 0 cap 4");
}

/// A frozen owner (SIGSTOP) is detected by heartbeats within timeout + 2 x
/// interval (3 s with the defaults, issue 11): b's blocked drain fails with
/// node_down then, not as a close.
BOOST_AUTO_TEST_CASE(owner_frozen_fails_a_blocked_drain_within_the_bound) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "r", 0, "i", {&b});
  b.send("drain r");
  quiet(b);
  BOOST_REQUIRE(a.proc.stop_and_wait());
  auto t0 = std::chrono::steady_clock::now();
  auto line = b.expect("drain", 10s);
  auto took = since(t0);
  std::cout << "owner SIGSTOPped: blocked drain failed after " << took.count()
            << " ms: " << line << std::endl;
  BOOST_TEST(has(line, "drain err node down |"), line);
  BOOST_TEST(has(line, "'a'"), line);
  BOOST_TEST(took.count() <= 3000 + 150);
  a.signal(SIGCONT);
}

/// Every cross-node request is bounded (issue 11): a try_send, try_recv or
/// close to a frozen owner fails after rotina.request-timeout (1 s here)
/// with node_down, and the handle stays failed (unknown whether the value
/// arrived: no replay).
BOOST_AUTO_TEST_CASE(requests_to_a_frozen_owner_fail_after_request_timeout) {
  tnode a{"a", {"--request-timeout=1s"}};
  tnode b{"b", {"--request-timeout=1s"}};
  link(b, a);
  share(a, "r", 1, "i", {&b});
  BOOST_REQUIRE(a.proc.stop_and_wait());
  auto t0 = std::chrono::steady_clock::now();
  auto line = b.ask("trysend r 1", "trysend", 5s);
  auto took = since(t0);
  std::cout << "trysend to a SIGSTOPped owner failed after " << took.count()
            << " ms (request-timeout 1s): " << line << std::endl;
  BOOST_TEST(has(line, "trysend err node down |"), line);
  BOOST_TEST(has(line, "request-timeout"), line);
  BOOST_TEST(has(line, "'a'"), line);
  BOOST_TEST(took >= 900ms);
  BOOST_TEST(took < 1800ms);
  t0 = std::chrono::steady_clock::now();
  line = b.ask("recv r", "recv", 5s);
  BOOST_TEST(has(line, "recv err node down |"), line);
  BOOST_TEST(since(t0) < 500ms);
  a.signal(SIGCONT);
}

/// Issue 11, reconnect: the owner comes back (same name, new process);
/// operations on the old handle stay failed, a new lookup works.
BOOST_AUTO_TEST_CASE(a_restarted_owner_old_handles_stay_failed) {
  auto a = std::make_unique<tnode>("a");
  tnode b{"b"};
  link(b, *a);
  share(*a, "c", 0, "i", {&b});
  ask_is(b, "watch a", "watch ok");
  a->signal(SIGKILL);
  BOOST_REQUIRE(has(b.expect("down a", 5s), "is down"));
  a = std::make_unique<tnode>("a");
  link(b, *a);
  // The new process publishes a new channel (the old name died with it).
  share(*a, "c2", 0, "i", {&b});
  auto line = b.ask("send c 1", "send", 5s);
  BOOST_TEST(has(line, "send err node down |"), line);
  line = b.ask("trysend c 1", "trysend", 5s);
  BOOST_TEST(has(line, "trysend err node down |"), line);
  b.send("send c2 5");
  ask_is(*a, "recv c2", "recv ok 5");
  BOOST_TEST(b.expect("send", 5s) == "send ok 5");
  // A lookup of the old name on the new process finds nothing.
  line = b.ask("lookup a c i", "lookup", 5s);
  BOOST_TEST(has(line, "lookup err not found |"), line);
}

/// A credited buffered send that completed on the sender holds its slot
/// (issue 11: "every send still completes only when its value holds a
/// slot"): b's 100 sends complete, then b is killed 200 ms later; the owner
/// still has all 100 values (credited values ship promptly, none waits in
/// the sender). Documented deviation (docs/distribution.md): values still in
/// flight when the link breaks are lost; with ROTINA_KILL_DELAY_MS=0 (kill
/// right after "sendn done") 2 of 3 runs kept only 1 value (len 1) under
/// heavy load (a parallel build), 3 of 3 kept all 100 at load 5.
BOOST_AUTO_TEST_CASE(completed_sends_of_a_killed_sender_are_kept) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "c", 1024, "i", {&b});
  ask_is(a, "watch b", "watch ok");
  ask_is(b, "sendn c 0 100", "sendn done", 20s);
  auto delay = std::chrono::milliseconds{200};
  if (auto env = std::getenv("ROTINA_KILL_DELAY_MS"))
    delay = std::chrono::milliseconds{std::stoll(env)};
  std::this_thread::sleep_for(delay);
  b.signal(SIGKILL);
  BOOST_REQUIRE(has(a.expect("down b", 5s), "is down"));
  std::this_thread::sleep_for(200ms);
  ask_is(a, "len c", "len 100 cap 1024");
  for (int i = 0; i < 100; ++i)
    ask_is(a, "tryrecv c", "tryrecv received " + std::to_string(i));
}

/// Issue 11: "When a node that was only a sender dies, the channel is not
/// closed and other parties go on." Sender b fills the buffer (cap 2) and
/// parks a third send; b is killed. The owner withdraws b's parked send (a
/// dead sender's value is not delivered later); sender c and the owner go on.
BOOST_AUTO_TEST_CASE(a_dead_sender_node_leaves_the_channel_open) {
  tnode a{"a"};
  tnode b{"b"};
  tnode c{"c"};
  link(b, a);
  link(c, a);
  share(a, "ch", 2, "i", {&b, &c});
  b.send("sendn ch 100 3");
  quiet(b); // two buffered, the third parked at the owner
  ask_is(a, "len ch", "len 2 cap 2");
  ask_is(a, "watch b", "watch ok");
  b.signal(SIGKILL);
  BOOST_REQUIRE(has(a.expect("down b", 5s), "is down"));
  std::this_thread::sleep_for(200ms); // the channel actor's own notice
  c.send("send ch 7");
  quiet(c); // the buffer is still full
  ask_is(a, "recv ch", "recv ok 100");
  BOOST_TEST(c.expect("send", 5s) == "send ok 7");
  ask_is(a, "recv ch", "recv ok 101");
  ask_is(a, "recv ch", "recv ok 7");
  ask_is(a, "tryrecv ch", "tryrecv empty");
  ask_is(c, "trysend ch 8", "trysend true");
  ask_is(c, "tryrecv ch", "tryrecv received 8");
}

/// The owner shuts down normally (quit) under a blocked remote drain: the
/// channel was never closed, so the drain fails with node_down, not as a
/// close (the owner's channel actor exits with the runtime). The owner's
/// shutdown is bounded: with detached channel actors (2f097a9) it hung for
/// ever in ~actor_system (await_detached_threads) while the node directory
/// still held the published handle.
BOOST_AUTO_TEST_CASE(owner_shutdown_is_node_down_not_close) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "r", 0, "i", {&b});
  b.send("drain r");
  quiet(b);
  a.send("quit");
  auto t0 = std::chrono::steady_clock::now();
  auto status = a.proc.wait_exit(20s);
  std::cout << "owner with a remote receiver parked quit after "
            << since(t0).count() << " ms" << std::endl;
  BOOST_TEST(status.value_or(-1) == 0, "stderr: " << a.proc.stderr_text());
  BOOST_TEST(since(t0) < 5000ms);
  auto line = b.expect("drain", 10s);
  BOOST_TEST(has(line, "drain err node down |"), line);
  BOOST_TEST(has(line, "'a'"), line);
}

/// A node that published a channel (its actor is detached) quits at once
/// when no goroutine runs, also after a peer looked the channel up.
BOOST_AUTO_TEST_CASE(a_node_that_published_a_channel_quits) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "r", 0, "i", {&b});
  ask_is(a, "make s 2 s", "make ok");
  auto t0 = std::chrono::steady_clock::now();
  a.send("quit");
  auto status = a.proc.wait_exit(20s);
  std::cout << "a node with two published channels quit after "
            << since(t0).count() << " ms" << std::endl;
  BOOST_TEST(status.value_or(-1) == 0, "stderr: " << a.proc.stderr_text());
  BOOST_TEST(since(t0) < 5000ms);
}

/// A node whose goroutine is parked on another node's channel still shuts
/// down when told to (bounded), and the owner then withdraws its request:
/// the next value goes to the owner's own receiver.
BOOST_AUTO_TEST_CASE(a_node_parked_on_a_remote_channel_quits) {
  // Shutdown policy wait does not count a goroutine parked on another node's
  // channel as asleep (it can be woken from there): it waits up to
  // shutdown-timeout (10 s by default, 2 s here), then cancels.
  tnode a{"a"};
  tnode b{"b", {"--shutdown-timeout=2s"}};
  link(b, a);
  share(a, "ch", 0, "i", {&b});
  ask_is(a, "watch b", "watch ok");
  b.send("recv ch");
  quiet(b);
  auto t0 = std::chrono::steady_clock::now();
  b.send("quit");
  auto status = b.proc.wait_exit(10s);
  std::cout << "a node parked on a remote recv quit after " << since(t0).count()
            << " ms" << std::endl;
  BOOST_TEST(status.value_or(-1) == 0);
  BOOST_TEST(since(t0) < 4000ms);
  BOOST_REQUIRE(has(a.expect("down b", 10s), "is down"));
  std::this_thread::sleep_for(200ms); // the channel actor's own notice
  a.send("send ch 5");
  quiet(a);
  ask_is(a, "recv ch", "recv ok 5");
  BOOST_TEST(a.expect("send", 5s) == "send ok 5");
}

/// A remote receiver node killed while parked takes no value: the owner's
/// next send stays blocked (no one to take it) and the owner's own next
/// receiver gets it.
BOOST_AUTO_TEST_CASE(a_dead_parked_receiver_takes_no_value) {
  tnode a{"a"};
  tnode b{"b"};
  link(b, a);
  share(a, "ch", 0, "i", {&b});
  b.send("recv ch");
  quiet(b); // parked at the owner
  ask_is(a, "watch b", "watch ok");
  b.signal(SIGKILL);
  BOOST_REQUIRE(has(a.expect("down b", 5s), "is down"));
  std::this_thread::sleep_for(200ms); // the channel actor's own notice
  a.send("send ch 5");
  quiet(a);
  ask_is(a, "recv ch", "recv ok 5");
  BOOST_TEST(a.expect("send", 5s) == "send ok 5");
}

BOOST_AUTO_TEST_SUITE_END()
