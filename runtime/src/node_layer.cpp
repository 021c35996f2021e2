// The node layer: one agent actor per runtime, the handshake, the peer table
// and node-down detection.
//
// How a connection is made (the connecting side runs a short-lived
// "connector" actor on its own thread, so its blocking gate connect never
// occupies a scheduler worker; nothing waits without a bound):
// 1. connector: gate.connect(host, port) within what is left of
//    rotina.connect-timeout (docs/design.md, "The transport gate"). The
//    listening node accepts only through its gate (no CAF doorman is ever
//    opened): TLS when configured (certificate names checked against the
//    claimed node name), then the hello frames, which both sides check
//    (protocol version, names, failure-detection settings, type
//    fingerprint: node_state::check_peer). A refusal names both sides'
//    values and is logged by the refusing side. Only then does either side
//    hand the socket to CAF's BASP broker, whose handshake yields the actor
//    the peer publishes: its agent.
// 2. connector -> peer agent: (hello_atom, hello), timeout =
//    rotina.request-timeout. The peer checks protocol version, names,
//    failure-detection settings and type fingerprint, and either refuses
//    with an error naming both sides' values (and logs one line on stderr) or
//    enters us in its table, monitors our agent and answers with its hello.
// 3. connector checks the answer the same way (a refusal here is sent back as
//    (bye_atom, reason, incarnation) so that the peer drops us too), then asks
//    the local agent to enter the peer (register_atom); the agent monitors the
//    peer's agent.
// The agent answers hellos only after start() has published it and knows its
// port (ready_atom); hellos that arrive earlier wait in agent_state::early.
// A node is "connected" from step 2 (acceptor) or 3 (connector) until the
// down message of its agent (CAF 0.17 has no node-down message; every
// connection loss kills the peer's proxies with remote_link_unreachable).
//
// Invariants:
// - The table (node_state::peers) holds at most one entry per name; every
//   entry's agent is monitored by our agent; the entry leaves the table
//   exactly once (down, bye, or stop), and its watches are called exactly
//   once then, or never if the runtime stops first.
// - A watch is either in exactly one entry's list, or was called (or is being
//   called) exactly once, or was cancelled; never two of these.
// - Every request to another node has a finite timeout.

#include "rotina/detail/node_layer.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "rotina/detail/net_gate.hpp"
#include "rotina/detail/node_transport.hpp"
#include "rotina/type_registry.hpp"
#include "rotina/version.hpp"

namespace rotina {

// -- node ---------------------------------------------------------------------

std::string node::to_string() const {
  return name + "@" + host + ":" + std::to_string(port);
}

bool operator<(const node& x, const node& y) noexcept {
  return std::tie(x.name, x.host, x.port, x.incarnation)
         < std::tie(y.name, y.host, y.port, y.incarnation);
}

const char* to_string(connect_errc code) noexcept {
  switch (code) {
  case connect_errc::none:
    return "no error";
  case connect_errc::refused:
    return "connection refused";
  case connect_errc::timed_out:
    return "connect timed out";
  case connect_errc::handshake_failed:
    return "handshake failed";
  case connect_errc::name_taken:
    return "node name taken";
  case connect_errc::version_mismatch:
    return "protocol version mismatch";
  case connect_errc::settings_mismatch:
    return "settings mismatch";
  case connect_errc::fingerprint_mismatch:
    return "type fingerprint mismatch";
  case connect_errc::not_configured:
    return "node not configured";
  }
  return "unknown";
}

std::string connect_error::to_string() const {
  std::string result = rotina::to_string(code);
  if (!message.empty()) {
    result += ": ";
    result += message;
  }
  return result;
}

} // namespace rotina

size_t
std::hash<rotina::node>::operator()(const rotina::node& x) const noexcept {
  auto h = std::hash<std::string>{}(x.name);
  h ^= std::hash<uint64_t>{}(x.incarnation) + 0x9e3779b97f4a7c15ULL + (h << 6)
       + (h >> 2);
  h ^= std::hash<std::string>{}(x.host) + (h << 6) + (h >> 2);
  return h ^ (static_cast<size_t>(x.port) << 16);
}

namespace rotina::detail {

namespace {

using namespace std::chrono_literals;

using hello_atom = caf::atom_constant<caf::atom("rt_hello")>;
using bye_atom = caf::atom_constant<caf::atom("rt_bye")>;
using register_atom = caf::atom_constant<caf::atom("rt_reg")>;
using retry_atom = caf::atom_constant<caf::atom("rt_retry")>;
using ready_atom = caf::atom_constant<caf::atom("rt_ready")>;
using lookup_atom = caf::atom_constant<caf::atom("rt_lookup")>;

/// Category of the errors a refusing agent sends back.
constexpr auto node_category = caf::atom("rtnode");

/// Pause between two connection attempts.
constexpr auto retry_delay = 100ms;

caf::error make_node_error(connect_errc code, const std::string& msg) {
  return caf::error{static_cast<uint8_t>(code), node_category,
                    caf::make_message(msg)};
}

std::string ms_text(caf::timespan x) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  if (x.count() % 1'000'000 != 0 && x > caf::timespan{1ms})
    return std::to_string(duration_cast<milliseconds>(x).count()) + "ms";
  return caf::deep_to_string(x);
}

// -- hello
// ----------------------------------------------------------------------

/// What two agents exchange in the handshake. On the wire it is a caf::message
/// whose first element is always the protocol version, so that a peer with
/// another layout is still told "version mismatch" with both numbers.
struct hello {
  uint32_t protocol = 0;
  std::string version;
  std::string name;
  std::string host;
  uint16_t port = 0;
  uint64_t incarnation = 0;
  caf::timespan heartbeat_interval{0};
  caf::timespan heartbeat_timeout{0};
  std::string fingerprint;
  /// The registered type names, sorted, '\n'-separated.
  std::string types;
  caf::actor agent;

