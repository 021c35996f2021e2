// rotina::detail::chan_base: what a chan<T> handle points to, and the seam
// where a channel of another node will plug in (docs/design.md, "The channel
// core and its seam"). Header-light on purpose: no CAF, no <memory>, no
// <atomic>; <rotina/chan.hpp> includes it.
//
// The local implementation is chan_core (actors/src/chan_core.hpp, compiled
// once in actors/src/chan.cpp). The non-template entry points below are what
// the typed shells (awaiters, *_blocking, try_*, select cases, the channel
// actor) call; they take the local path without a virtual call and fall back
// to chan_base's virtual interface for any other implementation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "rotina/detail/elem_type.hpp"
#include "rotina/detail/waiter.hpp"

namespace rotina {
class runtime;
class runtime_ref;
} // namespace rotina

namespace rotina::detail {

class chan_core;
class wake_list;
struct chan_identity;

/// Outcome of one attempt at a channel operation.
enum class op_status {
  /// The operation completed (a value moved).
  done,
  /// The channel is closed: a receive got "closed", a send must panic.
  closed,
  /// The operation would block (try_*), or its caller is now parked.
  blocked,
};

/// How a blocking operation parks its caller. The channel calls it under its
/// lock, before anything of the caller is visible to other parties, and links
/// the waiter it returns (`who` and `slot` set by the callee). A null park_fn
/// pointer makes the operation a try: it returns `blocked` instead.
struct park_fn {
  waiter* (*call)(void* ctx);
  void* ctx;
};

/// A channel of any element type, local or (later) remote. Reference counted
/// by chan_ref; destroyed when the last handle goes.
class chan_base {
public:
  chan_base(const chan_base&) = delete;
  chan_base& operator=(const chan_base&) = delete;

  // -- the seam: what every channel implementation provides -------------------

  /// Go's chansend: hands the value at `value` (a T) to a receiver, buffers it,
  /// or parks through `park` (null: returns `blocked`). Moves from `*value`
  /// only on `done`, or later, when a receiver completes the parked waiter.
  virtual op_status send(void* value, const park_fn* park) = 0;

  /// Go's chanrecv: constructs a T in the raw storage `out`, reports closed
  /// (nothing constructed) or parks through `park`.
  virtual op_status recv(void* out, const park_fn* park) = 0;

  /// Go's closechan. Returns false if the channel was closed already.
  virtual bool close() = 0;

  /// Withdraws a parked waiter (a canceled goroutine, a select case that
  /// lost). Returns true if a waker had completed it first.
  virtual bool cancel(waiter* w) noexcept = 0;

  /// Go's len(ch).
  virtual size_t len() = 0;

  /// How many senders and receivers wait now (O(n); for tests and tools).
  virtual std::pair<size_t, size_t> waiting() = 0;

  /// For a select with a remote case: links the notify-only waiter `w` (see
  /// waiter::notify) so that it fires when a send (`is_send`) or a receive on
  /// this channel may be able to proceed. Returns true instead, without
  /// linking, if it can proceed now.
  virtual bool watch(bool is_send, waiter* w) = 0;

  /// Unlinks a notify-only waiter if it is still linked.
  virtual void unwatch(waiter* w) noexcept = 0;

  /// Throws the error that made an operation fail with `waiter::failed` (a
  /// remote channel whose owner node was lost: errc::node_down). Local
  /// channels never fail that way.
  [[noreturn]] virtual void raise_fault();

  // -- properties -------------------------------------------------------------

  /// Go's cap(ch).
  size_t cap() const noexcept {
    return cap_;
  }

  /// The element type.
  const elem_type& type() const noexcept {
    return *type_;
  }

  /// The in-process core, or null for a channel of another node. select locks
  /// local cores directly.
  chan_core* local() const noexcept {
    return local_;
  }

  /// The runtime the channel was made in: null for a runtime-less channel
  /// (e.g. a context's done channel) and once that runtime was destroyed.
  /// Use `chan_runtime` to turn "gone" into a clear panic.
  runtime* rt_unchecked() const noexcept;

  /// The slot that remembers the channel's actor (see <rotina/chan_actor.hpp>).
  chan_identity** identity_slot() noexcept {
    return &identity_;
  }

  // -- reference counting -----------------------------------------------------

  void retain() noexcept {
    __atomic_fetch_add(&refs_, 1, __ATOMIC_RELAXED);
  }

