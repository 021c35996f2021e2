// Invariants:
// - system_ is non-null from the end of construction until shutdown() has
//   run; shut_down_ is true exactly when system_ has been destroyed.
// - Once shutting_down_ is set (under mtx_), hooks_ is empty and every later
//   on_cancel() runs its hook immediately; so each hook runs exactly once.
// - live_work_ never wraps below zero: work_finished() aborts instead.

#include "rotina/runtime.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include <unistd.h>

#include <caf/actor_registry.hpp>
#include <caf/io/middleman.hpp>
#include <caf/logger.hpp>

#include "rotina/detail/node_layer.hpp"
#include "rotina/detail/scheduler.hpp"
#include "rotina/detail/timer_service.hpp"
#include "rotina/error.hpp"
#include "rotina/type_registry.hpp"

namespace rotina {

namespace {

std::mutex& start_hooks_mtx() {
  static std::mutex mtx;
  return mtx;
}

std::vector<void (*)(runtime&)>& start_hooks_locked() {
  static std::vector<void (*)(runtime&)> xs;
  return xs;
}

/// A copy, so that a hook may register hooks (for later runtimes).
std::vector<void (*)(runtime&)> start_hooks() {
  std::lock_guard<std::mutex> guard{start_hooks_mtx()};
  return start_hooks_locked();
}

void print_help(const char* program) {
  std::cout << "usage: " << (program != nullptr ? program : "program")
            << " [--config-file=PATH] [--section.key=value ...] "
               "[--dump-config] [--] [arguments]\n\n"
               "Without --config-file, the file named by ROTINA_CONFIG is "
               "read (if set).\n"
               "--key=value is short for --rotina.key=value.\n"
               "--dump-config prints every effective value with its origin "
               "and exits.\n\n"
               "keys:\n";
  std::string section;
  for (auto& key : config::known_keys()) {
    if (key.section != section) {
      section = key.section;
      std::cout << "  [" << section << "]\n";
    }
    std::cout << "    " << key.name << " = " << key.default_value << "\n"
              << "        " << key.meaning << " (" << key.type << ")\n";
  }
}

// An argument like --verbose or --latency-ms=100 belongs to the application:
// no section, and neither a key nor a near miss of one (so that a typo such
// as --listen-prot=1 or --threads=4 still fails with a did-you-mean).
bool is_application_flag(std::string_view arg) {
  auto body = arg.substr(2);
  if (body.substr(0, 4) == "caf#")
    return false;
  auto key = body.substr(0, body.find('='));
  if (key.empty() || key.find('.') != std::string_view::npos)
    return false;
  return !config::is_key_or_typo(key);
}

// Throws for "-section.key=value" and "-key=value" with one dash when they
// look meant for rotina; other single-dash arguments belong to the
// application.
void check_single_dash(std::string_view arg) {
  auto body = arg.substr(1);
  auto key = body.substr(0, body.find('='));
  auto dot = key.find('.');
  bool meant = false;
  if (dot != std::string_view::npos) {
    auto section = key.substr(0, dot);
    for (auto& x : config::known_keys())
      meant = meant || x.section == section;
  } else {
    meant = key.size() > 1 && config::is_key_or_typo(key);
  }
  if (meant)
    throw config_error("command line: '" + std::string{arg}
                       + "' has one dash; did you mean '-" + std::string{arg}
                       + "'?");
}

// Splits argv into options and arguments left for the application. Exits for
// --help; sets `dump` for --dump-config.
options parse_args(int argc, char** argv, std::vector<std::string>& remainder,
                   bool& dump) {
  options result;
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i] != nullptr ? argv[i] : "";
    if (only_positional || arg.substr(0, 2) != "--" || arg == "-") {
      if (arg == "-h" && !only_positional) {
        print_help(argv[0]);
        std::exit(0);
      }
      if (!only_positional && arg.size() > 1 && arg[0] == '-')
        check_single_dash(arg);
      remainder.emplace_back(arg);
    } else if (arg == "--") {
      only_positional = true;
    } else if (arg == "--help" || arg == "--long-help") {
      print_help(argv[0]);
      std::exit(0);
    } else if (arg == "--dump-config") {
      dump = true;
    } else if (arg.substr(0, 14) == "--config-file=") {
      result.config_file = std::string{arg.substr(14)};
      if (result.config_file.empty())
        throw config_error("command line: --config-file= needs a path");
    } else if (arg == "--config-file") {
      throw config_error("command line: expected '--config-file=PATH', got "
                         "'--config-file'");
    } else if (is_application_flag(arg)) {
      remainder.emplace_back(arg);
    } else {
      result.overrides.emplace_back(arg);
    }
  }
  if (result.config_file.empty())
    if (auto env = std::getenv("ROTINA_CONFIG"); env != nullptr && *env != 0)
      result.config_file = env;
  return result;
}