  rotina::node to_node() const {
    return rotina::node{name, host, port, incarnation};
  }

  std::string where() const {
    return "'" + name + "' (" + host + ":" + std::to_string(port) + ")";
  }
};

caf::message to_message(const hello& x) {
  return caf::make_message(
    x.protocol, x.version, x.name, x.host, x.port, x.incarnation,
    x.heartbeat_interval, x.heartbeat_timeout, x.fingerprint, x.types, x.agent);
}

/// Parses `msg` or returns the error to report about `peer_desc`.
std::variant<hello, connect_error> parse_hello(const caf::message& msg,
                                               const hello& self,
                                               const std::string& peer_desc) {
  if (msg.size() < 1 || !msg.match_element<uint32_t>(0))
    return connect_error{connect_errc::handshake_failed,
                         peer_desc + " sent a handshake rotina cannot read: "
                           + caf::to_string(msg)};
  auto proto = msg.get_as<uint32_t>(0);
  if (proto != self.protocol
      || !msg.match_elements<uint32_t, std::string, std::string, std::string,
                             uint16_t, uint64_t, caf::timespan, caf::timespan,
                             std::string, std::string, caf::actor>()) {
    std::string theirs = std::to_string(proto);
    if (msg.size() > 1 && msg.match_element<std::string>(1))
      theirs += " (rotina " + msg.get_as<std::string>(1) + ")";
    return connect_error{connect_errc::version_mismatch,
                         "rotina protocol versions differ: " + self.where()
                           + " speaks " + std::to_string(self.protocol)
                           + " (rotina " + self.version + "), " + peer_desc
                           + " speaks " + theirs};
  }
  hello x;
  x.protocol = proto;
  x.version = msg.get_as<std::string>(1);
  x.name = msg.get_as<std::string>(2);
  x.host = msg.get_as<std::string>(3);
  x.port = msg.get_as<uint16_t>(4);
  x.incarnation = msg.get_as<uint64_t>(5);
  x.heartbeat_interval = msg.get_as<caf::timespan>(6);
  x.heartbeat_timeout = msg.get_as<caf::timespan>(7);
  x.fingerprint = msg.get_as<std::string>(8);
  x.types = msg.get_as<std::string>(9);
  x.agent = msg.get_as<caf::actor>(10);
  if (x.agent == nullptr)
    return connect_error{connect_errc::handshake_failed,
                         peer_desc + " sent a handshake without its agent"};
  return x;
}

std::set<std::string> split_lines(const std::string& str) {
  std::set<std::string> result;
  std::istringstream in{str};
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      result.insert(line);
  return result;
}

std::string join(const std::vector<std::string>& xs) {
  std::string result = "[";
  for (auto& x : xs) {
    if (result.size() > 1)
      result += ", ";
    result += x;
  }
  return result + "]";
}

/// Checks what does not depend on the peer table: settings and fingerprint.
std::optional<connect_error> check_compatible(const hello& self,
                                              const hello& peer) {
  if (self.heartbeat_interval != peer.heartbeat_interval
      || self.heartbeat_timeout != peer.heartbeat_timeout)
    return connect_error{
      connect_errc::settings_mismatch,
      "failure-detection settings differ (CAF would drop the idle "
      "connection): "
        + self.where() + " has heartbeat-interval "
        + ms_text(self.heartbeat_interval) + " and heartbeat-timeout "
        + ms_text(self.heartbeat_timeout) + ", " + peer.where()
        + " has heartbeat-interval " + ms_text(peer.heartbeat_interval)
        + " and heartbeat-timeout " + ms_text(peer.heartbeat_timeout)};
  if (self.fingerprint != peer.fingerprint) {
    auto mine = split_lines(self.types);
    auto theirs = split_lines(peer.types);
    std::vector<std::string> only_mine;
    std::vector<std::string> only_theirs;
    std::set_difference(mine.begin(), mine.end(), theirs.begin(), theirs.end(),
                        std::back_inserter(only_mine));
    std::set_difference(theirs.begin(), theirs.end(), mine.begin(), mine.end(),
                        std::back_inserter(only_theirs));
    return connect_error{
      connect_errc::fingerprint_mismatch,
      "registered message types differ: " + self.where() + " has fingerprint "
        + self.fingerprint.substr(0, 16) + " (" + std::to_string(mine.size())
        + " types), " + peer.where() + " has fingerprint "
        + peer.fingerprint.substr(0, 16) + " (" + std::to_string(theirs.size())
        + " types); only on '" + self.name + "': " + join(only_mine)
        + ", only on '" + peer.name + "': " + join(only_theirs)};
  }
  return std::nullopt;
}

/// Our hello as the gate sends it.
net::hello to_gate(const hello& x, const std::string& caf_node) {
  net::hello y;
  y.version = net::protocol_version;
  y.name = x.name;
  y.incarnation = x.incarnation;
  y.caf_node = caf_node;
  y.host = x.host;
  y.port = x.port;
  y.heartbeat_interval_ns = x.heartbeat_interval.count();
  y.heartbeat_timeout_ns = x.heartbeat_timeout.count();
  y.fingerprint = x.fingerprint;
  y.release = x.version;
  y.types = x.types;
  return y;
}

/// A peer's gate hello as the agents' hello (without the agent).
hello from_gate(const net::hello& x) {
  hello y;
  y.protocol = x.version;
  y.version = x.release;
  y.name = x.name;
  y.host = x.host;
  y.port = x.port;
  y.incarnation = x.incarnation;
  y.heartbeat_interval = caf::timespan{x.heartbeat_interval_ns};
  y.heartbeat_timeout = caf::timespan{x.heartbeat_timeout_ns};
  y.fingerprint = x.fingerprint;
  y.types = x.types;
  return y;
}

std::optional<std::pair<std::string, uint16_t>>
split_host_port(const std::string& x) {
  auto colon = x.rfind(':');
  if (colon == std::string::npos)
    return std::nullopt;
  auto host = x.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto port = std::stoul(x.substr(colon + 1));
  if (host.empty() || port == 0 || port > 65535)
    return std::nullopt;
  return std::make_pair(host, static_cast<uint16_t>(port));
}

} // namespace

