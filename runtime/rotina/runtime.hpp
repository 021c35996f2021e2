#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>

#include "rotina/config.hpp"

namespace rotina {

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
