// The channel core, compiled once: Go's hchan (runtime/chan.go) for every
// element type, behind the entry points of <rotina/detail/chan_base.hpp>.
//
// Invariants (of a chan_core, under lock_; after chan.go's header):
// - At least one of sendq_ and recvq_ is empty, except for an unbuffered
//   channel with a single goroutine blocked on it for both sending and
//   receiving through one select, whose waiters stay until the select
//   withdraws them (chan.go: "except for the case of an unbuffered channel
//   with a single goroutine blocked on it for both sending and receiving
//   using a select statement").
// - count_ <= cap(); buffered values sit in slots head_ .. head_+count_ (mod
//   cap()), each a live T; every other slot is raw memory.
// - If recvq_ is non-empty then count_ == 0 (receivers wait only on an empty
//   buffer); stale select waiters may break this until popped.
// - If sendq_ is non-empty then count_ == cap() (senders wait only on a full
//   buffer; for cap() == 0 both hold trivially).
// - After closed_ is set, no waiter is ever added to sendq_, and sendq_ is
//   empty; recvq_ is empty too unless reserved_ > 0 (values sent under
//   credit are still owed: receivers wait for them), and is emptied with
//   "closed" when the last reservation is filled or returned with count_ 0.
// - count_ + reserved_ <= cap(); reserved_ grows only by reserve() (from free
//   slots, never after close) and shrinks by push_reserved / unreserve.
// - Who completes a waiter: only the party that unlinked it from a queue under
//   lock_ and won its claim (waiter::claim: always for a plain waiter, the
//   select_state CAS for a select's). That party moves the value, sets `ok`
//   and `completed`, and wakes its parker after releasing lock_; nobody else
//   touches the waiter afterwards. A waiter withdrawn by its owner (cancel)
//   is unlinked under lock_, so no waker can reach it any more.
// - Values move with the element type's move constructor (memcpy for
//   trivially copyable types); the core never copies a value and never
//   throws while a waiter is unlinked but not completed (element moves are
//   noexcept: checked at compile time by make_elem_type).
#include "chan_core.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "rotina/chan.hpp"
#include "rotina/detail/park.hpp"
#include "rotina/error.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

// -- chan_base ----------------------------------------------------------------

chan_base::chan_base(size_t cap, const elem_type& type, runtime* rt,
                     chan_core* local)
  : cap_(cap), type_(&type), local_(local),
    rt_(rt != nullptr ? new runtime_ref(rt->ref()) : nullptr) {
  // nop
}

chan_base::~chan_base() {
  delete rt_;
}

runtime* chan_base::rt_unchecked() const noexcept {
  return rt_ != nullptr ? rt_->lock() : nullptr;
}

void chan_base::destroy() noexcept {
  delete this;
}

void chan_base::raise_fault() {
  throw panic_error{error{errc::misuse, "channel operation failed"}};
}

void fire_notify(waiter* w) noexcept {
  // Runs under the lock of the channel that popped `w` (unlike the wakes of
  // value-moving waiters, which wait for the unlock): waking a parker only
  // enqueues a message, and a notify-only waiter has nothing to complete.
  if (w->sel->try_claim(w->case_index)) {
    w->who->retain();
    w->who->unpark();
  }
}

bool chan_watch(chan_base* c, bool is_send, waiter* w) {
  return c != nullptr && c->watch(is_send, w);
}

void chan_unwatch(chan_base* c, waiter* w) noexcept {
  if (c != nullptr)
    c->unwatch(w);
}

size_t chan_reserve(chan_base* c, size_t want) {
  auto l = c != nullptr ? c->local() : nullptr;
  return l != nullptr ? l->reserve(want) : 0;
}

void chan_push_reserved(chan_base* c, void* value) {
  if (auto l = c != nullptr ? c->local() : nullptr)
    l->push_reserved(value);
}

void chan_unreserve(chan_base* c, size_t k) {
  if (auto l = c != nullptr ? c->local() : nullptr)
    l->unreserve(k);
}

void chan_raise_fault(chan_base* c) {
  c->raise_fault();
  // raise_fault is [[noreturn]] in every override; g++ cannot see through the
  // virtual call.
  std::abort();
}