// -- shared state
// ---------------------------------------------------------------

struct peer_entry {
  rotina::node id;
  caf::actor agent;
  std::vector<std::pair<node_watch, node_layer::down_handler>> watches;
};

/// What the runtime's threads and the actors share. Guarded by mtx.
struct node_state {
  node_settings settings;
  hello self;
  caf::io::middleman_actor mm;
  /// The transport gate: the only listener, and how connectors connect.
  std::shared_ptr<net::gate> gate;
  /// CAF's id of this node, as text (sent in the gate hello).
  std::string caf_node;

  mutable std::mutex mtx;
  std::map<std::string, peer_entry> peers;
  caf::actor agent;
  std::vector<caf::actor_addr> connectors;
  std::vector<std::shared_future<connect_result>> peer_results;
  /// The service directory: what runtime::publish named (docs/distribution.md).
  std::map<std::string, remote_handle> services;
  bool stopped = false;
  std::atomic<node_watch> next_watch{1};
  /// self.to_node(), fixed when start() returns.
  rotina::node self_node;

  /// Our hello as a message (self.agent is reset by stop(): read it locked).
  caf::message self_message() const {
    std::lock_guard<std::mutex> guard{mtx};
    return to_message(self);
  }

  std::string self_desc() const {
    return "node '" + self.name + "'";
  }

  void log(const std::string& line) const {
    std::cerr << "rotina: " + self_desc() + ": " + line + "\n" << std::flush;
  }

  /// Our hello as the gate sends it (the gate fills in the port it bound).
  net::hello gate_self() const {
    std::lock_guard<std::mutex> guard{mtx};
    return to_gate(self, caf_node);
  }

  /// Checks a peer's gate hello (both sides, before BASP sees the
  /// connection). Returns "" to accept, else the refusal (refusal_text).
  std::string check_peer(const net::hello& x) {
    auto peer = from_gate(x);
    hello me;
    {
      std::lock_guard<std::mutex> guard{mtx};
      me = self;
    }
    if (x.version != net::protocol_version)
      return refusal_text(connect_error{
        connect_errc::version_mismatch,
        "rotina protocol versions differ: " + me.where() + " speaks "
          + std::to_string(net::protocol_version) + " (rotina " + me.version
          + "), the peer " + (x.name.empty() ? "" : "'" + x.name + "' ")
          + "speaks " + std::to_string(x.version)});
    if (auto err = check_compatible(me, peer))
      return refusal_text(*err);
    std::lock_guard<std::mutex> guard{mtx};
    bool existing = false;
    if (auto err = check_name(peer, existing))
      return refusal_text(*err);
    return {};
  }

  /// Writes one line of the gate ("rotina: ...") with this node's name.
  void gate_log(const std::string& line) const {
    auto text = line.rfind("rotina: ", 0) == 0 ? line.substr(8) : line;
    log(text);
  }

  /// Returns why `peer` cannot enter the table, if it cannot. Requires mtx.
  std::optional<connect_error> check_name(const hello& peer,
                                          bool& existing) const {
    existing = false;
    if (stopped)
      return connect_error{connect_errc::not_configured,
                           "the runtime of " + self.where() + " shut down"};
    if (peer.name == self.name)
      return connect_error{connect_errc::name_taken,
                           "node name '" + peer.name + "' is taken: this node "
                             + self.where() + " and the peer " + peer.where()
                             + " have the same name"};
    if (auto i = peers.find(peer.name); i != peers.end()) {
      if (i->second.id.incarnation == peer.incarnation) {
        existing = true;
        return std::nullopt;
      }
      auto& old = i->second.id;
      return connect_error{connect_errc::name_taken,
                           "node name '" + peer.name + "' is taken: node '"
                             + old.name + "' (" + old.host + ":"
                             + std::to_string(old.port) + ") is connected to "
                             + self.where() + ", so the new peer "
                             + peer.where() + " was refused"};
    }
    return std::nullopt;
  }

  /// Enters `peer` or returns why not. `existing` tells whether the same
  /// incarnation was already there (then nothing changed).
  std::optional<connect_error> enter(const hello& peer, bool& existing) {
    std::lock_guard<std::mutex> guard{mtx};
    if (auto err = check_name(peer, existing); err || existing)
      return err;
    peers.emplace(peer.name, peer_entry{peer.to_node(), peer.agent, {}});
    return std::nullopt;
  }

