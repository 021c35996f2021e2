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
#include "rotina/detail/remote_handle.hpp"
#include "rotina/error.hpp"
#include "rotina/node.hpp"
#include "rotina/result.hpp"

namespace rotina {

class runtime;

namespace detail {

class node_layer;
class timer_service;

/// What a runtime_ref points to: cleared when the runtime is destroyed.
struct runtime_core {
  std::atomic<runtime*> rt{nullptr};
};

} // namespace detail

/// Per-runtime state of a layer above runtime/ (the goroutine layer's live
/// registry, for one), owned by the runtime: created once on first use with
/// runtime::extension(), canceled when shutdown() cancels work, and released
/// after the actor system is gone, in reverse order of creation.
class runtime_extension {
public:
  virtual ~runtime_extension();

  /// Cancels the extension's work (shutdown). Runs once, on the thread
  /// calling shutdown(), after the cancel hooks and before the actor system
  /// is destroyed.
  virtual void cancel() = 0;

  /// Go's "all goroutines are asleep": true if this layer's live work can no
  /// longer make progress by itself. Called by a waiting shutdown().
  virtual bool idle() = 0;

  /// True if the calling thread runs work of this extension (a goroutine),
  /// so a blocking runtime call here would wait for itself.
  virtual bool on_calling_thread() const noexcept = 0;

  /// Appends one line per unit of work that still runs (for the report of a
  /// shutdown that timed out).
  virtual void describe_running(std::string& out) = 0;
};

/// A weak handle to a runtime for objects that may outlive it (channels,
/// contexts, timers): tells whether the runtime still lives and turns "gone"
/// into a clear panic_error instead of a dangling pointer.
class runtime_ref {
public:
  runtime_ref() noexcept = default;

  explicit runtime_ref(std::shared_ptr<detail::runtime_core> core) noexcept
    : core_(std::move(core)) {
    // nop
  }

  /// The runtime, or null if there is none or it was destroyed.
  runtime* lock() const noexcept {
    return core_ != nullptr ? core_->rt.load(std::memory_order_acquire)
                            : nullptr;
  }

  /// The runtime. Throws panic_error "<what>: the runtime was destroyed"
  /// (errc::misuse) if it is gone, and "<what>: the runtime was shut down"
  /// once its actor system is gone.
  runtime& get(const char* what) const;

  explicit operator bool() const noexcept {
    return core_ != nullptr;
  }

private:
  std::shared_ptr<detail::runtime_core> core_;
};

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

  /// A weak handle that tells whether this runtime still lives.
  runtime_ref ref() const noexcept {
    return runtime_ref{core_};
  }

  /// The runtime's timer service (one timer heap and thread, started on first
  /// use, stopped by shutdown()).
  detail::timer_service& timers() noexcept {
    return *timers_;
  }

  // -- extensions -------------------------------------------------------------

  /// The most extensions a runtime holds (one per layer).
  static constexpr size_t max_extensions = 8;

  /// Returns a new process-wide extension slot (call once per layer, e.g. in
  /// a function-local static).
  static size_t new_extension_slot();

  /// Returns the extension in `slot`, creating it with `make(*this)` on first
  /// use (once, even when called from several threads).
  runtime_extension&
  extension(size_t slot, std::shared_ptr<runtime_extension> (*make)(runtime&));

  /// Returns the extension in `slot`, or null if none was created.
  runtime_extension* find_extension(size_t slot) const noexcept {
    return slots_[slot].load(std::memory_order_acquire);
  }

  /// Registers `hook`, process-wide, to run in every runtime created from now
  /// on, at the end of its start (the actor system and the node layer exist,
  /// peers are not connected yet): how a layer above runtime/ serves other
  /// nodes from the start (the goroutine spawner of go_on). Registering the
  /// same hook again is a no-op. Thread-safe.
  static void add_start_hook(void (*hook)(runtime&));

  // -- external calls ---------------------------------------------------------

  /// Enters the runtime for one short call from a thread outside it that
  /// uses the actor system (go, after). Returns false once shutdown() started
  /// to cancel work: the caller must then not touch system(). Pair a true
  /// result with leave(); shutdown() waits for every entered call to leave
  /// before it destroys the actor system.
  bool enter() noexcept;

  /// Ends a call begun with enter().
  void leave() noexcept;

  /// True once shutdown() started to cancel work.
  bool is_canceling() const noexcept {
    return canceling_.load(std::memory_order_seq_cst);
  }

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

  /// Returns the connected peer (or this node) named `name`, if any.
  std::optional<node> find_node(const std::string& name) const;

  // -- the service directory (docs/distribution.md) ---------------------------

  /// Publishes `h` (a chan, send_chan or recv_chan; include
  /// <rotina/remote.hpp>) under `name` in this node's directory, where
  /// lookup() on any connected node finds it. Like Go's net/rpc Register, a
  /// name is taken once: publishing another handle under a taken name throws
  /// panic_error (errc::misuse); publishing the same handle again is a no-op.
  /// The published object lives at least until unpublish(name).
  template <class Handle>
  void publish(const std::string& name, const Handle& h) {
    publish_handle(name, to_remote_handle(*this, h));
  }

  /// Removes `name` from this node's directory. Returns false if it was not
  /// published.
  bool unpublish(const std::string& name);

  /// Looks up the handle `peer` published as `name` and checks its type:
  /// `rt.lookup<chan<job>>(peer, "jobs")`. Returns the handle, or an error:
  /// errc::not_found (nothing published under that name; the message lists
  /// what is), errc::type_mismatch (another kind or element type, both
  /// named), errc::node_down (`peer` is not connected, or did not answer
  /// within request-timeout). Blocks the calling thread for at most
  /// request-timeout; in a goroutine it stalls its scheduler thread for one
  /// round trip (prefer passing handles as arguments there).
  template <class Handle>
  result<Handle> lookup(const node& peer, const std::string& name) {
    auto h = lookup_handle(peer, name);
    if (!h)
      return h.error();
    return from_remote_handle(*this, static_cast<Handle*>(nullptr), *h,
                              "lookup of \"" + name + "\" on node '"
                                + peer.name + "'");
  }

  /// publish() without the handle conversion.
  void publish_handle(const std::string& name, detail::remote_handle h);

  /// lookup() without the handle conversion.
  result<detail::remote_handle> lookup_handle(const node& peer,
                                              const std::string& name);

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
  /// Called inside a goroutine or on a scheduler worker it prints a message
  /// and aborts (it would wait for itself), like wait().
  ///
  /// Never waits for ever: after cancelling, actors get shutdown-timeout to
  /// end; if some still run then (a goroutine that never suspends), it prints
  /// each goroutine still running (name, where it was spawned) to stderr and
  /// ends the process with std::_Exit(EXIT_FAILURE).
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

  void check_not_inside(const char* what) const;

  void await_actors_or_exit();

  rotina::config config_;

  std::shared_ptr<detail::runtime_core> core_;

  std::unique_ptr<detail::timer_service> timers_;

  /// Extensions by slot (set once) and in order of creation (under mtx_).
  std::atomic<runtime_extension*> slots_[max_extensions] = {};

  std::vector<std::shared_ptr<runtime_extension>> extensions_;

  /// Calls between enter() and leave().
  std::atomic<size_t> entered_{0};

  std::atomic<bool> canceling_{false};

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

  /// Serializes the creation of extensions.
  std::mutex ext_mtx_;

  /// Serializes shutdown() calls.
  std::mutex shutdown_mtx_;

  std::atomic<bool> shut_down_{false};
};

} // namespace rotina
