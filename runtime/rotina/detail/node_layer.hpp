// The node layer of a runtime: its agent actor, handshake, peer table and
// failure detection. Internal: use the runtime's member functions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include <variant>

#include "rotina/config.hpp"
#include "rotina/detail/remote_handle.hpp"
#include "rotina/detail/node_transport.hpp"
#include "rotina/error.hpp"
#include "rotina/node.hpp"

namespace rotina::detail {

/// The protocol version rotina's handshake sends. Bump it whenever a message
/// between nodes changes.
inline constexpr uint32_t node_protocol_version = 1;

/// Settings of the node layer, taken from the runtime's config.
struct node_settings {
  /// rotina.node-name (resolved).
  std::string name;
  /// Whether rotina.node-name was configured (required to listen or connect).
  bool named = false;
  /// Whether the node listens (rotina.listen or a non-zero listen-port).
  bool listen = false;
  std::string listen_host;
  uint16_t listen_port = 0;
  std::vector<std::string> peers;
  caf::timespan connect_timeout;
  caf::timespan request_timeout;
  /// The effective middleman.heartbeat-interval / connection-timeout.
  caf::timespan heartbeat_interval;
  caf::timespan heartbeat_timeout;
  /// The security keys (TLS, insecure, handshake and message bounds).
  transport_settings transport;
};

/// Reads the node settings from `cfg` after load().
node_settings read_node_settings(const config& cfg, std::string name,
                                 bool named);

struct node_state;

/// node_layer owns the agent actor and the peer table of one runtime.
/// All member functions are thread-safe.
class node_layer {
public:
  using down_handler = std::function<void(const node&, const error&)>;

  node_layer(caf::actor_system& sys, node_settings settings);

  /// Calls stop().
  ~node_layer();

  node_layer(const node_layer&) = delete;
  node_layer& operator=(const node_layer&) = delete;

  /// Spawns the agent (when the node is named), publishes it through the
  /// transport gate on the listen port (when the node listens) and starts
  /// connecting to the configured peers in the background. Throws node_error
  /// when the node listens or has peers without a name, when the security
  /// settings are incomplete or unsafe (node_transport.hpp), or when
  /// listening fails.
  void start();

  /// Drops every watch without calling it, stops the connectors and the
  /// agent. Idempotent.
  void stop();

  const node& self() const noexcept;

  std::vector<node> nodes() const;

  connect_result connect(const std::string& host, uint16_t port);

  std::vector<connect_error> wait_for_peers();

  node_watch on_node_down(const node& peer, down_handler fn);

  bool cancel_node_watch(node_watch token);

  caf::timespan request_timeout() const noexcept;

  /// Enters `h` in this node's service directory under `name`. Returns false
  /// if `name` names another handle already.
  bool publish(const std::string& name, remote_handle h);

  /// Removes `name` from the directory; false if it was not there.
  bool unpublish(const std::string& name);

  /// Asks `peer`'s agent for the handle published as `name` (this node's own
  /// directory when `peer` is self). Blocks for at most request-timeout.
  std::variant<remote_handle, error> lookup(const node& peer,
                                            const std::string& name);

  caf::actor agent() const;

  caf::actor agent_of(const node& peer) const;

  std::optional<node> node_of(const caf::node_id& id) const;

private:
  caf::actor_system& sys_;
  std::shared_ptr<node_state> state_;
};

} // namespace rotina::detail