  /// Removes the entry whose agent is `addr` (or whose incarnation is
  /// `incarnation` when addr is null) and calls its watches with `why`.
  void remove(const caf::actor_addr& addr, uint64_t incarnation,
              const std::string& why) {
    std::optional<peer_entry> gone;
    {
      std::lock_guard<std::mutex> guard{mtx};
      for (auto i = peers.begin(); i != peers.end(); ++i) {
        if ((addr != nullptr && i->second.agent.address() == addr)
            || (addr == nullptr && i->second.id.incarnation == incarnation)) {
          gone = std::move(i->second);
          peers.erase(i);
          break;
        }
      }
      if (stopped)
        return;
    }
    if (!gone)
      return;
    auto err = error{errc::node_down,
                     "node '" + gone->id.name + "' (" + gone->id.host + ":"
                       + std::to_string(gone->id.port) + ") is down: " + why};
    for (auto& [token, fn] : gone->watches) {
      try {
        fn(gone->id, err);
      } catch (const std::exception& ex) {
        log("a node-down handler threw: " + std::string{ex.what()});
      } catch (...) {
        log("a node-down handler threw a non-standard exception");
      }
    }
  }
};

namespace {

// -- agent
// ----------------------------------------------------------------------

struct agent_state {
  std::shared_ptr<node_state> st;
  /// False until start() has published the agent and knows its port.
  bool ready = false;
  /// Hellos that arrived before ready (answered when ready arrives).
  std::vector<
    std::tuple<caf::response_promise, caf::message, caf::strong_actor_ptr>>
    early;
  static inline const char* name = "rotina.node_agent";
};

using agent_actor = caf::stateful_actor<agent_state>;

/// Handles a peer's hello (handshake step 2): the answer, or the refusal.
std::variant<caf::message, caf::error>
handle_hello(agent_actor* self, const caf::message& msg,
             const caf::strong_actor_ptr& sender) {
  auto& st = *self->state.st;
  std::string from
    = "a peer on CAF node "
      + (sender ? caf::to_string(sender->node()) : std::string{"?"});
  auto parsed = parse_hello(msg, st.self, from);
  auto refuse = [&](const connect_error& err) {
    st.log("refused " + from + ": " + err.to_string());
    return make_node_error(err.code, err.message);
  };
  if (auto err = std::get_if<connect_error>(&parsed))
    return refuse(*err);
  auto& peer = std::get<hello>(parsed);
  from = "peer " + peer.where() + " from CAF node "
         + caf::to_string(peer.agent.node());
  if (auto err = check_compatible(st.self, peer))
    return refuse(*err);
  bool existing = false;
  if (auto err = st.enter(peer, existing))
    return refuse(*err);
  if (!existing)
    self->monitor(peer.agent);
  // A caf::message result would be flattened into the response: wrap it.
  return caf::make_message(hello_atom::value, st.self_message());
}

caf::behavior agent_impl(agent_actor* self, std::shared_ptr<node_state> st) {
  self->state.st = st;
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = *self->state.st;
    st.remove(dm.source, 0,
              dm.reason == caf::exit_reason::remote_link_unreachable
                ? "connection lost (" + caf::to_string(dm.reason) + ")"
                : "its agent exited (" + caf::to_string(dm.reason) + ")");
  });
  return {
    // A peer's connector introduces its node (handshake step 2).
    [self](hello_atom, const caf::message& msg) {
      auto rp = self->make_response_promise();
      if (!self->state.ready) {
        self->state.early.emplace_back(rp, msg, self->current_sender());
        return;
      }
      auto res = handle_hello(self, msg, self->current_sender());
      if (auto reply = std::get_if<caf::message>(&res))
        rp.deliver(*reply);
      else
        rp.deliver(std::get<caf::error>(res));
    },
    // start() published us and set our port: answer the early hellos.
    [self](ready_atom) {
      self->state.ready = true;
      auto early = std::move(self->state.early);
      self->state.early.clear();
      for (auto& [rp, msg, sender] : early) {
        auto res = handle_hello(self, msg, sender);
        if (auto reply = std::get_if<caf::message>(&res))
          rp.deliver(*reply);
        else
          rp.deliver(std::get<caf::error>(res));
      }
    },
    // Our connector enters a peer that accepted us (handshake step 3).
    [self](register_atom, const caf::message& msg) -> caf::result<bool> {
      auto& st = *self->state.st;
      if (auto sender = self->current_sender();
          sender == nullptr || sender->node() != self->node())
        return make_node_error(connect_errc::handshake_failed,
                               "register_atom is local only");
      auto parsed = parse_hello(msg, st.self, "peer");
      if (auto err = std::get_if<connect_error>(&parsed))
        return make_node_error(err->code, err->message);
      auto& peer = std::get<hello>(parsed);
      bool existing = false;
      if (auto err = st.enter(peer, existing))
        return make_node_error(err->code, err->message);
      if (!existing)
        self->monitor(peer.agent);
      return true;
    },
    // A peer looks up a published name (runtime::lookup).
    [self](lookup_atom, const std::string& name) -> caf::result<remote_handle> {
      auto& st = *self->state.st;
      auto sender = self->current_sender();
      std::lock_guard<std::mutex> guard{st.mtx};
      // Only handshaken peers (and this node) may read the directory.
      bool known = sender != nullptr && sender->node() == self->node();
      for (auto& [peer, entry] : st.peers)
        if (sender != nullptr && entry.agent.node() == sender->node())
          known = true;
      if (!known)
        return make_node_error(connect_errc::handshake_failed,
                               "lookup from a node that did not finish the "
                               "handshake");
      if (auto i = st.services.find(name); i != st.services.end())
        return i->second;
      std::string have;
      for (auto& [key, value] : st.services)
        have += (have.empty() ? "" : ", ") + ("\"" + key + "\"");
      return to_caf_error(error{errc::not_found,
                                st.self_desc() + " has published nothing as \""
                                  + name + "\" (published: ["
                                  + have + "])"});
    },
    // A peer that we accepted refused us after all.
    [self](bye_atom, const std::string& reason, uint64_t incarnation) {
      auto& st = *self->state.st;
      auto sender = self->current_sender();
      std::string who;
      {
        std::lock_guard<std::mutex> guard{st.mtx};
        for (auto& [name, entry] : st.peers)
          // Only the peer itself may take its entry back.
          if (entry.id.incarnation == incarnation && sender != nullptr
              && sender->node() == entry.agent.node()) {
            who = entry.id.to_string();
            self->demonitor(entry.agent);
          }
      }
      if (who.empty())
        return;
      st.log("peer " + who + " refused this node: " + reason);
      st.remove(nullptr, incarnation, "it refused this node: " + reason);
    },
  };
}

