// go_on: goroutines started on other nodes by name (docs/distribution.md,
// "Remote goroutines").
//
// Protocol (caller C, target node N):
//   C's watcher -> N's agent:   lookup("rotina.spawner") -> remote_handle
//                               (once per node incarnation; cached)
//   C's watcher -> N's spawner: go_on(name, [wire type names], args)
//                               -> (goroutine actor, load, seq) | error
//   N's goroutine -> watcher:   go_done(exit reason, load, seq), sent by the
//                               goroutine's exit hook however it ended
//   C (place) -> N's spawner:   go_load -> (load, seq)
// load = N's live goroutines; seq numbers N's reports, so that C keeps the
// newest when answers to different actors overtake each other.
// Both requests are bounded by rotina.request-timeout; while the body runs
// C waits on nothing but the node watch (runtime::on_node_down), so a lost N
// fails the call with node_down within the failure-detection bound.
//
// Invariants:
// - A remote_call completes exactly once (first of: go_done, a refusal or
//   timeout of a request, the node watch, the runtime's cancel). Completion
//   wakes every waiter, cancels the node watch and ends the watcher.
// - The watcher is kept alive by its remote_call (watcher_) until completion,
//   and holds the call: the cycle ends at completion, which always comes
//   (every wait is bounded by a request timeout or by the node watch).
// - Only names in the registry can be started: the spawner checks the name
//   and the argument types' wire names before it converts any argument, and
//   serves only this node and handshaken peers. CAF's spawn server is never
//   used.
// - The registry is process-wide, guarded by its mutex; a runtime publishes
//   its spawner at start if anything was registered by then.
#include "rotina/go_on.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <unordered_map>

#include <caf/all.hpp>

#include "rotina/detail/group_wait.hpp"

namespace rotina::detail {

namespace {

using go_on_atom = caf::atom_constant<caf::atom("rt_goon")>;
using go_done_atom = caf::atom_constant<caf::atom("rt_godone")>;
using go_load_atom = caf::atom_constant<caf::atom("rt_goload")>;

/// The node agent's directory lookup (runtime/src/node_layer.cpp).
using lookup_atom = caf::atom_constant<caf::atom("rt_lookup")>;

constexpr const char* spawner_name = "rotina.spawner";

// -- the registry
// ---------------------------------------------------------------

struct entry {
  std::vector<std::string> types;
  go_on_factory make;
};

std::mutex& registry_mtx() {
  static std::mutex mtx;
  return mtx;
}

std::map<std::string, entry>& registry_locked() {
  static std::map<std::string, entry> xs;
  return xs;
}

std::string type_list(const std::vector<std::string>& xs) {
  std::string result = "(";
  for (size_t i = 0; i < xs.size(); ++i)
    result += (i > 0 ? ", " : "") + xs[i];
  return result + ")";
}

std::string in_quotes(const std::string& name) {
  return "\"" + name + "\"";
}

void start_hook(runtime& rt);

// -- the per-runtime state
// --------------------------------------------------------

class go_on_env final : public runtime_extension {
public:
  explicit go_on_env(runtime& rt) : rt_(rt) {
    // nop
  }

  static go_on_env& of(runtime& rt);

  runtime& rt() noexcept {
    return rt_;
  }

  void cancel() override {
    std::vector<std::shared_ptr<remote_call>> calls;
    caf::actor spawner;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      canceled_ = true;
      for (auto& w : calls_)
        if (auto st = w.lock())
          calls.push_back(std::move(st));
      calls_.clear();
      spawner = std::move(spawner_);
      spawners_.clear();
    }
    for (auto& st : calls)
      st->complete(error{errc::killed, "go_on " + in_quotes(st->name())
                                         + " on node '" + st->where().name
                                         + "': this runtime shut down"});
    if (spawner)
      caf::anon_send_exit(spawner, caf::exit_reason::user_shutdown);
    // Let the watchers handle their exit while the scheduler still runs: one
    // left unscheduled when the actor system stops would leak with its call.
    std::unique_lock<std::mutex> guard{mtx_};
    gone_.wait_for(guard, std::chrono::seconds{2},
                   [this] { return watchers_ == 0; });
  }

