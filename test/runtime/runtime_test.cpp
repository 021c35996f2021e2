// Tests for rotina::runtime: startup, actor round trips, live-work accounting
// and the shutdown policies (run under ASan/UBSan with leak detection in CI).

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <rotina/detail/timer_service.hpp>
#include <rotina/error.hpp>
#include <rotina/runtime.hpp>
#include <rotina/version.hpp>

using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

caf::behavior adder() {
  return {
    [](int x, int y) { return x + y; },
  };
}

/// Sends (x, y) to a fresh adder actor and returns the reply (or -1).
int round_trip(rotina::runtime& rt, int x, int y) {
  auto worker = rt.system().spawn(adder);
  caf::scoped_actor self{rt.system()};
  int result = -1;
  self->request(worker, 5s, x, y)
    .receive([&](int sum) { result = sum; },
             [&](caf::error& err) {
               BOOST_ERROR("request failed: " << rt.system().render(err));
             });
  self->send_exit(worker, caf::exit_reason::user_shutdown);
  return result;
}

rotina::options with(std::vector<std::string> overrides) {
  return rotina::options{"", std::move(overrides)};
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// A runtime extension that records what the runtime did with it.
struct probe_extension final : rotina::runtime_extension {
  probe_extension(rotina::runtime& rt, std::vector<std::string>* log)
    : rt(&rt), log(log) {
    log->push_back("created");
  }

  ~probe_extension() override {
    log->push_back(rt->is_shut_down() ? "destroyed after the system"
                                      : "destroyed early");
  }

  void cancel() override {
    log->push_back("cancel");
  }

  bool idle() override {
    return true;
  }

  bool on_calling_thread() const noexcept override {
    return false;
  }

  void describe_running(std::string&) override {
    // nop
  }

  rotina::runtime* rt;
  std::vector<std::string>* log;
};

std::vector<std::string>* probe_log = nullptr;

std::shared_ptr<rotina::runtime_extension> make_probe(rotina::runtime& rt) {
  return std::make_shared<probe_extension>(rt, probe_log);
}

/// A timer entry that counts its fires.
struct counting_entry final : rotina::detail::timer_entry {
  rotina::detail::timer_clock::time_point
  fire(rotina::detail::timer_clock::time_point) noexcept override {
    ++fired;
    return rotina::detail::timer_clock::time_point::min();
  }

  std::atomic<int> fired{0};
};

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_suite)

BOOST_AUTO_TEST_CASE(version_matches_the_headers) {
  BOOST_TEST(rotina::version()
             == std::to_string(rotina::version_major) + "."
                  + std::to_string(rotina::version_minor) + "."
                  + std::to_string(rotina::version_patch));
  BOOST_TEST(rotina::caf_version().substr(0, 5) == "0.17.");
}

BOOST_AUTO_TEST_CASE(default_runtime_round_trips_a_message) {
  rotina::runtime rt;
  BOOST_TEST(round_trip(rt, 40, 2) == 42);
}

BOOST_AUTO_TEST_CASE(each_scheduler_policy_runs_actors) {
  for (auto policy : {"rotina", "stealing", "sharing"}) {
    BOOST_TEST_CONTEXT("policy " << policy) {
      rotina::runtime rt{with({std::string{"--scheduler.policy="} + policy,
                               "--scheduler.max-threads=2"})};
      BOOST_TEST(rt.config().scheduler_policy == policy);
      BOOST_TEST(round_trip(rt, 1, 2) == 3);
    }
  }
}

BOOST_AUTO_TEST_CASE(empty_node_name_resolves_to_host_and_pid) {
  rotina::runtime rt;
  auto& name = rt.config().node_name;
  auto suffix = "-" + std::to_string(getpid());
  BOOST_TEST(name.size() > suffix.size());
  BOOST_TEST(name.substr(name.size() - suffix.size()) == suffix);
  BOOST_TEST(rt.config().get<std::string>("rotina.node-name", "") == name);
}

BOOST_AUTO_TEST_CASE(explicit_node_name_is_kept) {
  rotina::runtime rt{with({"--node-name=\"n1\""})};
  BOOST_TEST(rt.config().node_name == "n1");
}

BOOST_AUTO_TEST_CASE(invalid_options_throw_before_anything_starts) {
  BOOST_CHECK_THROW(rotina::runtime{with({"--listen-port=70000"})},
                    rotina::config_error);
}

BOOST_AUTO_TEST_CASE(argv_constructor_reads_flags_and_keeps_arguments) {
  std::string path = std::string{ROTINA_SOURCE_DIR} + "/config/default.ini";
  std::vector<std::string> args{"prog",
                                "--config-file=" + path,
                                "--rotina.listen-port=0",
                                "input.txt",
                                "--",
                                "--verbose"};
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  rotina::runtime rt{static_cast<int>(args.size()), argv.data()};
  BOOST_TEST(rt.config().source_of("rotina.listen-port") == "command line");
  BOOST_TEST(rt.config().source_of("rotina.listen-host").rfind(path, 0) == 0);
  BOOST_TEST_REQUIRE(rt.config().remainder.size() == 2u);
  BOOST_TEST(rt.config().remainder[0] == "input.txt");
  BOOST_TEST(rt.config().remainder[1] == "--verbose");
  BOOST_TEST(round_trip(rt, 2, 2) == 4);
}