std::string default_node_name() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == 0)
    std::snprintf(host, sizeof(host), "localhost");
  return std::string{host} + "-" + std::to_string(getpid());
}

} // namespace

// -- constructors, destructors, and assignment operators ----------------------

runtime_extension::~runtime_extension() = default;

runtime& runtime_ref::get(const char* what) const {
  auto rt = lock();
  if (rt == nullptr)
    throw panic_error{
      error{errc::misuse,
            std::string{what} + ": the runtime was destroyed (or never set)"}};
  if (rt->is_shut_down())
    throw panic_error{
      error{errc::misuse, std::string{what} + ": the runtime was shut down"}};
  return *rt;
}

runtime::runtime(int argc, char** argv)
  : core_(std::make_shared<detail::runtime_core>()),
    timers_(std::make_unique<detail::timer_service>()) {
  try {
    std::vector<std::string> remainder;
    bool dump = false;
    auto opts = parse_args(argc, argv, remainder, dump);
    config_.load(opts);
    config_.remainder = std::move(remainder);
    if (dump) {
      config_.dump(std::cout);
      std::exit(0);
    }
    start();
  } catch (const config_error& err) {
    std::cerr << "rotina: " << err.what() << std::endl;
    std::exit(2);
  } catch (const node_error& err) {
    std::cerr << "rotina: " << err.what() << std::endl;
    std::exit(2);
  }
}

runtime::runtime(options opts)
  : core_(std::make_shared<detail::runtime_core>()),
    timers_(std::make_unique<detail::timer_service>()) {
  config_.load(opts);
  start();
}

runtime::~runtime() {
  shutdown();
  core_->rt.store(nullptr, std::memory_order_release);
}

void runtime::start() {
  bool named = !config_.node_name.empty();
  if (config_.node_name.empty())
    config_.node_name = default_node_name();
  config_.load<caf::io::middleman>();
  if (config_.scheduler_policy == "rotina")
    detail::load_rotina_scheduler(config_);
  detail::apply_registered_types(config_);
  system_ = std::make_unique<caf::actor_system>(config_);
  core_->rt.store(this, std::memory_order_release);
  nodes_ = std::make_unique<detail::node_layer>(
    *system_, detail::read_node_settings(config_, config_.node_name, named));
  nodes_->start();
  for (auto hook : start_hooks()) {
    try {
      hook(*this);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "rotina: a start hook failed: %s\n", ex.what());
    }
  }
  // CAF 0.17 pins its logger in a thread_local of every thread that created
  // an actor_system or a scoped_actor, and ~actor_system waits until the
  // logger is gone. Drop this thread's pin so that shutdown() may run on any
  // thread (the destroying thread drops its own pin).
  caf::logger::set_current_actor_system(nullptr);
}

// -- properties ---------------------------------------------------------------

caf::actor_system& runtime::system() noexcept {
  if (system_ == nullptr) {
    std::fputs("rotina: runtime::system() called after shutdown()\n", stderr);
    std::abort();
  }
  return *system_;
}

// -- nodes --------------------------------------------------------------------

const node& runtime::self() const noexcept {
  return nodes_->self();
}

std::vector<node> runtime::nodes() const {
  return nodes_->nodes();
}

connect_result runtime::connect(const std::string& host, uint16_t port) {
  return nodes_->connect(host, port);
}

std::vector<connect_error> runtime::wait_for_peers() {
  return nodes_->wait_for_peers();
}

node_watch
runtime::on_node_down(const node& peer,
                      std::function<void(const node&, const error&)> fn) {
  return nodes_->on_node_down(peer, std::move(fn));
}

bool runtime::cancel_node_watch(node_watch token) {
  return nodes_->cancel_node_watch(token);
}

caf::timespan runtime::request_timeout() const noexcept {
  return nodes_->request_timeout();
}

caf::actor runtime::agent() const {
  return nodes_->agent();
}