  /// Counts a watcher actor until it terminated.
  void watch_watcher(const caf::actor& watcher) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ++watchers_;
    }
    caf::actor_cast<caf::abstract_actor*>(watcher)->attach_functor(
      [this](const caf::error&) {
        std::lock_guard<std::mutex> guard{mtx_};
        if (--watchers_ == 0)
          gone_.notify_all();
      });
  }

  bool idle() override {
    return true; // waits only on other nodes
  }

  bool on_calling_thread() const noexcept override {
    return false;
  }

  void describe_running(std::string& out) override {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& w : calls_)
      if (auto st = w.lock(); st && !st->done())
        out += "  go_on " + in_quotes(st->name()) + " on node '"
               + st->where().name + "' (waiting for its end)\n";
  }

  /// Registers a live call; false once canceled.
  bool add(const std::shared_ptr<remote_call>& st) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (canceled_)
      return false;
    if (calls_.size() >= prune_at_) {
      calls_.erase(std::remove_if(calls_.begin(), calls_.end(),
                                  [](auto& w) {
                                    auto x = w.lock();
                                    return x == nullptr || x->done();
                                  }),
                   calls_.end());
      prune_at_ = std::max<size_t>(64, calls_.size() * 2);
    }
    calls_.push_back(st);
    return true;
  }

  caf::actor cached_spawner(const node& n) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (n == rt_.self())
      return spawner_;
    if (auto i = spawners_.find(n); i != spawners_.end())
      return i->second;
    return {};
  }

  void cache_spawner(const node& n, caf::actor x) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!canceled_)
      spawners_[n] = std::move(x);
  }

  void forget_spawner(const node& n) {
    std::lock_guard<std::mutex> guard{mtx_};
    spawners_.erase(n);
    loads_.erase(n);
  }

  void set_spawner(caf::actor x) {
    std::lock_guard<std::mutex> guard{mtx_};
    spawner_ = std::move(x);
  }

  // -- placement --

  node place();

  /// A go_on to `n` started: one more live call there (consumes one
  /// placement made for it, if any).
  void call_started(const node& n) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& x = loads_[n];
    if (x.pending > 0)
      --x.pending;
    ++x.live;
  }

  /// A go_on to `n` completed.
  void call_ended(const node& n) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = loads_.find(n); i != loads_.end() && i->second.live > 0)
      --i->second.live;
  }

  /// Records the load `n` reported as its `seq`-th report; older reports
  /// (answers overtaken by later ones) are ignored.
  void report_load(const node& n, uint64_t load, uint64_t seq) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& x = loads_[n];
    if (x.known && seq <= x.seq)
      return;
    x.seq = seq;
    x.reported = load;
    x.known = true;
  }

  uint64_t load_of(const node& n) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = loads_.find(n);
    return i == loads_.end() ? 0 : i->second.estimate();
  }

private:
  struct load_info {
    uint64_t reported = 0;
    uint64_t seq = 0;
    /// This node's calls there that have not completed: a lower bound of
    /// the node's live goroutines that no late report can undercut.
    uint64_t live = 0;
    /// Placements made by place() whose go_on did not start yet.
    uint64_t pending = 0;
    bool known = false;

    uint64_t estimate() const noexcept {
      return std::max(reported, live) + pending;
    }

    std::chrono::steady_clock::time_point asked;
  };

  void refresh_loads(const std::vector<node>& peers);

  runtime& rt_;
  std::mutex mtx_;
  bool canceled_ = false;
  std::vector<std::weak_ptr<remote_call>> calls_;
  size_t prune_at_ = 64;
  caf::actor spawner_;
  std::unordered_map<node, caf::actor> spawners_;
  std::unordered_map<node, load_info> loads_;
  uint64_t next_ = 0;
  /// Watcher actors not terminated yet, and their last one's signal.
  size_t watchers_ = 0;
  std::condition_variable gone_;
};

