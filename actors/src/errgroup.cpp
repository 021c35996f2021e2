// errgroup: golang.org/x/sync/errgroup on worker goroutines.
//
// A group never spawns a goroutine per body: bodies go to a FIFO queue and at
// most `limit` worker goroutines (one per body without a limit, unless one is
// idle) take them in turn. A worker runs a body inside its own coroutine, so
// a body that parks (channel, sleep, wait) parks its worker; the worker then
// takes the next body. The hot path of go() is one allocation and one lock.
//
// Invariants (under mtx_):
// - pending_ == queue_.size() + running_; wait()ers are linked only while
//   pending_ > 0 and are all woken when it reaches 0.
// - running_ <= workers_, and workers_ <= limit_ when limit_ >= 0 (set_limit
//   is refused while bodies are pending; idle workers above a new limit are
//   retired, and a worker that finds workers_ > limit_ leaves).
// - Each worker has one worker_rec in recs_: busy while it runs a body,
//   exited once it left normally (workers_ already decremented). Its entry is
//   erased by the supervisor when the worker's down message arrives; a worker
//   whose actor ended without `exited` was killed: workers_ is decremented
//   there, its body (if busy) counts as failed with the down reason, and a
//   replacement is spawned if bodies are queued (unless the runtime is
//   shutting down, which fails the queued bodies instead).
// - An idle worker is parked in idle_ (its waiter's slot points to its
//   worker_rec). Whoever unlinks it sets ok: true = "look for work again",
//   false = "leave" (and then does the exit accounting for it).
// - Idle workers leave when wait() returns, when the last errgroup handle is
//   dropped (orphaned_), or when they exceed the limit; until then they stay
//   parked (uncounted as live work) so that a burst of go() calls does not
//   pay a spawn per body.
// - Slots: a body holds one from submission until it finishes (pending_);
//   with limit_ >= 0, go_wait()ers park in slot_waiters_ while
//   pending_ >= limit_. Whoever lowers pending_ (body_done, on_down) hands
//   the freed slots to them in FIFO order: moves each one's body into queue_
//   (pending_ + 1) and wakes it; so slot_waiters_ is empty whenever a slot is
//   free. With limit_ == 0 no body can ever start: go, go_wait and
//   go_wait_blocking panic and try_go fails, so nothing pends and wait()
//   returns at once.
// - The first error and the context cancel: first_ is set once, and the
//   context is canceled under mtx_ in the same step, so no worker takes a new
//   body between the failure and the cancel (errgroup_cancel: at most the
//   bodies already running pass their ctx check afterwards). Lock order:
//   errgroup mtx_, then the context node's; a context cancel never calls
//   back into the group (after-funcs run in their own goroutines).
#include "rotina/errgroup.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "rotina/detail/group_wait.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

namespace {

/// `co_await` of a body: starts it on the worker's coroutine, resumes the
/// worker when it finishes.
class run_body {
public:
  explicit run_body(body_base* b) noexcept : b_(b) {
    // nop
  }

  bool await_ready() const noexcept {
    return false;
  }

  std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) noexcept {
    auto next = b_->start(h);
    return next ? next : h;
  }

  void await_resume() const noexcept {
    // nop
  }

private:
  body_base* b_;
};

/// `co_await` of a worker's next step.
class next_step {
public:
  next_step(errgroup_state* st, errgroup_state::worker_rec* rec,
            std::unique_ptr<body_base>* out) noexcept
    : st_(st), rec_(rec), out_(out) {
    // nop
  }

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    result_ = st_->next(rec_, *out_, &w_, h, &cancel, this);
    return result_ == errgroup_state::step::retry && w_.who != nullptr;
  }

  errgroup_state::step await_resume() const noexcept {
    if (w_.who != nullptr) // parked: the waker decided
      return w_.ok ? errgroup_state::step::retry : errgroup_state::step::exit;
    return result_;
  }

private:
  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<next_step*>(ptr);
    return self->st_->withdraw(&self->w_);
  }

  errgroup_state* st_;
  errgroup_state::worker_rec* rec_;
  std::unique_ptr<body_base>* out_;
  waiter w_;
  errgroup_state::step result_ = errgroup_state::step::exit;
};