caf::actor runtime::agent_of(const node& peer) const {
  return nodes_->agent_of(peer);
}

std::optional<node> runtime::find_node(const std::string& name) const {
  if (self().name == name)
    return self();
  for (auto& x : nodes())
    if (x.name == name)
      return x;
  return std::nullopt;
}

void runtime::publish_handle(const std::string& name, detail::remote_handle h) {
  if (name.empty())
    throw panic_error{error{errc::misuse, "publish: the name is empty"}};
  if (!nodes_->publish(name, std::move(h)))
    throw panic_error{error{errc::misuse, "publish: the name \"" + name
                                            + "\" is taken by another handle "
                                              "on node '"
                                            + self().name + "'"}};
}

bool runtime::unpublish(const std::string& name) {
  return nodes_->unpublish(name);
}

result<detail::remote_handle> runtime::lookup_handle(const node& peer,
                                                     const std::string& name) {
  auto res = nodes_->lookup(peer, name);
  if (auto h = std::get_if<detail::remote_handle>(&res))
    return std::move(*h);
  return std::get<error>(std::move(res));
}

std::optional<node> runtime::node_of(const caf::node_id& id) const {
  return nodes_->node_of(id);
}

// -- live-work accounting -----------------------------------------------------

void runtime::work_started() noexcept {
  live_work_.fetch_add(1, std::memory_order_relaxed);
}

void runtime::work_finished() noexcept {
  auto before = live_work_.fetch_sub(1, std::memory_order_acq_rel);
  if (before == 0) {
    std::fputs("rotina: negative live-work counter (work_finished() without "
               "work_started())\n",
               stderr);
    std::abort();
  }
  if (before == 1) {
    // Take the lock so that a shutdown() between its check and its wait
    // cannot miss this notification.
    std::lock_guard<std::mutex> guard{mtx_};
    work_done_.notify_all();
  }
}

size_t runtime::live_work() const noexcept {
  return live_work_.load(std::memory_order_acquire);
}

// -- extensions ---------------------------------------------------------------

void runtime::add_start_hook(void (*hook)(runtime&)) {
  std::lock_guard<std::mutex> guard{start_hooks_mtx()};
  auto& xs = start_hooks_locked();
  if (std::find(xs.begin(), xs.end(), hook) == xs.end())
    xs.push_back(hook);
}

size_t runtime::new_extension_slot() {
  static std::atomic<size_t> next{0};
  auto slot = next.fetch_add(1, std::memory_order_relaxed);
  if (slot >= max_extensions) {
    std::fputs("rotina: too many runtime extension slots\n", stderr);
    std::abort();
  }
  return slot;
}

runtime_extension&
runtime::extension(size_t slot,
                   std::shared_ptr<runtime_extension> (*make)(runtime&)) {
  if (auto ext = slots_[slot].load(std::memory_order_acquire))
    return *ext;
  std::lock_guard<std::mutex> guard{ext_mtx_};
  if (auto ext = slots_[slot].load(std::memory_order_acquire))
    return *ext;
  auto ext = make(*this);
  auto raw = ext.get();
  {
    std::lock_guard<std::mutex> hooks_guard{mtx_};
    extensions_.push_back(std::move(ext));
  }
  slots_[slot].store(raw, std::memory_order_release);
  return *raw;
}

// -- external calls -----------------------------------------------------------

bool runtime::enter() noexcept {
  entered_.fetch_add(1, std::memory_order_seq_cst);
  if (canceling_.load(std::memory_order_seq_cst)) {
    leave();
    return false;
  }
  return true;
}

void runtime::leave() noexcept {
  entered_.fetch_sub(1, std::memory_order_seq_cst);
}

// -- shutdown -----------------------------------------------------------------

void runtime::on_idle_check(std::function<bool()> is_idle) {
  std::lock_guard<std::mutex> guard{mtx_};
  idle_checks_.push_back(std::move(is_idle));
}

void runtime::on_cancel(std::function<void()> hook) {
  if (!hook)
    return;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!shutting_down_) {
      hooks_.push_back(std::move(hook));
      return;
    }
  }
  try {
    hook();
  } catch (const std::exception& ex) {
    std::cerr << "rotina: cancel hook threw: " << ex.what() << std::endl;
  } catch (...) {
    std::cerr << "rotina: cancel hook threw a non-standard exception"
              << std::endl;
  }
}

