// goroutine_env: the goroutine layer's per-runtime state, a runtime
// extension (see actors/rotina/detail/goroutine_env.hpp).
#include "rotina/detail/goroutine_env.hpp"

#include <thread>
#include <vector>

#include "goroutine_actor.hpp"

namespace rotina::detail {

// -- goroutine_env ------------------------------------------------------------

goroutine_env::goroutine_env(runtime& rt) : rt_(&rt) {
  // nop
}

namespace {

size_t env_slot() {
  static const size_t slot = runtime::new_extension_slot();
  return slot;
}

std::shared_ptr<runtime_extension> make_env(runtime& rt) {
  return std::make_shared<goroutine_env>(rt);
}

} // namespace

goroutine_env& goroutine_env::of(runtime& rt) {
  return static_cast<goroutine_env&>(rt.extension(env_slot(), make_env));
}

goroutine_env* goroutine_env::find(runtime& rt) noexcept {
  return static_cast<goroutine_env*>(rt.find_extension(env_slot()));
}

void goroutine_env::link(goroutine_actor* g) {
  // Spread by actor id: consecutive spawns land on different shards.
  auto& shard = shards_[g->id() % num_shards];
  std::lock_guard<spinlock> guard{shard.lock};
  g->live_prev_ = nullptr;
  g->live_next_ = shard.head;
  if (shard.head != nullptr)
    shard.head->live_prev_ = g;
  shard.head = g;
}

void goroutine_env::add(goroutine_actor* g) {
  link(g);
  live_count_.fetch_add(1, std::memory_order_relaxed);
}

void goroutine_env::bind_pending(goroutine_actor* g) {
  // Linked before it leaves pending_, so the idle check sees it in one of
  // the two.
  link(g);
  pending_.fetch_sub(1, std::memory_order_seq_cst);
}

void goroutine_env::remove(goroutine_actor* g) {
  auto& shard = shards_[g->id() % num_shards];
  std::lock_guard<spinlock> guard{shard.lock};
  if (g->live_prev_ != nullptr)
    g->live_prev_->live_next_ = g->live_next_;
  else
    shard.head = g->live_next_;
  if (g->live_next_ != nullptr)
    g->live_next_->live_prev_ = g->live_prev_;
  g->live_prev_ = g->live_next_ = nullptr;
  live_count_.fetch_sub(1, std::memory_order_relaxed);
}

bool goroutine_env::pool_put(goroutine_actor* g) noexcept {
  std::lock_guard<spinlock> guard{pool_lock_};
  if (pool_closed_ || pool_size_ == pool_capacity)
    return false;
  pool_[pool_size_++] = g;
  return true;
}

goroutine_actor* goroutine_env::pool_get() noexcept {
  std::lock_guard<spinlock> guard{pool_lock_};
  if (pool_size_ == 0)
    return nullptr;
  return pool_[--pool_size_];
}

template <class F>
void goroutine_env::for_each_live(F f) {
  for (auto& shard : shards_) {
    std::lock_guard<spinlock> guard{shard.lock};
    for (auto g = shard.head; g != nullptr; g = g->live_next_)
      if (!f(g))
        return;
  }
}

bool goroutine_env::start_timer(std::shared_ptr<timer_entry> e,
                                timer_clock::time_point when) {
  rt_->work_started();
  timers_pending_.fetch_add(1, std::memory_order_acq_rel);
  if (rt_->timers().schedule(std::move(e), when))
    return true;
  timer_done();
  return false;
}

void goroutine_env::timer_done() {
  timers_pending_.fetch_sub(1, std::memory_order_acq_rel);
  rt_->work_finished();
}

uint64_t goroutine_env::asleep_signature() {
  // Every live goroutine parked, none pending (queued without an actor) and
  // no timer pending: returns the sum of their wake counts plus one; else 0.
  if (timers_pending_.load(std::memory_order_acquire) > 0
      || pending_.load(std::memory_order_seq_cst) > 0)
    return 0;
  uint64_t sum = 1;
  bool asleep = true;
  for_each_live([&](goroutine_actor* g) {
    asleep = g->asleep();
    sum += g->wakes();
    return asleep;
  });
  return asleep ? sum : 0;
}

bool goroutine_env::idle() {
  // Two scans that both see everything asleep with no wake in between mean
  // nothing in this runtime can wake anything any more.
  auto first = asleep_signature();
  if (first == 0)
    return false;
  std::this_thread::sleep_for(std::chrono::milliseconds{1});
  return asleep_signature() == first;
}

bool goroutine_env::on_calling_thread() const noexcept {
  return tl_current != nullptr && &tl_current->env() == this;
}

void goroutine_env::describe_running(std::string& out) {
  size_t others = pending_.load(std::memory_order_relaxed);
  for_each_live([&](goroutine_actor* g) {
    if (g->running())
      out += "  goroutine " + g->describe() + " is still running\n";
    else
      ++others;
    return true;
  });
  if (others > 0)
    out += "  (and " + std::to_string(others)
           + " other live goroutine(s) waiting to run)\n";
}

void goroutine_env::cancel() {
  std::vector<caf::actor> victims;
  // Goroutines added after this store see it when they start and quit.
  canceled_.store(true, std::memory_order_seq_cst);
  {
    // Pooled actors run nothing: end them too (and keep no more).
    std::lock_guard<spinlock> guard{pool_lock_};
    pool_closed_ = true;
    for (size_t i = 0; i < pool_size_; ++i)
      victims.emplace_back(caf::actor_cast<caf::actor>(pool_[i]));
    pool_size_ = 0;
  }
  for_each_live([&](goroutine_actor* g) {
    victims.emplace_back(caf::actor_cast<caf::actor>(g));
    return true;
  });
  for (auto& v : victims)
    caf::anon_send_exit(v, caf::exit_reason::user_shutdown);
}

} // namespace rotina::detail