task<> worker_loop(std::shared_ptr<errgroup_state> st,
                   errgroup_state::worker_rec* rec) {
  std::unique_ptr<body_base> b;
  for (;;) {
    auto s = co_await next_step{st.get(), rec, &b};
    if (s == errgroup_state::step::exit)
      co_return;
    if (s == errgroup_state::step::retry)
      continue;
    co_await run_body{b.get()};
    auto outcome = b->outcome();
    b.reset(); // destroys the body before it counts as done
    st->body_done(rec, std::move(outcome));
  }
}

/// A body can never start: Go's Go blocks for ever here, rotina refuses.
error misuse_zero_limit(const char* what) {
  return error{errc::misuse,
               std::string{"errgroup: "} + what
                 + " with limit 0: set_limit(0) prevents any new goroutine "
                   "from being added (Go's Go would block for ever)"};
}

error misuse_limit(size_t active) {
  return error{errc::misuse, "errgroup: modify limit while "
                               + std::to_string(active)
                               + " goroutines in the group are still active"};
}

} // namespace

// -- submitting ---------------------------------------------------------------

errgroup_state::worker_rec* errgroup_state::reserve_worker_locked() {
  ++workers_;
  recs_.emplace_front();
  return &recs_.front();
}

void errgroup_state::spawn_worker(worker_rec* rec) {
  caf::actor sup;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    sup = link_.acquire(*rt_, shared_from_this());
  }
  auto g
    = spawn_goroutine(rt_, make_body(&worker_loop, shared_from_this(), rec), {},
                      [](const error&) {});
  {
    std::lock_guard<std::mutex> guard{mtx_};
    rec->id = g.id();
    rec->addr = g.address();
    for (auto i = recs_.begin(); i != recs_.end(); ++i)
      if (&*i == rec) {
        index_.emplace(g.id(), i);
        break;
      }
  }
  supervise(sup, g);
}

void errgroup_state::go(std::unique_ptr<body_base> b) {
  submit(b, false);
}

bool errgroup_state::try_go(std::unique_ptr<body_base>& b) {
  return submit(b, true);
}

void errgroup_state::check_not_zero_limit_locked(const char* what) const {
  if (limit_ == 0)
    throw panic_error{misuse_zero_limit(what)};
}

runtime& errgroup_state::runtime_for(const char* what) {
  std::lock_guard<std::mutex> guard{mtx_};
  ensure_runtime_locked(what);
  return *rt_;
}

void errgroup_state::ensure_runtime_locked(const char* what) {
  if (rt_ != nullptr)
    return;
  rt_ = current_runtime();
  if (rt_ == nullptr)
    throw panic_error{error{
      errc::misuse, std::string{"rotina::errgroup::"} + what
                      + " on an errgroup without a runtime: construct it with "
                        "errgroup{rt} or call it in a goroutine"}};
}

errgroup_state::worker_rec*
errgroup_state::enqueue_locked(std::unique_ptr<body_base> b, wake_list& wakes) {
  queue_.emplace_back(std::move(b));
  ++pending_;
  if (auto w = idle_.pop_front()) {
    w->ok = true;
    w->completed = true;
    wakes.add(w);
    return nullptr;
  }
  if (limit_ < 0 || workers_ < static_cast<size_t>(limit_))
    return reserve_worker_locked();
  return nullptr;
}

bool errgroup_state::submit(std::unique_ptr<body_base>& b, bool only_if_free) {
  worker_rec* rec = nullptr;
  {
    wake_list wakes;
    std::lock_guard<std::mutex> guard{mtx_};
    if (only_if_free && (!slot_free_locked() || !slot_waiters_.empty()))
      return false; // also with limit 0: Go's TryGo reports false
    check_not_zero_limit_locked("go");
    ensure_runtime_locked("go");
    rec = enqueue_locked(std::move(b), wakes);
  }
  if (rec != nullptr)
    spawn_worker(rec);
  return true;
}

bool errgroup_state::go_wait(std::unique_ptr<body_base>& b, waiter* w,
                             std::coroutine_handle<> h, cancel_fn fn,
                             void* ctx) {
  worker_rec* rec = nullptr;
  {
    wake_list wakes;
    std::lock_guard<std::mutex> guard{mtx_};
    check_not_zero_limit_locked("go_wait");
    ensure_runtime_locked("go_wait");
    if (!slot_free_locked() || !slot_waiters_.empty()) {
      w->who = park_current(h, fn, ctx);
      w->slot = &b;
      slot_waiters_.push_back(w);
      return true;
    }
    rec = enqueue_locked(std::move(b), wakes);
  }
  if (rec != nullptr)
    spawn_worker(rec);
  return false;
}