size_t env_slot() {
  static const size_t slot = runtime::new_extension_slot();
  return slot;
}

std::shared_ptr<runtime_extension> make_env(runtime& rt) {
  return std::make_shared<go_on_env>(rt);
}

go_on_env& go_on_env::of(runtime& rt) {
  return static_cast<go_on_env&>(rt.extension(env_slot(), make_env));
}

uint64_t local_load(runtime& rt) {
  return num_goroutine(rt);
}

/// Numbers this process's load reports, so that a caller can drop a report
/// that an earlier-sent one overtook.
uint64_t next_report_seq() {
  static std::atomic<uint64_t> seq{0};
  return seq.fetch_add(1, std::memory_order_relaxed) + 1;
}

// -- the spawner (target side)
// ------------------------------------------------------

/// Whether `sender` is this node or a handshaken peer.
bool may_spawn(runtime& rt, const caf::strong_actor_ptr& sender) {
  if (sender == nullptr)
    return false;
  if (sender->node() == rt.system().node())
    return true;
  return rt.node_of(sender->node()).has_value();
}

caf::behavior spawner_actor(caf::event_based_actor* self, runtime* rt) {
  return {
    [self,
     rt](go_on_atom, const std::string& name,
         const std::vector<std::string>& types,
         caf::message& args) -> caf::result<caf::actor, uint64_t, uint64_t> {
      auto here = "node '" + rt->self().name + "'";
      auto sender = self->current_sender();
      if (!may_spawn(*rt, sender))
        return to_caf_error(
          error{errc::misuse, "go_on " + in_quotes(name) + ": " + here
                                + " starts goroutines only for connected "
                                  "peers"});
      go_on_factory make;
      {
        std::lock_guard<std::mutex> guard{registry_mtx()};
        auto& reg = registry_locked();
        auto i = reg.find(name);
        if (i == reg.end()) {
          std::string have;
          for (auto& [key, value] : reg)
            have += (have.empty() ? "" : ", ") + key + type_list(value.types);
          return to_caf_error(error{
            errc::not_found, here + " has no goroutine " + in_quotes(name)
                               + " registered (registered: [" + have + "])"});
        }
        if (i->second.types != types)
          return to_caf_error(error{
            errc::type_mismatch, "goroutine " + in_quotes(name) + " on " + here
                                   + " takes " + type_list(i->second.types)
                                   + ", the call passed " + type_list(types)});
        make = i->second.make;
      }
      std::unique_ptr<body_base> body;
      try {
        body = make(*rt, args);
      } catch (const panic_error& ex) {
        auto e = ex.err();
        return to_caf_error(error{e.code(), "go_on " + in_quotes(name) + " on "
                                              + here + ": " + e.message()});
      } catch (const std::exception& ex) {
        return to_caf_error(
          error{errc::type_mismatch,
                "go_on " + in_quotes(name) + " on " + here + ": " + ex.what()});
      }
      auto watcher = caf::actor_cast<caf::actor>(sender);
      go_options opts;
      opts.name = in_quotes(name) + " on " + here;
      auto hook = [watcher, rt](const error& err) {
        caf::anon_send(watcher, go_done_atom::value, to_caf_error(err),
                       local_load(*rt), next_report_seq());
      };
      try {
        auto g = spawn_goroutine(rt, std::move(body), std::move(opts),
                                 std::move(hook));
        return {std::move(g), local_load(*rt), next_report_seq()};
      } catch (const panic_error& ex) {
        return to_caf_error(error{errc::killed, "go_on " + in_quotes(name)
                                                  + " on " + here + ": "
                                                  + ex.err().message()});
      }
    },
    [rt](go_load_atom) -> caf::result<uint64_t, uint64_t> {
      return {local_load(*rt), next_report_seq()};
    },
  };
}

