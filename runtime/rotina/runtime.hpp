#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "rotina/config.hpp"
#include "rotina/error.hpp"
#include "rotina/node.hpp"

namespace rotina {

namespace detail {
class node_layer;
} // namespace detail

/// runtime owns the caf::actor_system (with caf::io::middleman loaded) and
/// is the one object an application creates, like the implicit runtime of a
/// Go program. Destroying it shuts everything down (see shutdown()).
///
/// A runtime is neither copyable nor movable: actors and goroutines keep
/// references to it.
class runtime {
public:
  // -- constructors, destructors, and assignment operators --------------------

  /// Constructs a runtime from command-line arguments:
  /// - `--config-file=PATH` reads PATH; without it the environment variable
  ///   ROTINA_CONFIG names the file, and without that only defaults apply;
  /// - `--section.key=value` (or `--key=value` for [rotina] keys) overrides
  ///   the file, validated like file entries; a section-less `--name[=value]`
  ///   whose name is neither a [rotina] key nor a near miss of one (e.g.
  ///   `--latency-ms=100`, `--verbose`) is an application flag and goes to
  ///   `config().remainder`;
  /// - `--help` prints the known keys and exits with status 0;
  /// - every other argument, and everything after `--`, is left for the
  ///   application in `config().remainder`.
  /// On a configuration error prints "rotina: <message>" to stderr and calls
  /// std::exit(2), like Go's flag.ExitOnError.
  runtime(int argc, char** argv);

  /// Constructs a runtime from `opts`. Throws config_error on any
  /// configuration error; nothing is started then.
  explicit runtime(options opts = {});

  /// Calls shutdown().
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // -- properties -------------------------------------------------------------

  /// Returns the actor system. Must not be called after shutdown().
  caf::actor_system& system() noexcept;

  /// Returns the validated configuration. node_name is resolved (never
  /// empty).
  const rotina::config& config() const noexcept {
    return config_;
  }

  // -- live-work accounting ---------------------------------------------------

  /// Counts one more unit of live work (e.g. a running goroutine). shutdown()
  /// with policy wait waits until the count drops to zero.
  void work_started() noexcept;

  /// Counts one unit of live work as finished and wakes shutdown() when the
  /// count reaches zero. Calling it more often than work_started() aborts the
  /// program with "rotina: negative live-work counter" (like Go's "sync:
  /// negative WaitGroup counter").
  void work_finished() noexcept;

  /// Returns the current live-work count.
  size_t live_work() const noexcept;

  /// Registers `is_idle`, which tells whether a layer's live work can no
  /// longer make progress by itself (for goroutines: every live goroutine is
  /// parked on a channel and no timer is pending, Go's "all goroutines are
  /// asleep"). shutdown() with policy wait stops waiting once every
  /// registered check returns true. A check runs on the thread calling
  /// shutdown() and must be thread-safe.
  void on_idle_check(std::function<bool()> is_idle);

  // -- nodes (docs/distribution.md) -------------------------------------------

  /// Returns this node: its name, listen address (port 0 when it does not
  /// listen; the actual port when rotina.listen-port is 0 and rotina.listen
  /// is true) and incarnation.
  const node& self() const noexcept;

  /// Returns the connected peers (those whose handshake finished and that
  /// are not down), sorted by name. Never blocks on the network.
  std::vector<node> nodes() const;

  /// Connects to the node listening at host:port and runs rotina's
  /// handshake. Blocks the calling thread for at most rotina.connect-timeout
  /// plus rotina.request-timeout; must not be called from inside an actor.
  /// Returns the peer, or why not: connect_errc::refused (nothing listens;
  /// reported at once, no retry), timed_out (the peer did not finish CAF's
  /// connection within connect-timeout, e.g. it is frozen), handshake_failed,
  /// name_taken, version_mismatch, settings_mismatch, fingerprint_mismatch
  /// (each naming both sides' values; the peer logs the refusal on stderr),
  /// not_configured (no rotina.node-name, or the runtime shut down).
  /// Connecting to an already connected peer returns it again.
  connect_result connect(const std::string& host, uint16_t port);