BOOST_AUTO_TEST_CASE(repeated_construction_and_destruction_is_clean) {
  for (int i = 0; i < 10; ++i) {
    rotina::runtime rt{with({"--scheduler.max-threads=2"})};
    BOOST_TEST(round_trip(rt, i, 1) == i + 1);
  }
}

BOOST_AUTO_TEST_CASE(live_work_counts_up_and_down) {
  rotina::runtime rt;
  BOOST_TEST(rt.live_work() == 0u);
  rt.work_started();
  rt.work_started();
  BOOST_TEST(rt.live_work() == 2u);
  rt.work_finished();
  BOOST_TEST(rt.live_work() == 1u);
  rt.work_finished();
  BOOST_TEST(rt.live_work() == 0u);
}

BOOST_AUTO_TEST_CASE(cancel_policy_runs_hooks_at_once_in_reverse_order) {
  rotina::runtime rt{with({"--shutdown=cancel", "--shutdown-timeout=1h"})};
  std::vector<int> order;
  rt.on_cancel([&] { order.push_back(1); });
  rt.on_cancel([&] {
    order.push_back(2);
    rt.work_finished(); // what a goroutine does once it sees the cancel
  });
  rt.work_started();
  auto start = clock_type::now();
  rt.shutdown();
  BOOST_TEST(seconds_since(start) < 30.0);
  BOOST_TEST(order == (std::vector<int>{2, 1}));
  BOOST_TEST(rt.is_shut_down());
  BOOST_TEST(rt.live_work() == 0u);
}

BOOST_AUTO_TEST_CASE(wait_policy_gives_up_after_the_timeout_and_cancels) {
  rotina::runtime rt{with({"--shutdown=wait", "--shutdown-timeout=300ms"})};
  std::atomic<bool> cancelled{false};
  rt.on_cancel([&] { cancelled = true; });
  rt.work_started(); // never finishes on its own
  auto start = clock_type::now();
  rt.shutdown();
  auto elapsed = seconds_since(start);
  BOOST_TEST(elapsed >= 0.3);
  BOOST_TEST(elapsed < 30.0);
  BOOST_TEST(cancelled.load());
  BOOST_TEST(rt.live_work() == 1u);
}

BOOST_AUTO_TEST_CASE(wait_policy_returns_when_work_finishes) {
  rotina::runtime rt{with({"--shutdown-timeout=1h"})};
  std::atomic<bool> cancelled{false};
  rt.on_cancel([&] { cancelled = true; });
  rt.work_started();
  std::thread worker{[&] {
    std::this_thread::sleep_for(100ms);
    rt.work_finished();
  }};
  auto start = clock_type::now();
  rt.shutdown();
  worker.join();
  BOOST_TEST(seconds_since(start) >= 0.1);
  BOOST_TEST(seconds_since(start) < 30.0);
  BOOST_TEST(rt.live_work() == 0u);
  // Hooks run on every shutdown; with no live work they have nothing to do.
  BOOST_TEST(cancelled.load());
}

BOOST_AUTO_TEST_CASE(cancel_hook_runs_before_the_system_waits_for_actors) {
  // An actor that would keep the actor system alive forever: it never exits
  // by itself, and a strong handle lives in the hook. Shutdown only returns
  // because the hook stops it before ~actor_system waits for all actors.
  rotina::runtime rt{with({"--shutdown=cancel"})};
  auto down_reason = std::make_shared<std::atomic<int>>(-1);
  auto idle = rt.system().spawn(
    []() -> caf::behavior { return {[](int x) { return x; }}; });
  idle->attach_functor([down_reason](const caf::error& reason) {
    *down_reason = static_cast<int>(reason.code());
  });
  rt.on_cancel([idle]() mutable {
    caf::anon_send_exit(idle, caf::exit_reason::user_shutdown);
    idle = nullptr;
  });
  idle = nullptr;
  rt.shutdown();
  BOOST_TEST(*down_reason == static_cast<int>(caf::exit_reason::user_shutdown));
}

BOOST_AUTO_TEST_CASE(shutdown_is_idempotent) {
  rotina::runtime rt;
  int hooks_run = 0;
  rt.on_cancel([&] { ++hooks_run; });
  rt.shutdown();
  rt.shutdown();
  BOOST_TEST(hooks_run == 1);
  BOOST_TEST(rt.is_shut_down());
}

BOOST_AUTO_TEST_CASE(concurrent_shutdowns_run_hooks_once) {
  rotina::runtime rt{with({"--shutdown-timeout=200ms"})};
  std::atomic<int> hooks_run{0};
  rt.on_cancel([&] { ++hooks_run; });
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] { rt.shutdown(); });
  for (auto& t : threads)
    t.join();
  BOOST_TEST(hooks_run.load() == 1);
}