void errgroup_state::go_wait_thread(std::unique_ptr<body_base> b) {
  if (on_scheduler_worker()) {
    // Aborts, as wait() does: blocking the worker could keep the very bodies
    // that would free a slot from running.
    std::fputs("rotina: errgroup::go_wait_blocking called inside a "
               "goroutine; write `co_await g.go_wait(f)`\n",
               stderr);
    std::abort();
  }
  thread_parker parker;
  waiter w;
  worker_rec* rec = nullptr;
  {
    wake_list wakes;
    std::lock_guard<std::mutex> guard{mtx_};
    check_not_zero_limit_locked("go_wait_blocking");
    ensure_runtime_locked("go_wait_blocking");
    if (!slot_free_locked() || !slot_waiters_.empty()) {
      w.who = &parker;
      w.slot = &b;
      slot_waiters_.push_back(&w);
    } else {
      rec = enqueue_locked(std::move(b), wakes);
    }
  }
  if (rec != nullptr) {
    spawn_worker(rec);
    return;
  }
  if (w.who == nullptr)
    return;
  parker.wait();
  // The waker completed `w` (and took the body) under mtx_; taking it once
  // more orders our return after its last touch of `w`.
  std::lock_guard<std::mutex> guard{mtx_};
}

void errgroup_state::admit_locked(wake_list& wakes) {
  while (slot_free_locked()) {
    auto w = slot_waiters_.pop_front();
    if (w == nullptr)
      return;
    auto& body = *static_cast<std::unique_ptr<body_base>*>(w->slot);
    // The worker that lowered pending_, or the spare that on_down spawns for
    // a non-empty queue, runs it.
    queue_.emplace_back(std::move(body));
    ++pending_;
    w->ok = true;
    w->completed = true;
    wakes.add(w);
  }
}

bool errgroup_state::drop_slot_waiters_locked(wake_list& wakes) {
  bool first = false;
  while (auto w = slot_waiters_.pop_front()) {
    first |= record_locked(
      error{errc::killed, "errgroup body dropped: runtime shut down"});
    w->ok = false;
    w->completed = true;
    wakes.add(w);
  }
  return first;
}

void errgroup_state::set_limit(int64_t n) {
  wake_list wakes;
  std::lock_guard<std::mutex> guard{mtx_};
  if (pending_ > 0)
    throw panic_error{misuse_limit(pending_)};
  limit_ = n < 0 ? -1 : n;
  if (limit_ >= 0 && workers_ > static_cast<size_t>(limit_))
    retire_locked(workers_ - static_cast<size_t>(limit_), wakes);
}

// -- workers ------------------------------------------------------------------

errgroup_state::step
errgroup_state::next_locked(worker_rec* rec, std::unique_ptr<body_base>& out) {
  if (limit_ >= 0 && workers_ > static_cast<size_t>(limit_)) {
    --workers_;
    rec->exited = true;
    return step::exit;
  }
  if (!queue_.empty()) {
    out = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    rec->busy = true;
    return step::run;
  }
  if (orphaned_) {
    --workers_;
    rec->exited = true;
    return step::exit;
  }
  return step::retry; // the caller parks
}

errgroup_state::step errgroup_state::next(worker_rec* rec,
                                          std::unique_ptr<body_base>& out,
                                          waiter* w, std::coroutine_handle<> h,
                                          cancel_fn fn, void* ctx) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto s = next_locked(rec, out);
  if (s == step::retry) {
    w->who = park_current(h, fn, ctx);
    w->slot = rec;
    idle_.push_back(w);
  }
  return s;
}

void errgroup_state::body_done(worker_rec* rec, error outcome) {
  {
    wake_list wakes;
    std::lock_guard<std::mutex> guard{mtx_};
    rec->busy = false;
    --running_;
    --pending_;
    if (outcome && record_locked(outcome) && has_cancel_)
      cancel_(first_);   // under the lock: no worker starts a body before it
    admit_locked(wakes); // this worker takes the admitted body next
    check_idle_locked(wakes);
  }
}

bool errgroup_state::record_locked(const error& e) {
  all_.push_back(e);
  if (first_)
    return false;
  first_ = e;
  return true;
}

void errgroup_state::check_idle_locked(wake_list& wakes) {
  if (pending_ != 0)
    return;
  while (auto w = waiters_.pop_front()) {
    w->ok = true;
    w->completed = true;
    wakes.add(w);
  }
}