  /// Waits until every peer of rotina.peers is connected or has failed (the
  /// start-up connections retry every 100 ms until rotina.connect-timeout)
  /// and returns the failures; empty means all peers are connected.
  std::vector<connect_error> wait_for_peers();

  /// Calls `fn(peer, err)` exactly once when `peer` is lost (its process
  /// died, froze past the heartbeat timeout, or refused this node), with
  /// `err.code() == errc::node_down` and a message naming the node and why.
  /// If `peer` is not connected at registration (already down, never seen,
  /// or another incarnation), calls `fn` at once on the calling thread.
  /// Otherwise `fn` runs inside the node agent actor: it must be short and
  /// must not block (no connect(), no waiting). When the runtime shuts down
  /// first, `fn` is dropped without being called. Returns a token for
  /// cancel_node_watch.
  node_watch on_node_down(const node& peer,
                          std::function<void(const node&, const error&)> fn);

  /// Removes a registration of on_node_down. Returns true if it was removed
  /// before being called, false if it was called (or is being called) or is
  /// unknown.
  bool cancel_node_watch(node_watch token);

  /// Returns rotina.request-timeout (default 5s), the bound every request to
  /// another node must use.
  caf::timespan request_timeout() const noexcept;

  /// Returns this node's agent actor (null when the node has no name).
  caf::actor agent() const;

  /// Returns the agent actor of the connected `peer`, or a null handle if it
  /// is not connected. Monitoring it is monitoring the node.
  caf::actor agent_of(const node& peer) const;

  /// Returns the connected peer whose CAF node id is `id`, if any (e.g. to
  /// find which node a remote actor handle lives on).
  std::optional<node> node_of(const caf::node_id& id) const;

  // -- shutdown ---------------------------------------------------------------

  /// Registers `hook` to run when shutdown() cancels work. Hooks run in
  /// reverse order of registration, on the thread calling shutdown(), before
  /// the actor system is destroyed. A hook registered after shutdown()
  /// started runs at once. Exceptions thrown by a hook are reported on stderr
  /// and do not stop the other hooks.
  void on_cancel(std::function<void()> hook);

  /// Shuts the runtime down. With policy wait, blocks until live_work() is 0,
  /// every idle check reports idle, or shutdown_timeout passes; then (or at
  /// once with policy cancel) runs the cancel hooks. Finally destroys the actor
  /// system, which waits for every actor to terminate. Idempotent and safe to
  /// call from several threads; later calls return once the first has finished.
  /// Must not be called from inside an actor of this runtime (it would wait for
  /// itself).
  ///
  /// CAF 0.17 limitation: a thread that created a caf::scoped_actor keeps
  /// CAF's logger alive until that thread exits, and ~actor_system waits for
  /// the logger. So call shutdown() on such a thread, or after it has exited;
  /// otherwise shutdown() hangs.
  void shutdown();

  /// Returns whether shutdown() has completed.
  bool is_shut_down() const noexcept;

private:
  // -- implementation details -------------------------------------------------

  void start();

  void run_cancel_hooks();

  rotina::config config_;

  std::unique_ptr<caf::actor_system> system_;

  /// The node layer (agent, peer table); declared after system_ so that it
  /// is stopped before the actor system is destroyed.
  std::unique_ptr<detail::node_layer> nodes_;

  std::atomic<size_t> live_work_{0};

  /// Guards hooks_, shutting_down_ and the wake-up of a waiting shutdown().
  mutable std::mutex mtx_;

  std::condition_variable work_done_;

  std::vector<std::function<void()>> hooks_;

  std::vector<std::function<bool()>> idle_checks_;

  bool shutting_down_ = false;

  /// Serializes shutdown() calls.
  std::mutex shutdown_mtx_;

  std::atomic<bool> shut_down_{false};
};

} // namespace rotina