// -- chan_core ----------------------------------------------------------------

chan_core::chan_core(size_t cap, const elem_type& type, runtime* rt,
                     unsigned char* buf)
  : chan_base(cap, type, rt, this), size_(static_cast<uint32_t>(type.size)),
    trivial_(type.trivial), buf_(buf) {
  // nop
}

chan_core::~chan_core() {
  for (size_t i = 0, pos = head_; i < count_; ++i) {
    destroy_value(slot(pos));
    if (++pos == cap())
      pos = 0;
  }
  if (buf_ != nullptr)
    ::operator delete (buf_, std::align_val_t{type().align});
  destroy_identity(identity_slot());
}

bool chan_core::close_locked(wake_list& wakes) {
  if (closed_)
    return false;
  closed_ = true;
  // chan.go closechan: release all readers (they get "closed"), then all
  // writers (they panic). Readers wait on while credited values are owed.
  if (reserved_ == 0)
    while (auto w = recvq_.pop_claimed())
      complete(w, false, wakes);
  while (auto w = sendq_.pop_claimed())
    complete(w, false, wakes);
  return true;
}

size_t chan_core::reserve(size_t want) {
  std::lock_guard<spinlock> guard{lock_};
  if (closed_ || !sendq_.empty())
    return 0;
  auto free = cap() - count_ - reserved_;
  auto k = want < free ? want : free;
  reserved_ += k;
  return k;
}

void chan_core::push_reserved(void* value) {
  wake_list wakes;
  std::lock_guard<spinlock> guard{lock_};
  if (reserved_ == 0)
    return; // not ours to fill (checked by the caller's ledger too)
  --reserved_;
  if (auto w = recvq_.pop_claimed()) {
    move_value(w->slot, value);
    complete(w, true, wakes);
  } else {
    push_locked(value);
  }
  if (closed_ && reserved_ == 0 && count_ == 0)
    while (auto w = recvq_.pop_claimed())
      complete(w, false, wakes);
}

void chan_core::unreserve(size_t k) {
  wake_list wakes;
  std::lock_guard<spinlock> guard{lock_};
  reserved_ -= k < reserved_ ? k : reserved_;
  // Freed slots go to the senders that wait for room, oldest first.
  while (count_ + reserved_ < cap())
    if (auto w = sendq_.pop_claimed()) {
      push_locked(w->slot);
      complete(w, true, wakes);
    } else {
      break;
    }
  if (closed_ && reserved_ == 0 && count_ == 0)
    while (auto w = recvq_.pop_claimed())
      complete(w, false, wakes);
}

op_status chan_core::send(void* value, const park_fn* park) {
  return send_impl(value, park);
}

op_status chan_core::recv(void* out, const park_fn* park) {
  return recv_impl(out, park);
}

bool chan_core::close() {
  wake_list wakes;
  std::lock_guard<spinlock> guard{lock_};
  return close_locked(wakes);
}

bool chan_core::cancel(waiter* w) noexcept {
  std::lock_guard<spinlock> guard{lock_};
  unlink_locked(w);
  return w->completed;
}

size_t chan_core::len() {
  std::lock_guard<spinlock> guard{lock_};
  return count_;
}

bool chan_core::watch(bool is_send, waiter* w) {
  std::lock_guard<spinlock> guard{lock_};
  if (ready_locked(is_send))
    return true;
  // A waiting receiver watches the receive queue side: the next sender pops
  // it (and fires it) before it buffers or parks; likewise for senders.
  if (is_send)
    sendq_.push_back(w);
  else
    recvq_.push_back(w);
  return false;
}

void chan_core::unwatch(waiter* w) noexcept {
  std::lock_guard<spinlock> guard{lock_};
  unlink_locked(w);
}

std::pair<size_t, size_t> chan_core::waiting() {
  std::lock_guard<spinlock> guard{lock_};
  return {sendq_.size(), recvq_.size()};
}

// -- entry points -------------------------------------------------------------

namespace {

/// Go's maxAlloc on 64-bit platforms (1 << 48): no buffer is larger.
constexpr size_t max_alloc
  = sizeof(size_t) >= 8 ? size_t{1} << 48 : size_t{1} << 31;

/// The size of the chan_core allocation that precedes the buffer in Go's
/// check (`mem > maxAlloc-hchanSize`).
constexpr size_t core_size = sizeof(chan_core);

} // namespace