// -- connector
// ------------------------------------------------------------------

struct connector_state {
  std::shared_ptr<node_state> st;
  std::shared_ptr<net::gate> gate;
  std::string host;
  uint16_t port = 0;
  bool retry_refused = false;
  caf::timespan budget{0};
  std::chrono::steady_clock::time_point deadline;
  std::shared_ptr<std::promise<connect_result>> result;
  bool done = false;
  std::string last_error;
  connect_errc last_code = connect_errc::timed_out;
  size_t attempts = 0;

  static inline const char* name = "rotina.node_connector";

  std::string target() const {
    return host + ":" + std::to_string(port);
  }

  void finish(connect_result res) {
    if (done)
      return;
    done = true;
    // A start-up peer (rotina.peers) has no caller to tell: log the failure
    // (not the shutdown that cut it short).
    if (!res && retry_refused
        && res.error().code != connect_errc::not_configured)
      st->log("could not connect to peer " + target() + ": "
              + res.error().to_string());
    result->set_value(std::move(res));
  }

  ~connector_state() {
    if (!done && result)
      result->set_value(connect_error{connect_errc::not_configured,
                                      "the runtime shut down while connecting "
                                      "to "
                                        + target()});
  }
};

using connector_actor = caf::stateful_actor<connector_state>;

caf::timespan remaining(connector_actor* self) {
  auto left = self->state.deadline - std::chrono::steady_clock::now();
  return std::chrono::duration_cast<caf::timespan>(left);
}

void attempt(connector_actor* self);

void retry_or_fail(connector_actor* self, connect_errc code, std::string why) {
  auto& s = self->state;
  s.last_code = code;
  s.last_error = std::move(why);
  if (auto left = remaining(self); left > caf::timespan{0}) {
    // The last attempt gets whatever is left of the budget.
    self->delayed_send(self, std::min(caf::timespan{retry_delay}, left),
                       retry_atom::value);
    return;
  }
  if (code == connect_errc::timed_out || code == connect_errc::refused)
    s.finish(connect_error{
      code, "could not connect to " + s.target()
              + " within rotina.connect-timeout (" + ms_text(s.budget) + ", "
              + std::to_string(s.attempts)
              + " attempts); last error: " + s.last_error});
  else
    s.finish(connect_error{code, s.last_error});
  self->quit();
}

void fail(connector_actor* self, connect_error err) {
  self->state.finish(std::move(err));
  self->quit();
}

void shake_hands(connector_actor* self, caf::actor peer) {
  auto& s = self->state;
  auto left = remaining(self);
  auto timeout = std::min(s.st->settings.request_timeout,
                          std::max(left, caf::timespan{1ms}));
  self->request(peer, timeout, hello_atom::value, s.st->self_message())
    .then(
      [self, peer](hello_atom, caf::message& reply) {
        auto& s = self->state;
        auto& st = *s.st;
        auto parsed = parse_hello(reply, st.self, "the peer at " + s.target());
        auto bye = [&](const connect_error& err) {
          self->send(peer, bye_atom::value, err.to_string(),
                     st.self.incarnation);
          fail(self, err);
        };
        if (auto err = std::get_if<connect_error>(&parsed))
          return bye(*err);
        auto& other = std::get<hello>(parsed);
        if (auto err = check_compatible(st.self, other))
          return bye(*err);
        self
          ->request(st.agent, st.settings.request_timeout, register_atom::value,
                    reply)
          .then(
            [self, other](bool) {
              self->state.finish(other.to_node());
              self->quit();
            },
            [self, peer](caf::error& err) {
              auto& st = *self->state.st;
              connect_error res{connect_errc::handshake_failed,
                                caf::to_string(err)};
              if (err.category() == node_category
                  && err.context().match_elements<std::string>())
                res = connect_error{static_cast<connect_errc>(err.code()),
                                    err.context().get_as<std::string>(0)};
              self->send(peer, bye_atom::value, res.to_string(),
                         st.self.incarnation);
              fail(self, res);
            });
      },
      [self, timeout](caf::error& err) {
        auto& s = self->state;
        if (err.category() == node_category
            && err.context().match_elements<std::string>())
          return fail(self,
                      connect_error{static_cast<connect_errc>(err.code()),
                                    err.context().get_as<std::string>(0)});
        if (err == caf::sec::request_timeout)
          return fail(self, connect_error{connect_errc::timed_out,
                                          "the rotina agent at " + s.target()
                                            + " did not answer the handshake "
                                              "within "
                                            + ms_text(timeout)
                                            + " (frozen or overloaded)"});
        if (err == caf::sec::unexpected_message)
          return fail(self, connect_error{connect_errc::handshake_failed,
                                          "the actor published at " + s.target()
                                            + " is not a rotina node agent"});
        fail(self, connect_error{connect_errc::handshake_failed,
                                 "handshake with " + s.target()
                                   + " failed: " + caf::to_string(err)});
      });
}

