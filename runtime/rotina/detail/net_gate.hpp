// The transport gate: rotina's own listener and connector. A connection
// reaches CAF's BASP broker only after rotina's handshake succeeded on it
// (docs/design.md, "The transport gate"), so a client that has not finished
// the handshake never sees a node id or an actor, can never make the node
// buffer more than one bounded frame, and is closed when its handshake time
// is up.
//
// Invariants:
// - No CAF doorman is ever opened: every accepted socket is owned by the gate
//   thread until it is handed off (publish_atom) or closed.
// - A pending connection holds at most header_size + max_payload bytes of
//   input, and lives at most handshake_timeout.
// - At most max_pending connections are pending at once; further ones are
//   closed at once (and logged, at most once per second with a count).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include <caf/actor_system.hpp>
#include <caf/fwd.hpp>
#include <caf/node_id.hpp>

#include "rotina/detail/net_frame.hpp"

namespace rotina::detail::net {

class tls_context;

/// Why an outgoing connection failed.
enum class connect_failure {
  /// The address could not be parsed or resolved.
  bad_address,
  /// Nothing accepts connections there.
  refused,
  /// No connection or no complete handshake within the timeout.
  timed_out,
  /// The peer spoke, but not rotina's handshake (or BASP failed after it).
  handshake_failed,
  /// The peer refused us; the message carries its reason.
  rejected,
  /// We refused the peer's hello; the message carries our reason.
  mismatch,
};

/// Returns "bad address", "refused", "timed out", ...
const char* to_string(connect_failure x) noexcept;

struct connect_error {
  connect_failure kind;
  std::string message;
};

/// A connection that finished both handshakes.
struct connected {
  /// What the peer said about itself.
  hello peer;
  /// CAF's id of the peer.
  caf::node_id node;
  /// The actor the peer publishes (its node agent).
  caf::strong_actor_ptr agent;
};

/// Checks a peer's hello. Returns an empty string to accept it, else the
/// reason to refuse it (sent to the peer and logged).
using check_fn = std::function<std::string(const hello& peer,
                                           const std::string& peer_address)>;

/// Called on the gate thread after an accepted peer was handed to BASP.
using joined_fn
  = std::function<void(const hello& peer, const std::string& peer_address)>;

/// Receives one log line per refused or failed incoming connection.
using log_fn = std::function<void(const std::string& line)>;

class gate {
public:
  // -- member types -----------------------------------------------------------

  struct settings {
    /// How long a connection may take to complete the handshake.
    std::chrono::milliseconds handshake_timeout{2000};
    /// How many incoming handshakes may be in progress at once.
    size_t max_pending = 64;
    /// Largest BASP message accepted from a peer after the handshake; a
    /// header announcing more closes the connection (rotina.max-message-size).
    size_t max_message_size = 16 * 1024 * 1024;
    /// Mutual TLS for every connection (accepted and made); null: plain TCP.
    std::shared_ptr<tls_context> tls;
  };

  /// What the gate needs to accept peers.
  struct listener {
    /// What this node says about itself.
    hello self;
    /// The actor BASP publishes to accepted peers.
    caf::strong_actor_ptr agent;
    check_fn check;
    joined_fn joined;
    log_fn log;
  };

  // -- constructors, destructors, and assignment operators --------------------

  gate(caf::actor_system& sys, settings cfg);

  /// Calls stop().
  ~gate();

  gate(const gate&) = delete;
  gate& operator=(const gate&) = delete;

  // -- operations -------------------------------------------------------------

  /// Opens a listening socket on host:port (port 0 picks a free port) and
  /// starts the gate thread. Returns the bound port, or an error message
  /// naming the address and the system's reason.
  std::variant<uint16_t, std::string> listen(const std::string& host,
                                             uint16_t port, listener how);

  /// Connects to host:port, exchanges hellos (the peer's is checked with
  /// `check`), hands the connection to BASP and waits for BASP's handshake,
  /// all within `timeout`. Blocks the calling thread. `log` receives a line
  /// if the connection is later closed for an oversized message.
  std::variant<connected, connect_error>
  connect(const std::string& host, uint16_t port, const hello& self,
          const check_fn& check, std::chrono::milliseconds timeout,
          log_fn log = {});

  /// Closes the listening socket and every pending handshake, makes every
  /// connect() in progress fail at once (and later ones at their start), and
  /// joins the gate thread. Idempotent.
  void stop();

  /// Returns the number of incoming handshakes in progress (for tests).
  size_t pending() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace rotina::detail::net