void errgroup_state::retire_locked(size_t n, wake_list& wakes) {
  while (n > 0) {
    auto w = idle_.pop_front();
    if (w == nullptr)
      return;
    auto rec = static_cast<worker_rec*>(w->slot);
    rec->exited = true;
    --workers_;
    --n;
    w->ok = false;
    w->completed = true;
    wakes.add(w);
  }
}

// -- waiting ------------------------------------------------------------------

bool errgroup_state::wait_goroutine(waiter* w, std::coroutine_handle<> h,
                                    cancel_fn fn, void* ctx) {
  return group_wait_goroutine(
    mtx_, waiters_, [this] { return pending_ == 0; }, w, h, fn, ctx);
}

void errgroup_state::wait_thread() noexcept {
  group_wait_thread(mtx_, waiters_, [this] { return pending_ == 0; });
}

bool errgroup_state::withdraw(waiter* w) noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  if (w->list != nullptr)
    w->list->unlink(w);
  return w->completed;
}

error errgroup_state::finish_wait() {
  error err;
  {
    wake_list wakes;
    std::lock_guard<std::mutex> guard{mtx_};
    err = first_;
    if (pending_ == 0)
      retire_locked(workers_, wakes);
  }
  if (has_cancel_)
    cancel_(err);
  return err;
}

std::vector<error> errgroup_state::all_errors() {
  std::lock_guard<std::mutex> guard{mtx_};
  return all_;
}

void errgroup_state::orphan() {
  wake_list wakes;
  std::lock_guard<std::mutex> guard{mtx_};
  orphaned_ = true;
  retire_locked(workers_, wakes);
}

std::vector<caf::actor> errgroup_state::workers() {
  std::vector<caf::actor> result;
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& rec : recs_)
    if (!rec.exited)
      if (auto g = caf::actor_cast<caf::actor>(rec.addr))
        result.emplace_back(std::move(g));
  return result;
}

caf::actor errgroup_state::supervisor() {
  std::lock_guard<std::mutex> guard{mtx_};
  return link_.get();
}

// -- supervision --------------------------------------------------------------

void errgroup_state::on_down(caf::actor_id who, error outcome, bool shutdown) {
  caf::actor drop;
  std::deque<std::unique_ptr<body_base>> dropped;
  worker_rec* spare = nullptr;
  bool first = false;
  {
    wake_list wakes;
    std::lock_guard<std::mutex> guard{mtx_};
    drop = link_.release();
    auto i = index_.find(who);
    if (i == index_.end())
      return;
    auto rec = i->second;
    if (!rec->exited) {
      // The worker's actor ended without leaving: it was killed.
      --workers_;
      if (!outcome)
        outcome = error{errc::killed, "errgroup worker ended unexpectedly"};
      if (rec->busy) {
        --running_;
        --pending_;
        first = record_locked(
          outcome.with_origin("errgroup worker " + std::to_string(who)));
      }
      if (shutdown) {
        // The runtime is going away: queued bodies will never run.
        dropped.swap(queue_);
        for (size_t k = 0; k < dropped.size(); ++k) {
          --pending_;
          first |= record_locked(
            error{errc::killed, "errgroup body dropped: runtime shut down"});
        }
        first |= drop_slot_waiters_locked(wakes);
      } else {
        admit_locked(wakes); // the freed slot goes to a go_wait()er
        if (!queue_.empty()
            && (limit_ < 0 || workers_ < static_cast<size_t>(limit_)))
          spare = reserve_worker_locked();
      }
      if (first && has_cancel_)
        cancel_(first_);
      check_idle_locked(wakes);
    }
    index_.erase(i);
    recs_.erase(rec);
  }
  if (spare != nullptr)
    spawn_worker(spare);
}

} // namespace rotina::detail

namespace rotina {

errgroup::errgroup(runtime* rt)
  : owner_(std::make_shared<detail::errgroup_owner>(
    std::make_shared<detail::errgroup_state>(rt))) {
  // nop
}

std::pair<errgroup, context> errgroup::with_context(runtime& rt,
                                                    const context& parent) {
  errgroup g{rt};
  auto [ctx, cancel] = detail::with_cancel_cause_in(parent, &rt);
  g.st()->set_cancel(std::move(cancel));
  return {std::move(g), std::move(ctx)};
}

} // namespace rotina