void attempt(connector_actor* self) {
  auto& s = self->state;
  auto left = remaining(self);
  if (left <= caf::timespan{0})
    return retry_or_fail(self, s.last_code,
                         s.last_error.empty() ? "no attempt finished"
                                              : s.last_error);
  ++s.attempts;
  // Blocks this (detached) actor's own thread for at most `left`.
  auto st = s.st;
  auto res = s.gate->connect(
    s.host, s.port, st->gate_self(),
    [st](const net::hello& peer, const std::string&) {
      return st->check_peer(peer);
    },
    std::max(std::chrono::duration_cast<std::chrono::milliseconds>(left),
             std::chrono::milliseconds{1}),
    [st](const std::string& line) { st->gate_log(line); });
  if (auto ok = std::get_if<net::connected>(&res)) {
    if (ok->agent == nullptr)
      return fail(self, connect_error{connect_errc::handshake_failed,
                                      "no rotina node agent is published at "
                                        + s.target()});
    return shake_hands(self, caf::actor_cast<caf::actor>(ok->agent));
  }
  if (std::lock_guard<std::mutex> guard{st->mtx}; st->stopped)
    return fail(self, connect_error{connect_errc::not_configured,
                                    "the runtime shut down while connecting "
                                    "to "
                                      + s.target()});
  auto& gerr = std::get<net::connect_error>(res);
  auto err = to_connect_error(gerr);
  if (err.code == connect_errc::refused) {
    if (!s.retry_refused)
      return fail(self,
                  connect_error{connect_errc::refused,
                                "nothing accepts connections at " + s.target()
                                  + " (" + err.message + ")"});
    return retry_or_fail(self, connect_errc::refused,
                         "refused (" + err.message + ")");
  }
  if (err.code == connect_errc::timed_out)
    return retry_or_fail(self, connect_errc::timed_out, err.message);
  fail(self, std::move(err));
}

caf::behavior
connector_impl(connector_actor* self, std::shared_ptr<node_state> st,
               std::shared_ptr<net::gate> gate, std::string host, uint16_t port,
               bool retry_refused,
               std::shared_ptr<std::promise<connect_result>> res) {
  auto& s = self->state;
  s.st = std::move(st);
  s.gate = std::move(gate);
  s.host = std::move(host);
  s.port = port;
  s.retry_refused = retry_refused;
  s.budget = s.st->settings.connect_timeout;
  s.deadline = std::chrono::steady_clock::now() + s.budget;
  s.result = std::move(res);
  attempt(self);
  return {
    [self](retry_atom) { attempt(self); },
  };
}

} // namespace

// -- settings
// -------------------------------------------------------------------

node_settings read_node_settings(const config& cfg, std::string name,
                                 bool named) {
  node_settings x;
  x.name = std::move(name);
  x.named = named;
  x.listen_host = cfg.listen_host;
  x.listen_port = cfg.listen_port;
  x.listen = cfg.listen_port != 0 || cfg.listen;
  x.peers = cfg.peers;
  x.connect_timeout = cfg.connect_timeout;
  auto& t = x.transport;
  t.tls_certificate = cfg.tls_certificate;
  t.tls_key = cfg.tls_key;
  t.tls_ca_file = cfg.tls_ca_file;
  t.tls_name_check = cfg.tls_name_check;
  t.insecure = cfg.insecure;
  t.handshake_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    cfg.handshake_timeout);
  t.max_message_size = cfg.max_message_size;
  t.max_pending_handshakes = cfg.max_pending_handshakes;
  x.request_timeout = cfg.request_timeout;
  // The effective CAF settings (rotina's heartbeat keys become them when
  // the node is distributed, config::load).
  x.heartbeat_interval
    = caf::get_or(cfg, "middleman.heartbeat-interval", caf::timespan{0});
  x.heartbeat_timeout
    = caf::get_or(cfg, "middleman.connection-timeout", caf::timespan{0});
  return x;
}

// -- node_layer
// -----------------------------------------------------------------

node_layer::node_layer(caf::actor_system& sys, node_settings settings)
  : sys_(sys), state_(std::make_shared<node_state>()) {
  auto& st = *state_;
  st.settings = std::move(settings);
  std::random_device rd;
  uint64_t inc = 0;
  while (inc == 0)
    inc = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  auto& h = st.self;
  h.protocol = node_protocol_version;
  h.version = std::string{rotina::version()};
  h.name = st.settings.name;
  h.host = st.settings.listen_host;
  h.port = 0;
  h.incarnation = inc;
  h.heartbeat_interval = st.settings.heartbeat_interval;
  h.heartbeat_timeout = st.settings.heartbeat_timeout;
  h.fingerprint = registered_types_fingerprint();
  for (auto& t : registered_types())
    h.types += t + "\n";
  st.self_node = h.to_node();
}