void start_hook(runtime& rt) {
  {
    std::lock_guard<std::mutex> guard{registry_mtx()};
    if (registry_locked().empty())
      return;
  }
  if (!rt.agent())
    return; // not a node: nobody could reach the spawner
  auto& env = go_on_env::of(rt);
  auto spawner = rt.system().spawn<caf::hidden>(spawner_actor, &rt);
  env.set_spawner(spawner);
  remote_handle h;
  h.kind = "spawner";
  h.actor = spawner;
  h.owner = rt.self().name;
  h.incarnation = rt.self().incarnation;
  rt.publish_handle(spawner_name, std::move(h));
}

// -- the watcher (caller side)
// ------------------------------------------------------

error request_failure(const go_on_call& call, const caf::error& err,
                      caf::timespan timeout, const char* what) {
  if (err == caf::sec::request_timeout)
    return error{
      errc::node_down,
      "go_on " + in_quotes(call.name) + ": node '" + call.where.name
        + "' did not answer the " + what + " within "
        + std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(timeout)
            .count())
        + " ms"};
  auto e = from_caf_error(err);
  if (e.code() == errc::node_down)
    return error{errc::node_down, "go_on " + in_quotes(call.name) + ": node '"
                                    + call.where.name
                                    + "' was lost: " + e.message()};
  return e;
}

void send_spawn(caf::event_based_actor* self, std::shared_ptr<remote_call> st,
                go_on_env* env, const go_on_call& call,
                const caf::actor& spawner) {
  auto timeout = env->rt().request_timeout();
  self
    ->request(spawner, timeout, go_on_atom::value, call.name, call.types,
              call.args)
    .then(
      [env, call](const caf::actor&, uint64_t load, uint64_t seq) {
        env->report_load(call.where, load, seq);
      },
      [self, st, call, timeout](caf::error& err) {
        st->complete(request_failure(call, err, timeout, "spawn request"));
        self->quit();
      });
}

caf::behavior watcher_actor(caf::event_based_actor* self,
                            std::shared_ptr<remote_call> st, go_on_env* env,
                            go_on_call call) {
  auto& rt = env->rt();
  if (auto spawner = env->cached_spawner(call.where)) {
    send_spawn(self, st, env, call, spawner);
  } else if (call.where == rt.self()) {
    st->complete(error{errc::not_found,
                       "node '" + call.where.name + "' has no goroutine "
                         + in_quotes(call.name)
                         + ": it registers no goroutines (call "
                           "rotina::register_goroutine before its runtime "
                           "starts)"});
    return {};
  } else {
    auto agent = rt.agent_of(call.where);
    if (!agent) {
      st->complete(error{errc::node_down, "go_on " + in_quotes(call.name)
                                            + ": node " + call.where.to_string()
                                            + " is not connected"});
      return {};
    }
    auto timeout = rt.request_timeout();
    self->request(agent, timeout, lookup_atom::value, std::string{spawner_name})
      .then(
        [self, st, env, call](remote_handle& h) {
          if (st->done())
            return;
          env->cache_spawner(call.where, h.actor);
          send_spawn(self, st, env, call, h.actor);
        },
        [self, st, call, timeout](caf::error& err) {
          auto e = from_caf_error(err);
          if (e.code() == errc::not_found)
            e = error{errc::not_found,
                      "node '" + call.where.name + "' has no goroutine "
                        + in_quotes(call.name)
                        + ": it registers no goroutines (call "
                          "rotina::register_goroutine there before its "
                          "runtime starts)"};
          else
            e = request_failure(call, err, timeout, "spawner lookup");
          st->complete(std::move(e));
          self->quit();
        });
  }
  return {
    [self, st, env, call](go_done_atom, const caf::error& reason, uint64_t load,
                          uint64_t seq) {
      env->report_load(call.where, load, seq);
      st->complete(from_caf_error(reason));
      self->quit();
    },
  };
}

// -- placement
// ----------------------------------------------------------------------