BOOST_AUTO_TEST_CASE(hook_registered_after_shutdown_runs_at_once) {
  rotina::runtime rt;
  rt.shutdown();
  bool ran = false;
  rt.on_cancel([&] { ran = true; });
  BOOST_TEST(ran);
}

BOOST_AUTO_TEST_CASE(throwing_hook_does_not_stop_the_others) {
  rotina::runtime rt{with({"--shutdown=cancel"})};
  bool first_ran = false;
  rt.on_cancel([&] { first_ran = true; });
  rt.on_cancel([] { throw std::runtime_error("boom"); });
  rt.shutdown();
  BOOST_TEST(first_ran);
}

BOOST_AUTO_TEST_CASE(destructor_shuts_down_with_live_work) {
  std::atomic<bool> cancelled{false};
  auto start = clock_type::now();
  {
    rotina::runtime rt{with({"--shutdown-timeout=100ms"})};
    rt.on_cancel([&] { cancelled = true; });
    rt.work_started();
  }
  BOOST_TEST(cancelled.load());
  BOOST_TEST(seconds_since(start) < 30.0);
}

// -- extensions, liveness and the timer service
// --------------------------------

BOOST_AUTO_TEST_CASE(an_extension_is_created_once_canceled_then_released) {
  static const size_t slot = rotina::runtime::new_extension_slot();
  std::vector<std::string> log;
  probe_log = &log;
  {
    rotina::runtime rt{with({"--shutdown=\"cancel\""})};
    BOOST_TEST(rt.find_extension(slot) == nullptr);
    auto& a = rt.extension(slot, make_probe);
    auto& b = rt.extension(slot, make_probe);
    BOOST_TEST(&a == &b);
    BOOST_TEST(rt.find_extension(slot) == &a);
  }
  probe_log = nullptr;
  std::vector<std::string> want{"created", "cancel",
                                "destroyed after the system"};
  BOOST_TEST(log == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_runtime_ref_reports_a_destroyed_runtime) {
  rotina::runtime_ref ref;
  BOOST_TEST(ref.lock() == nullptr);
  BOOST_CHECK_THROW(ref.get("test"), rotina::panic_error);
  {
    rotina::runtime rt{with({})};
    ref = rt.ref();
    BOOST_TEST(ref.lock() == &rt);
    BOOST_TEST(&ref.get("test") == &rt);
    rt.shutdown();
    BOOST_CHECK_THROW(ref.get("test"), rotina::panic_error); // shut down
  }
  BOOST_TEST(ref.lock() == nullptr);
  try {
    ref.get("rotina::after_func");
    BOOST_ERROR("no panic");
  } catch (const rotina::panic_error& e) {
    BOOST_TEST(std::string{e.what()}
               == "rotina::after_func: the runtime was destroyed (or never "
                  "set)");
  }
}

BOOST_AUTO_TEST_CASE(enter_fails_once_shutdown_cancels) {
  rotina::runtime rt{with({"--shutdown=\"cancel\""})};
  BOOST_TEST(rt.enter());
  rt.leave();
  rt.shutdown();
  BOOST_TEST(rt.is_canceling());
  BOOST_TEST(!rt.enter());
}

BOOST_AUTO_TEST_CASE(timer_service_fires_in_order_cancels_and_saturates) {
  using rotina::detail::timer_service;
  using tp = rotina::detail::timer_clock::time_point;
  timer_service ts;
  // Saturation: durations too long for the clock mean "never".
  BOOST_TEST((timer_service::deadline_after(std::chrono::nanoseconds::max())
              == tp::max()));
  BOOST_TEST((timer_service::add_saturated(tp::max() - 1s, 2s) == tp::max()));
  auto soon = std::make_shared<counting_entry>();
  auto later = std::make_shared<counting_entry>();
  auto never = std::make_shared<counting_entry>();
  auto canceled = std::make_shared<counting_entry>();
  BOOST_TEST(ts.schedule(never, tp::max()));
  BOOST_TEST(ts.schedule(later, timer_service::deadline_after(60ms)));
  BOOST_TEST(ts.schedule(soon, timer_service::deadline_after(10ms)));
  BOOST_TEST(ts.schedule(canceled, timer_service::deadline_after(20ms)));
  BOOST_TEST(ts.cancel(*canceled));
  BOOST_TEST(!ts.cancel(*canceled));
  auto deadline = clock_type::now() + 20s;
  while (later->fired.load() == 0 && clock_type::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_TEST(soon->fired.load() == 1);
  BOOST_TEST(later->fired.load() == 1);
  BOOST_TEST(canceled->fired.load() == 0);
  BOOST_TEST(never->fired.load() == 0);
  BOOST_TEST(ts.pending() == 1u);
  ts.stop();
  BOOST_TEST(ts.pending() == 0u);
  BOOST_TEST(!ts.schedule(soon, tp::min()));
}

BOOST_AUTO_TEST_SUITE_END()