node_layer::~node_layer() {
  stop();
}

void node_layer::start() {
  auto& st = *state_;
  auto& cfg = st.settings;
  if (!cfg.named) {
    if (cfg.listen || !cfg.peers.empty())
      throw node_error{connect_error{
        connect_errc::not_configured,
        std::string{"rotina.node-name must be set on a node that "}
          + (cfg.listen ? "listens (rotina.listen / rotina.listen-port)"
                        : "connects to rotina.peers")}};
    return;
  }
  // The security settings first: an unsafe or broken configuration must not
  // open anything.
  auto plan
    = check_transport(cfg.transport, cfg.name, cfg.listen, cfg.listen_host);
  if (auto why = std::get_if<std::string>(&plan)) {
    stop();
    throw node_error{connect_error{connect_errc::not_configured, *why}};
  }
  auto& tp = std::get<transport_plan>(plan);
  if (!tp.warning.empty())
    st.log(tp.warning);
  st.caf_node = caf::to_string(sys_.node());
  // The middleman actor stays available to the layer (never used to publish
  // or connect: no CAF doorman is opened).
  st.mm = sys_.middleman().actor_handle();
  auto gate = std::make_shared<net::gate>(sys_, tp.gate);
  auto agent = sys_.spawn(agent_impl, state_);
  {
    std::lock_guard<std::mutex> guard{st.mtx};
    st.agent = agent;
    st.self.agent = agent;
    st.gate = gate;
  }
  if (cfg.listen) {
    // Only the gate listens (no CAF doorman): a connection reaches BASP, and
    // through it the agent, only after the handshake (node_transport.hpp).
    auto state = state_;
    net::gate::listener how;
    how.self = st.gate_self();
    how.agent = caf::actor_cast<caf::strong_actor_ptr>(agent);
    how.check = [state](const net::hello& peer, const std::string&) {
      return state->check_peer(peer);
    };
    how.log = [state](const std::string& line) { state->gate_log(line); };
    auto res = gate->listen(cfg.listen_host, cfg.listen_port, std::move(how));
    if (auto err = std::get_if<std::string>(&res)) {
      stop();
      throw node_error{connect_error{connect_errc::not_configured,
                                     "node '" + cfg.name + "' " + *err}};
    }
    std::lock_guard<std::mutex> guard{st.mtx};
    st.self.port = std::get<uint16_t>(res);
  }
  st.self_node = st.self.to_node();
  caf::anon_send(agent, ready_atom::value);
  for (auto& peer : cfg.peers) {
    auto hp = split_host_port(peer);
    if (!hp) {
      stop();
      throw node_error{connect_error{connect_errc::not_configured,
                                     "bad peer \"" + peer + "\""}};
    }
    auto res = std::make_shared<std::promise<connect_result>>();
    std::shared_future<connect_result> fut = res->get_future().share();
    std::lock_guard<std::mutex> guard{st.mtx};
    auto worker = sys_.spawn<caf::detached>(connector_impl, state_, st.gate,
                                            hp->first, hp->second, true, res);
    st.connectors.push_back(worker.address());
    st.peer_results.push_back(fut);
  }
}

void node_layer::stop() {
  auto& st = *state_;
  caf::actor agent;
  std::vector<caf::actor_addr> connectors;
  std::shared_ptr<net::gate> gate;
  std::map<std::string, remote_handle> services;
  {
    std::lock_guard<std::mutex> guard{st.mtx};
    if (st.stopped)
      return;
    gate.swap(st.gate);
    st.stopped = true;
    // The directory holds strong handles to the published objects' actors
    // (detached channel actors): ~actor_system would wait for them for ever.
    services.swap(st.services);
    for (auto& [name, entry] : st.peers)
      entry.watches.clear();
    st.peers.clear();
    agent.swap(st.agent);
    connectors.swap(st.connectors);
    // Release every handle: a strong handle to the (detached) middleman actor
    // or to an agent keeps ~actor_system waiting for ever.
    st.self.agent = nullptr;
    st.mm = nullptr;
  }
  // Closes the listener and every pending handshake and joins the gate
  // thread; connectors still inside gate::connect hold the gate until their
  // bounded connect returns.
  if (gate)
    gate->stop();
  for (auto& addr : connectors)
    caf::anon_send_exit(addr, caf::exit_reason::user_shutdown);
  if (agent)
    caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
}

const node& node_layer::self() const noexcept {
  return state_->self_node;
}

std::vector<node> node_layer::nodes() const {
  std::vector<node> result;
  std::lock_guard<std::mutex> guard{state_->mtx};
  for (auto& [name, entry] : state_->peers)
    result.push_back(entry.id);
  return result;
}