node go_on_env::place() {
  auto peers = rt_.nodes();
  if (peers.empty())
    return rt_.self();
  if (rt_.config().placement != "least-loaded") {
    std::lock_guard<std::mutex> guard{mtx_};
    return peers[next_++ % peers.size()];
  }
  refresh_loads(peers);
  std::lock_guard<std::mutex> guard{mtx_};
  // Ties go round-robin, so equal loads still spread.
  size_t best = next_ % peers.size();
  uint64_t best_load = UINT64_MAX;
  for (size_t k = 0; k < peers.size(); ++k) {
    auto i = (next_ + k) % peers.size();
    auto& x = loads_[peers[i]];
    auto load = x.estimate();
    if (load < best_load) {
      best = i;
      best_load = load;
    }
  }
  ++next_;
  ++loads_[peers[best]].pending;
  return peers[best];
}

void go_on_env::refresh_loads(const std::vector<node>& peers) {
  // Asks each peer's spawner for its load at most every 50 ms, without
  // waiting: the answers arrive for later calls.
  using namespace std::chrono;
  auto now = steady_clock::now();
  std::vector<std::pair<node, caf::actor>> ask;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& p : peers) {
      auto& x = loads_[p];
      if (now - x.asked < 50ms)
        continue;
      x.asked = now;
      if (auto i = spawners_.find(p); i != spawners_.end())
        ask.emplace_back(p, i->second);
      else
        ask.emplace_back(p, caf::actor{});
    }
  }
  if (ask.empty() || !rt_.enter())
    return;
  auto timeout = rt_.request_timeout();
  for (auto& [peer, spawner] : ask) {
    auto agent = rt_.agent_of(peer);
    if (!spawner && !agent)
      continue;
    rt_.system().spawn<caf::hidden>([this, timeout, peer = peer,
                                     spawner = spawner,
                                     agent](caf::event_based_actor* self) {
      auto ask_load = [this, self, timeout, peer](const caf::actor& sp) {
        self->request(sp, timeout, go_load_atom::value)
          .then([this, peer](uint64_t load,
                             uint64_t seq) { report_load(peer, load, seq); },
                [](caf::error&) {});
      };
      if (spawner) {
        ask_load(spawner);
        return;
      }
      self
        ->request(agent, timeout, lookup_atom::value, std::string{spawner_name})
        .then(
          [this, peer, ask_load](remote_handle& h) {
            cache_spawner(peer, h.actor);
            ask_load(h.actor);
          },
          [](caf::error&) {});
    });
  }
  rt_.leave();
}

} // namespace

// -- registration
// -------------------------------------------------------------------

void register_goroutine_impl(std::string name,
                             std::vector<std::string> arg_types,
                             go_on_factory make, int bad_arg,
                             const char* bad_type) {
  if (name.empty())
    throw panic_error{
      error{errc::misuse, "rotina::register_goroutine: empty name"}};
  if (bad_arg >= 0)
    throw panic_error{error{
      errc::misuse,
      "rotina::register_goroutine(" + in_quotes(name) + "): argument "
        + std::to_string(bad_arg + 1) + " (" + bad_type
        + ") cannot cross nodes: use a CAF built-in type, a type registered "
          "with rotina::register_type, or a channel of one"}};
  {
    std::lock_guard<std::mutex> guard{registry_mtx()};
    auto& reg = registry_locked();
    if (reg.count(name) > 0)
      throw panic_error{
        error{errc::misuse, "rotina::register_goroutine(" + in_quotes(name)
                              + "): the name is registered already"}};
    reg.emplace(std::move(name), entry{std::move(arg_types), std::move(make)});
  }
  runtime::add_start_hook(&start_hook);
}

void throw_bad_go_on_arg(const std::string& name, int bad, const char* type) {
  throw panic_error{error{
    errc::misuse,
    "rotina::go_on(" + in_quotes(name) + "): argument "
      + std::to_string(bad + 1) + " (" + type
      + ") cannot cross nodes: use a CAF built-in type, a type registered "
        "with rotina::register_type, or a channel of one"}};
}

// -- remote_call
// --------------------------------------------------------------------