void runtime::run_cancel_hooks() {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    shutting_down_ = true;
    hooks.swap(hooks_);
  }
  for (auto i = hooks.rbegin(); i != hooks.rend(); ++i) {
    try {
      (*i)();
    } catch (const std::exception& ex) {
      std::cerr << "rotina: cancel hook threw: " << ex.what() << std::endl;
    } catch (...) {
      std::cerr << "rotina: cancel hook threw a non-standard exception"
                << std::endl;
    }
  }
}

void runtime::check_not_inside(const char* what) const {
  bool inside = detail::on_rotina_worker();
  for (auto& slot : slots_)
    if (auto ext = slot.load(std::memory_order_acquire))
      inside = inside || ext->on_calling_thread();
  if (inside) {
    std::fprintf(stderr,
                 "rotina: %s called inside a goroutine or actor; it would "
                 "wait for itself (call it from main or a plain thread)\n",
                 what);
    std::abort();
  }
}

void runtime::await_actors_or_exit() {
  // ~actor_system waits for every actor without a bound: wait here first,
  // with one, so that a goroutine that never suspends cannot hang the
  // process for ever.
  using namespace std::chrono_literals;
  auto& reg = system_->registry();
  auto deadline = std::chrono::steady_clock::now() + config_.shutdown_timeout;
  auto pause = 10us;
  while (reg.running() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string report;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        for (auto& ext : extensions_)
          ext->describe_running(report);
      }
      if (report.empty())
        report = "  (no goroutine: " + std::to_string(reg.running())
                 + " other actor(s))\n";
      std::fprintf(stderr,
                   "rotina: shutdown timed out: actors still running %lld ms "
                   "after the cancel (a goroutine that never suspends?):\n%s"
                   "rotina: exiting with status %d\n",
                   static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                       config_.shutdown_timeout)
                       .count()),
                   report.c_str(), EXIT_FAILURE);
      std::fflush(stderr);
      std::_Exit(EXIT_FAILURE);
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, 5ms);
  }
}

void runtime::shutdown() {
  if (!shut_down_.load())
    check_not_inside("rotina::runtime::shutdown()");
  std::lock_guard<std::mutex> serialize{shutdown_mtx_};
  if (shut_down_.load())
    return;
  if (config_.on_shutdown == shutdown_policy::wait) {
    // Wake up every few milliseconds to ask the idle checks: parked work
    // that nothing can wake any more must not hold shutdown for the whole
    // timeout.
    using namespace std::chrono_literals;
    auto deadline = std::chrono::steady_clock::now() + config_.shutdown_timeout;
    std::unique_lock<std::mutex> guard{mtx_};
    while (live_work() > 0 && std::chrono::steady_clock::now() < deadline) {
      if (!idle_checks_.empty() || !extensions_.empty()) {
        auto checks = idle_checks_;
        auto exts = extensions_;
        guard.unlock();
        bool idle = true;
        for (auto& check : checks)
          idle = idle && check();
        for (auto& ext : exts)
          idle = idle && ext->idle();
        guard.lock();
        if (idle)
          break;
      }
      work_done_.wait_for(guard, 5ms, [this] { return live_work() == 0; });
    }
  }
  // From here on, calls from outside (go, after) fail: wait for those that
  // entered before, so none touches the actor system while it goes away.
  canceling_.store(true, std::memory_order_seq_cst);
  while (entered_.load(std::memory_order_seq_cst) > 0)
    std::this_thread::yield();
  run_cancel_hooks();
  std::vector<std::shared_ptr<runtime_extension>> exts;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    exts = extensions_;
  }
  for (auto i = exts.rbegin(); i != exts.rend(); ++i)
    (*i)->cancel();
  // The node layer's agent and connectors end before the wait for actors.
  if (nodes_)
    nodes_->stop();
  // Pending timers hold references to actors: drop them while the system
  // still exists. Later schedule() calls are refused.
  timers_->stop();
  await_actors_or_exit();
  system_.reset();
  shut_down_.store(true);
  // Release the extensions after the actors that used them, newest first.
  exts.clear();
  std::vector<std::shared_ptr<runtime_extension>> owned;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    owned.swap(extensions_);
    for (auto& slot : slots_)
      slot.store(nullptr, std::memory_order_release);
  }
  while (!owned.empty())
    owned.pop_back();
}

bool runtime::is_shut_down() const noexcept {
  return shut_down_.load();
}

} // namespace rotina