chan_ref make_chan_impl(runtime* rt, size_t cap, const elem_type& type) {
  // Go's makechan: `mem, overflow := math.MulUintptr(elem.size, uintptr(size));
  // if overflow || mem > maxAlloc-hchanSize || size < 0 { panic(...) }`.
  if (cap > 0 && type.size > (max_alloc - core_size) / cap)
    throw panic_error{error{errc::misuse, "makechan: size out of range"}};
  unsigned char* buf = nullptr;
  if (cap > 0)
    buf = static_cast<unsigned char*>(
      ::operator new (cap* type.size, std::align_val_t{type.align}));
  try {
    return chan_ref{new chan_core(cap, type, rt, buf)};
  } catch (...) {
    if (buf != nullptr)
      ::operator delete (buf, std::align_val_t{type.align});
    throw;
  }
}

runtime& chan_runtime(const chan_base& c) {
  if (c.rt_ == nullptr)
    throw panic_error{error{errc::misuse, "this channel has no runtime"}};
  return c.rt_->get("rotina::chan"); // panics once the runtime is gone
}

size_t default_capacity_of(runtime& rt) {
  return rt.config().default_capacity;
}

op_status chan_send(chan_base* c, void* value, const park_fn* park) {
  if (auto l = c->local())
    return l->send_impl(value, park); // inlined: no virtual call
  return c->send(value, park);
}

op_status chan_recv(chan_base* c, void* out, const park_fn* park) {
  if (auto l = c->local())
    return l->recv_impl(out, park);
  return c->recv(out, park);
}

void chan_close(chan_base* c) {
  if (c == nullptr)
    throw panic_error{error{errc::close_of_nil}};
  if (!c->close())
    throw panic_error{error{errc::close_of_closed}};
}

bool chan_cancel(chan_base* c, waiter* w) noexcept {
  return c != nullptr && c->cancel(w);
}

size_t chan_len(chan_base* c) noexcept {
  return c != nullptr ? c->len() : 0;
}

void require_plain_thread(const char* what) noexcept {
  if (on_scheduler_worker()) {
    std::fprintf(stderr,
                 "rotina: %s called inside a goroutine would block its "
                 "scheduler thread (and can deadlock every goroutine); use "
                 "the co_await form there\n",
                 what);
    std::abort();
  }
}

namespace {

/// The park_fn of a plain thread: its waiter and parker live on its stack.
struct thread_park {
  thread_parker parker;
  waiter w;
  void* slot;

  static waiter* call(void* ptr) {
    auto self = static_cast<thread_park*>(ptr);
    self->w.who = &self->parker;
    self->w.slot = self->slot;
    return &self->w;
  }
};

} // namespace

void chan_send_blocking(chan_base* c, void* value) {
  require_plain_thread("send_blocking");
  if (c == nullptr)
    block_forever();
  thread_park tp;
  tp.slot = value;
  park_fn park{&thread_park::call, &tp};
  switch (chan_send(c, value, &park)) {
  case op_status::done:
    return;
  case op_status::closed:
    panic_send_on_closed();
  default:
    break;
  }
  // The waker completed tp.w under the channel lock before unparking; the
  // parker's mutex orders those writes before our reads.
  tp.parker.wait();
  if (tp.w.failed)
    chan_raise_fault(c);
  if (!tp.w.ok)
    panic_send_on_closed();
}

bool chan_recv_blocking(chan_base* c, void* out) {
  require_plain_thread("recv_blocking");
  if (c == nullptr)
    block_forever();
  thread_park tp;
  tp.slot = out;
  park_fn park{&thread_park::call, &tp};
  switch (chan_recv(c, out, &park)) {
  case op_status::done:
    return true;
  case op_status::closed:
    return false;
  default:
    break;
  }
  tp.parker.wait();
  if (tp.w.failed)
    chan_raise_fault(c);
  return tp.w.ok;
}

void panic_send_on_closed() {
  throw panic_error{error{errc::send_on_closed}};
}

} // namespace rotina::detail