  void release() noexcept {
    if (__atomic_sub_fetch(&refs_, 1, __ATOMIC_ACQ_REL) == 0)
      destroy();
  }

protected:
  /// Remembers `rt` weakly (a runtime_ref), so that a handle outliving its
  /// runtime gets a panic instead of a dangling pointer.
  chan_base(size_t cap, const elem_type& type, runtime* rt, chan_core* local);

  virtual ~chan_base();

private:
  friend runtime& chan_runtime(const chan_base& c);

  void destroy() noexcept;

  size_t refs_ = 1;
  const size_t cap_;
  const elem_type* type_;
  chan_core* local_;
  runtime_ref* rt_ = nullptr;
  chan_identity* identity_ = nullptr;
};

/// A counted reference to a channel: what chan<T> handles hold.
class chan_ref {
public:
  chan_ref() noexcept = default;

  /// Adopts the reference `ptr` carries.
  explicit chan_ref(chan_base* ptr) noexcept : ptr_(ptr) {
    // nop
  }

  chan_ref(const chan_ref& other) noexcept : ptr_(other.ptr_) {
    if (ptr_ != nullptr)
      ptr_->retain();
  }

  chan_ref(chan_ref&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)) {
    // nop
  }

  chan_ref& operator=(chan_ref other) noexcept {
    std::swap(ptr_, other.ptr_);
    return *this;
  }

  ~chan_ref() {
    if (ptr_ != nullptr)
      ptr_->release();
  }

  chan_base* get() const noexcept {
    return ptr_;
  }

  chan_base* operator->() const noexcept {
    return ptr_;
  }

  explicit operator bool() const noexcept {
    return ptr_ != nullptr;
  }

  friend bool operator==(const chan_ref& x, const chan_ref& y) noexcept {
    return x.ptr_ == y.ptr_;
  }

  friend bool operator==(const chan_ref& x, std::nullptr_t) noexcept {
    return x.ptr_ == nullptr;
  }

private:
  chan_base* ptr_ = nullptr;
};

/// Kept for the code that names a channel's state by its element type.
template <class T>
using chan_ptr = chan_ref;

// -- entry points, compiled once in chan.cpp ----------------------------------

/// Go's makechan: a local channel of `cap` elements of `type`. Throws
/// panic_error "makechan: size out of range" if the buffer cannot exist.
chan_ref make_chan_impl(runtime* rt, size_t cap, const elem_type& type);

/// The capacity `make_chan<T>(rt)` uses: rt's `rotina.default-capacity`.
size_t default_capacity_of(runtime& rt);

/// chan_base::send without the virtual call on the local path.
op_status chan_send(chan_base* c, void* value, const park_fn* park);

/// chan_base::recv without the virtual call on the local path.
op_status chan_recv(chan_base* c, void* out, const park_fn* park);

/// Go's close(ch): panics "close of nil channel" / "close of closed channel".
void chan_close(chan_base* c);

/// chan_base::cancel (no-op and false on a nil channel).
bool chan_cancel(chan_base* c, waiter* w) noexcept;

/// The runtime of `c`, the one place a channel reads its runtime pointer.
/// Throws panic_error if the channel has none.
runtime& chan_runtime(const chan_base& c);

/// Go's len(ch) (0 for nil).
size_t chan_len(chan_base* c) noexcept;

/// send from a plain thread: blocks it. Panics on a closed channel, blocks
/// forever on a nil one, aborts with a message on a scheduler worker.
void chan_send_blocking(chan_base* c, void* value);

/// recv from a plain thread: blocks it; true if a T was constructed in `out`.
bool chan_recv_blocking(chan_base* c, void* out);

/// Aborts with a message if a thread-blocking call `what` runs on a scheduler
/// worker (inside a goroutine), where it would deadlock silently.
void require_plain_thread(const char* what) noexcept;

/// Credit for remote senders, on a local channel (the owner's channel actor):
/// chan_core::reserve / push_reserved / unreserve. No-ops (0) on a channel of
/// another node.
size_t chan_reserve(chan_base* c, size_t want);
void chan_push_reserved(chan_base* c, void* value);
void chan_unreserve(chan_base* c, size_t k);

/// chan_base::watch / unwatch (a nil channel is never ready).
bool chan_watch(chan_base* c, bool is_send, waiter* w);
void chan_unwatch(chan_base* c, waiter* w) noexcept;

/// Throws the fault of `c` (see chan_base::raise_fault).
[[noreturn]] void chan_raise_fault(chan_base* c);

/// Throws panic_error "send on closed channel".
[[noreturn]] void panic_send_on_closed();

/// Blocks the calling OS thread forever (an operation on a nil channel from a
/// plain thread).
[[noreturn]] void block_forever();

} // namespace rotina::detail
