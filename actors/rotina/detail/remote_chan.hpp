// rotina::detail::remote_chan: the channel core of a channel that lives on
// another node (docs/design.md, "Distribution"). Internal; the typed half is in
// <rotina/remote.hpp>.
//
// A remote_chan forwards every operation to the channel's owner: blocking
// sends and receives as plain messages through one proxy actor per handle
// (answered once by the owner's channel actor, which parks them in the one
// channel core with every local party), the non-blocking forms, close and
// len as bounded synchronous requests.
//
// Invariants (of remote_state, under mtx):
// - `pending` holds every parked operation whose answer has not arrived; the
//   party that erases an entry (the proxy on an answer, cancel, fail_all) is
//   the only one that completes its waiter.
// - Once `fault` is set it stays set: every parked operation was failed with
//   it, and every later operation raises it (a lost owner never looks like a
//   close; no operation is replayed).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>

#include "rotina/detail/chan_base.hpp"
#include "rotina/detail/remote_handle.hpp"
#include "rotina/error.hpp"
#include "rotina/node.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

struct remote_state;

/// The typed half of a remote channel, one table per element type
/// (<rotina/remote.hpp>).
struct remote_ops {
  /// Spawns the proxy actor of `st`.
  caf::actor (*spawn_proxy)(runtime& rt, std::shared_ptr<remote_state> st);
  /// Moves the T at `value` into a send request with `seq` for the proxy.
  void (*post_send)(remote_state& st, uint64_t seq, void* value);
  /// Appends the T at `value` (moved) to st.batch, serialized (under
  /// st.mtx).
  void (*append_push)(remote_state& st, void* value);
  /// Go's non-blocking send / receive, one bounded round trip to the owner.
  op_status (*try_send)(remote_state& st, void* value);
  op_status (*try_recv)(remote_state& st, void* out);
};

/// What a remote channel handle and its proxy actor share.
struct remote_state {
  remote_state(runtime& rt, remote_handle h, const remote_ops& ops);

  // -- fixed at creation --------------------------------------------------

  runtime_ref rt;
  remote_handle handle;
  const remote_ops* ops;
  /// The owner node (when it was connected at creation).
  std::optional<node> owner;
  /// "channel 'chan<@i32>' of node 'a'", for messages.
  std::string desc;
  /// Counts parked remote operations of the runtime (idle check).
  std::shared_ptr<std::atomic<size_t>> parked_ops;

  // -- guarded by mtx ------------------------------------------------------

  std::mutex mtx;
  uint64_t next_seq = 1;
  struct op {
    waiter* w;
    bool is_send;
  };
  std::unordered_map<uint64_t, op> pending;
  /// Notify-only waiters of selects registered at the owner (rc_watch).
  std::unordered_map<uint64_t, waiter*> watches;
  std::optional<error> fault;
  caf::actor proxy;
  /// Reserved slots at the owner that this handle may fill without asking
  /// (credit), and how many credited values it shipped so far.
  size_t credit = 0;
  uint64_t pushes = 0;
  /// Whether the proxy's idle check (which returns unused credit) is armed.
  bool linger_armed = false;
  /// Credited values not yet shipped, serialized back to back: they go out
  /// as one message (rc_push_batch) when the proxy flushes, before any other
  /// message of this handle to the owner (so order is kept), or when large.
  std::vector<char> batch;
  uint32_t batch_count = 0;

  // -- called by the proxy and the node-down hook ---------------------------

  /// Completes the parked operation `seq` (if still parked): `ok` false means
  /// "closed". For a receive with `ok`, `fill(slot)` constructs the value.
  template <class F>
  void complete(uint64_t seq, bool ok, F&& fill) {
    waiter* w = nullptr;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto i = pending.find(seq);
      if (i == pending.end())
        return;
      w = i->second.w;
      auto is_send = i->second.is_send;
      pending.erase(i);
      if (ok && !is_send)
        fill(w->slot);
      w->ok = ok;
      w->completed = true;
      w->who->retain();
    }
    parked_ops->fetch_sub(1, std::memory_order_relaxed);
    w->who->unpark();
  }

  /// Completes a send (`ok`) or a "closed" answer.
  void complete(uint64_t seq, bool ok) {
    complete(seq, ok, [](void*) {});
  }

  /// Adds credit the owner granted. Returns true if the caller (the proxy)
  /// must arm its idle check.
  bool add_credit(uint64_t k);

  /// The proxy's idle check: returns the unused credit to the owner if no
  /// credited value was shipped since `seen` pushes. Returns the push count
  /// to check against next time, or nothing if the check is disarmed.
  std::optional<uint64_t> linger(uint64_t seen);

  /// Ships the batch (under mtx).
  void flush_locked();

  /// Returns unused credit to the owner (under mtx; with the proxy's
  /// identity, after every push it sent, so the owner's ledger stays exact).
  void give_back_locked();

  /// Decodes a failed request: "send on closed channel" completes `seq` as
  /// closed; anything else faults the channel (fail_all).
  void complete_error(uint64_t seq, const caf::error& err);

  /// The owner says watch `seq` may proceed: fires its waiter.
  void fire_watch(uint64_t seq);

  /// Sets the fault (once) and fails every parked operation with it.
  void fail_all(error err);

  /// Throws panic_error with the fault, if there is one.
  void check_fault();

  /// The runtime (panics once it is gone).
  runtime& get_runtime();
};

/// Returns a channel handle for `h`: the local core when this node owns the
/// channel, otherwise a remote core talking to the owner through a proxy.
/// A handle whose owner is not connected (or is another incarnation) is
/// returned faulted: every operation on it fails with errc::node_down.
chan_ref make_remote_chan(runtime& rt, const elem_type& type,
                          const remote_ops& ops, remote_handle h);

/// Remembers that `actor` serves the local channel `st` to other nodes
/// (until the runtime shuts down, which ends the actor).
void export_chan(runtime& rt, const caf::actor& actor, const chan_ref& st);

/// Remembers a channel's (detached) actor so that the runtime's shutdown
/// ends it: a detached actor still alive at ~actor_system would make it wait
/// for ever. An actor made after the shutdown began is ended at once.
void track_chan_actor(runtime& rt, const caf::actor& actor);

/// The handle a remote core was made from, or null for a local channel.
const remote_handle* remote_handle_of(const chan_base& c) noexcept;

} // namespace rotina::detail