connect_result node_layer::connect(const std::string& host, uint16_t port) {
  auto& st = *state_;
  if (!st.settings.named)
    return connect_error{connect_errc::not_configured,
                         "rotina.node-name must be set to connect to " + host
                           + ":" + std::to_string(port)};
  auto res = std::make_shared<std::promise<connect_result>>();
  auto fut = res->get_future();
  {
    std::lock_guard<std::mutex> guard{st.mtx};
    if (st.stopped)
      return connect_error{connect_errc::not_configured,
                           "the runtime shut down"};
    // Forget finished connectors (their addresses no longer resolve).
    auto& cs = st.connectors;
    cs.erase(std::remove_if(cs.begin(), cs.end(),
                            [](const caf::actor_addr& x) {
                              return caf::actor_cast<caf::strong_actor_ptr>(x)
                                     == nullptr;
                            }),
             cs.end());
    // Detached: the connector blocks in gate::connect on its own thread.
    auto worker = sys_.spawn<caf::detached>(connector_impl, state_, st.gate,
                                            host, port, false, res);
    cs.push_back(worker.address());
  }
  // The connector always finishes within connect-timeout plus one request
  // timeout; the extra second only guards against a stuck scheduler.
  auto bound = st.settings.connect_timeout + st.settings.request_timeout + 1s;
  if (fut.wait_for(bound) != std::future_status::ready)
    return connect_error{connect_errc::timed_out,
                         "no result from the connector within "
                           + ms_text(bound)};
  return fut.get();
}

std::vector<connect_error> node_layer::wait_for_peers() {
  std::vector<std::shared_future<connect_result>> futs;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    futs = state_->peer_results;
  }
  auto bound
    = state_->settings.connect_timeout + state_->settings.request_timeout + 1s;
  auto deadline = std::chrono::steady_clock::now() + bound;
  std::vector<connect_error> result;
  for (auto& f : futs) {
    if (f.wait_until(deadline) != std::future_status::ready)
      result.push_back(connect_error{connect_errc::timed_out,
                                     "no result from a peer connector"});
    else if (auto& r = f.get(); !r)
      result.push_back(r.error());
  }
  return result;
}

node_watch node_layer::on_node_down(const node& peer, down_handler fn) {
  auto& st = *state_;
  auto token = st.next_watch.fetch_add(1);
  {
    std::lock_guard<std::mutex> guard{st.mtx};
    if (auto i = st.peers.find(peer.name);
        i != st.peers.end() && i->second.id == peer) {
      i->second.watches.emplace_back(token, std::move(fn));
      return token;
    }
  }
  if (fn)
    fn(peer, error{errc::node_down, "node '" + peer.name + "' (" + peer.host
                                      + ":" + std::to_string(peer.port)
                                      + ") is not connected"});
  return token;
}

bool node_layer::cancel_node_watch(node_watch token) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  for (auto& [name, entry] : state_->peers) {
    auto& ws = entry.watches;
    auto i = std::find_if(ws.begin(), ws.end(),
                          [&](auto& w) { return w.first == token; });
    if (i != ws.end()) {
      ws.erase(i);
      return true;
    }
  }
  return false;
}

bool node_layer::publish(const std::string& name, remote_handle h) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  auto [i, added] = state_->services.emplace(name, h);
  if (!added && !(i->second == h))
    return false;
  return true;
}

bool node_layer::unpublish(const std::string& name) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->services.erase(name) > 0;
}

std::variant<remote_handle, error>
node_layer::lookup(const node& peer, const std::string& name) {
  auto& st = *state_;
  caf::actor target;
  {
    std::lock_guard<std::mutex> guard{st.mtx};
    if (peer == st.self_node) {
      if (auto i = st.services.find(name); i != st.services.end())
        return i->second;
      return error{errc::not_found, st.self_desc()
                                      + " has published nothing as \""
                                      + name + "\""};
    }
    if (auto i = st.peers.find(peer.name);
        i != st.peers.end() && i->second.id == peer)
      target = i->second.agent;
  }
  if (!target)
    return error{errc::node_down, "lookup of \"" + name + "\": node "
                                    + peer.to_string() + " is not connected"};
  using reply = std::variant<remote_handle, error>;
  auto done = std::make_shared<std::promise<reply>>();
  auto fut = done->get_future();
  auto timeout = st.settings.request_timeout;
  // Detached: the answer must be read even when every scheduler worker
  // waits in a lookup (a goroutine calling lookup stalls its worker).
  sys_.spawn<caf::detached>([=](caf::event_based_actor* self) {
    self->request(target, timeout, lookup_atom::value, name)
      .then([=](remote_handle& h) { done->set_value(std::move(h)); },
            [=](caf::error& err) {
              auto e = from_caf_error(err);
              if (err == caf::sec::request_timeout)
                e = error{errc::node_down,
                          "lookup of \"" + name + "\" on node "
                            + peer.to_string() + ": no answer within "
                            + ms_text(timeout)};
              done->set_value(std::move(e));
            });
  });
  if (fut.wait_for(timeout + 1s) != std::future_status::ready)
    return error{errc::node_down, "lookup of \"" + name + "\" on node "
                                    + peer.to_string() + ": no answer within "
                                    + ms_text(timeout + 1s)};
  return fut.get();
}

caf::timespan node_layer::request_timeout() const noexcept {
  return state_->settings.request_timeout;
}

caf::actor node_layer::agent() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->agent;
}

caf::actor node_layer::agent_of(const node& peer) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  if (auto i = state_->peers.find(peer.name);
      i != state_->peers.end() && i->second.id == peer)
    return i->second.agent;
  return {};
}

std::optional<node> node_layer::node_of(const caf::node_id& id) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  for (auto& [name, entry] : state_->peers)
    if (entry.agent.node() == id)
      return entry.id;
  return std::nullopt;
}

} // namespace rotina::detail