bool remote_call::complete(error outcome, bool from_watch) {
  caf::actor watcher;
  node_watch token = 0;
  runtime* rt = nullptr;
  {
    wake_list wakes; // wakes after the lock is released
    std::lock_guard<std::mutex> guard{mtx_};
    if (done_)
      return false;
    done_ = true;
    outcome_ = std::move(outcome);
    while (auto w = waiters_.pop_front()) {
      w->completed = true;
      w->ok = true;
      wakes.add(w);
    }
    watcher = std::move(watcher_);
    token = std::exchange(watch_, 0);
    rt = rt_;
  }
  if (token != 0 && !from_watch && rt != nullptr)
    rt->cancel_node_watch(token);
  if (on_complete_)
    std::exchange(on_complete_, nullptr)();
  if (watcher)
    caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  return true;
}

bool remote_call::done() {
  std::lock_guard<std::mutex> guard{mtx_};
  return done_;
}

error remote_call::outcome() {
  std::lock_guard<std::mutex> guard{mtx_};
  return outcome_;
}

bool remote_call::wait_goroutine(waiter* w, std::coroutine_handle<> h,
                                 cancel_fn fn, void* ctx) {
  return group_wait_goroutine(
    mtx_, waiters_, [this] { return done_; }, w, h, fn, ctx);
}

void remote_call::wait_thread() noexcept {
  group_wait_thread(mtx_, waiters_, [this] { return done_; });
}

bool remote_call::withdraw(waiter* w) noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  if (w->list != nullptr)
    w->list->unlink(w);
  return w->completed;
}

void remote_call::set_watch(runtime* rt, node_watch token) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    rt_ = rt;
    if (!done_) {
      watch_ = token;
      return;
    }
  }
  if (token != 0)
    rt->cancel_node_watch(token);
}

void remote_call::set_watcher(caf::actor watcher) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!done_) {
      watcher_ = std::move(watcher);
      return;
    }
  }
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
}

// -- go_on
// --------------------------------------------------------------------------

std::shared_ptr<remote_call> go_on_impl(runtime& rt, go_on_call call) {
  auto& env = go_on_env::of(rt);
  auto st = std::make_shared<remote_call>(call.where, call.name);
  env.call_started(call.where);
  st->set_on_complete(
    [env = &env, where = call.where] { env->call_ended(where); });
  if (!env.add(st) || !rt.enter()) {
    st->complete(error{errc::killed, "go_on " + in_quotes(call.name)
                                       + ": the runtime is shutting down"});
    return st;
  }
  struct leave_guard {
    runtime* rt;
    ~leave_guard() {
      rt->leave();
    }
  } guard{&rt};
  if (call.where != rt.self()) {
    auto name = call.name;
    auto token = rt.on_node_down(
      call.where, [st, env = &env, name](const node& peer, const error& err) {
        env->forget_spawner(peer);
        st->complete(error{errc::node_down,
                           "node '" + peer.name + "' was lost while goroutine "
                             + in_quotes(name) + " ran there: " + err.message(),
                           in_quotes(name) + " on node '" + peer.name + "'"},
                     true);
      });
    st->set_watch(&rt, token);
    if (st->done())
      return st; // not connected: failed at once
  }
  auto watcher
    = rt.system().spawn<caf::hidden>(watcher_actor, st, &env, std::move(call));
  env.watch_watcher(watcher);
  st->set_watcher(std::move(watcher));
  return st;
}

task<error> run_go_on(go_on_call call) {
  auto& rt = require_current_runtime("rotina::go_on");
  remote_goroutine h{go_on_impl(rt, std::move(call))};
  co_return co_await h.wait();
}

} // namespace rotina::detail

namespace rotina {

std::vector<std::string> registered_goroutines() {
  std::vector<std::string> result;
  std::lock_guard<std::mutex> guard{detail::registry_mtx()};
  for (auto& [name, x] : detail::registry_locked())
    result.push_back(name + detail::type_list(x.types));
  return result;
}

node place(runtime& rt) {
  return detail::go_on_env::of(rt).place();
}

uint64_t reported_load(runtime& rt, const node& peer) {
  return detail::go_on_env::of(rt).load_of(peer);
}

} // namespace rotina
