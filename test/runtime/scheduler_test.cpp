// Correctness of the rotina scheduler (runtime/src/scheduler.cpp) on
// 1, 2 and 4 worker threads. No timing assertions except a generous bound
// (30 s) on every wait, so a lost wake-up or a starved job fails the test
// instead of hanging it.
#define BOOST_TEST_MODULE rotina_scheduler
#define BOOST_TEST_DYN_LINK
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"

#include "rotina/detail/scheduler.hpp"

namespace bdata = boost::unit_test::data;

namespace {

using ok_atom = caf::atom_constant<caf::atom("t_ok")>;
using done_atom = caf::atom_constant<caf::atom("t_done")>;
using stop_atom = caf::atom_constant<caf::atom("t_stop")>;
using ping_atom = caf::atom_constant<caf::atom("t_ping")>;
using spin_atom = caf::atom_constant<caf::atom("t_spin")>;

constexpr auto kTimeout = std::chrono::seconds(30);

struct config : caf::actor_system_config {
  explicit config(int threads, int throughput = 0) {
    set("scheduler.max-threads", threads);
    if (throughput > 0)
      set("scheduler.max-throughput", throughput);
    rotina::detail::load_rotina_scheduler(*this);
  }
};

/// Waits for one message matching `f`; false on timeout.
template <class F>
bool await(caf::scoped_actor& self, F f) {
  bool ok = true;
  self->receive(
    f, caf::after(kTimeout) >> [&] { ok = false; });
  return ok;
}

// -- spawn from one actor
// ------------------------------------------------------

struct counter_state {
  int64_t got = 0;
};

caf::behavior collector(caf::stateful_actor<counter_state>* self, int64_t n,
                        caf::actor done_to) {
  return {
    [=](ok_atom, int64_t id) {
      // ids are 0..n-1 and each arrives once: the sum checks both
      self->state.got += id + 1;
      if (self->state.got == n * (n + 1) / 2) {
        self->send(done_to, done_atom::value);
        self->quit();
      }
    },
  };
}

void spawnee(caf::event_based_actor* self, caf::actor coll, int64_t id) {
  self->send(coll, ok_atom::value, id);
}

void spawner(caf::event_based_actor* self, int64_t n, caf::actor coll) {
  for (int64_t i = 0; i < n; ++i)
    self->spawn(spawnee, coll, i);
}

// -- ping-pong
// -----------------------------------------------------------------

caf::behavior pong(caf::event_based_actor* self) {
  return {
    [=](int64_t v) { return v; }, // reply goes to the sender
    [=](stop_atom) { self->quit(); },
  };
}

caf::behavior ping(caf::event_based_actor* self, int64_t n,
                   caf::actor done_to) {
  auto p = self->spawn(pong);
  self->send(p, int64_t{0});
  return {
    [=](int64_t v) {
      if (v + 1 == n) {
        self->send(p, stop_atom::value);
        self->send(done_to, done_atom::value, v + 1);
        self->quit();
        return;
      }
      self->send(p, v + 1);
    },
  };
}

} // namespace

BOOST_AUTO_TEST_CASE(config_installs_the_rotina_scheduler) {
  config cfg{2};
  rotina::detail::load_rotina_scheduler(cfg); // idempotent
  BOOST_TEST(cfg.module_factories.size() == 1u);
  caf::actor_system sys{cfg};
  BOOST_TEST(rotina::detail::uses_rotina_scheduler(sys));
  BOOST_TEST(sys.scheduler().num_workers() == 2u);
  caf::actor_system_config plain;
  plain.set("scheduler.max-threads", 1);
  caf::actor_system other{plain};
  BOOST_TEST(!rotina::detail::uses_rotina_scheduler(other));
}

BOOST_DATA_TEST_CASE(spawn_100k_from_one_actor, bdata::make({1, 2, 4}),
                     threads) {
  config cfg{threads};
  caf::actor_system sys{cfg};
  BOOST_REQUIRE(rotina::detail::uses_rotina_scheduler(sys));
  const int64_t n = 100000;
  caf::scoped_actor self{sys};
  auto coll = sys.spawn(collector, n, caf::actor{self});
  sys.spawn(spawner, n, coll);
  BOOST_TEST(await(self, [](done_atom) {}));
}

BOOST_DATA_TEST_CASE(pingpong_100k, bdata::make({1, 2, 4}), threads) {
  config cfg{threads};
  caf::actor_system sys{cfg};
  const int64_t n = 100000;
  caf::scoped_actor self{sys};
  sys.spawn(ping, n, caf::actor{self});
  int64_t got = -1;
  BOOST_TEST(await(self, [&](done_atom, int64_t v) { got = v; }));
  BOOST_TEST(got == n);
}

// Messages from a non-worker thread to an idle system: the workers have
// parked (deep sleep) before each send, so every message needs a wake-up.
BOOST_DATA_TEST_CASE(main_thread_messages_reach_idle_workers,
                     bdata::make({1, 2, 4}), threads) {
  config cfg{threads};
  caf::actor_system sys{cfg};
  auto echo = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](ping_atom, int64_t i) { return i; }};
  });
  caf::scoped_actor self{sys};
  for (int64_t i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(i % 5 == 0 ? 20 : 1));
    self->send(echo, ping_atom::value, i);
    int64_t got = -1;
    BOOST_REQUIRE(await(self, [&](int64_t v) { got = v; }));
    BOOST_TEST(got == i);
  }
  // Fan-out from main: many actors woken from outside the pool at once.
  std::vector<caf::actor> parked;
  for (int i = 0; i < 2000; ++i)
    parked.push_back(sys.spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](ping_atom, int64_t i) { return i; }};
    }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (size_t i = 0; i < parked.size(); ++i)
    self->send(parked[i], ping_atom::value, static_cast<int64_t>(i));
  int64_t sum = 0;
  for (size_t i = 0; i < parked.size(); ++i)
    BOOST_REQUIRE(await(self, [&](int64_t v) { sum += v; }));
  BOOST_TEST(sum == int64_t{1999} * 2000 / 2);
  self->send_exit(echo, caf::exit_reason::user_shutdown);
  for (auto& a : parked)
    self->send_exit(a, caf::exit_reason::user_shutdown);
}

// A pair of actors ping-ponging forever runs from the next slot; a job in the
// same worker's deque must still get its turn (fairness bound kMaxNextStreak),
// also with one worker where nobody can steal it.
BOOST_DATA_TEST_CASE(runnext_pair_does_not_starve_queue, bdata::make({1, 2}),
                     threads) {
  config cfg{threads};
  caf::actor_system sys{cfg};
  auto ball = [](caf::event_based_actor* self) -> caf::behavior {
    return {
      [=](caf::actor other, int64_t v) {
        self->send(other, caf::actor_cast<caf::actor>(self), v + 1);
      },
      [=](stop_atom) { self->quit(); },
    };
  };
  auto a = sys.spawn(ball);
  auto b = sys.spawn(ball);
  caf::anon_send(a, b, int64_t{0});
  std::vector<caf::actor> others;
  caf::scoped_actor self{sys};
  for (int i = 0; i < 100; ++i) {
    others.push_back(sys.spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](ping_atom, int64_t i) { return i; }};
    }));
    self->send(others.back(), ping_atom::value, int64_t{i});
  }
  int64_t sum = 0;
  for (int i = 0; i < 100; ++i)
    BOOST_REQUIRE(await(self, [&](int64_t v) { sum += v; }));
  BOOST_TEST(sum == 99 * 100 / 2);
  caf::anon_send(a, stop_atom::value);
  caf::anon_send(b, stop_atom::value);
  for (auto& o : others)
    self->send_exit(o, caf::exit_reason::user_shutdown);
}

// A handler that blocks its worker (the anti-pattern CAF warns about) after
// making another actor runnable: that actor sits in the blocked worker's next
// slot and must be taken by another worker (stuck-next steal), or this
// deadlocks.
BOOST_AUTO_TEST_CASE(stuck_next_slot_is_stolen) {
  // Declared before the system: the blocker may read it once more after this
  // function saw it set, and ~actor_system waits for the blocker to finish.
  std::atomic<bool> released{false};
  config cfg{2};
  caf::actor_system sys{cfg};
  auto helper = sys.spawn([&](caf::event_based_actor*) -> caf::behavior {
    return {
      [](ping_atom, int64_t i) { return i; },
      [&](stop_atom) { released = true; },
    };
  });
  // Make sure the helper has run its initialization and is idle (mailbox
  // blocked), so that the blocker's message really schedules it through
  // exec_later into the blocker's next slot.
  {
    caf::scoped_actor self{sys};
    self->send(helper, ping_atom::value, int64_t{0});
    BOOST_REQUIRE(await(self, [](int64_t) {}));
  }
  // The reply can arrive before the helper's resume has returned and blocked
  // its mailbox; give it ample time to do so.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto blocker = sys.spawn([&](caf::event_based_actor* self) -> caf::behavior {
    return {
      [=, &released](caf::actor h) {
        self->send(h, stop_atom::value); // h -> our next slot
        auto t0 = std::chrono::steady_clock::now();
        while (!released && std::chrono::steady_clock::now() - t0 < kTimeout)
          std::this_thread::yield();
      },
    };
  });
  caf::anon_send(blocker, helper);
  auto t0 = std::chrono::steady_clock::now();
  while (!released && std::chrono::steady_clock::now() - t0 < kTimeout)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  BOOST_TEST(released.load());
  BOOST_TEST(rotina::detail::rotina_scheduler_stats(sys).next_steals >= 1u);
  caf::anon_send_exit(helper, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(blocker, caf::exit_reason::user_shutdown);
}

// Shutdown while jobs are still queued: actors that keep sending themselves
// messages (throughput 8, so they come back as resume_later) plus a
// burst of spawned actors not yet run. The system must stop (the shutdown
// helper reaches every worker), and every actor must be destroyed
// (stop() drains the queues; LSan checks the rest).
namespace {

std::atomic<int64_t> live_actors{0};
std::atomic<int64_t> made_actors{0};

// Counts its own construction and destruction (a stateful_actor's state is
// destroyed in on_exit, which CAF's shutdown cleanup of still-queued actors
// never calls, so the actor object itself is what we track). Sends to itself
// anonymously: a message whose sender is the actor itself would keep it alive
// through its own mailbox (a reference cycle that CAF's shutdown cleanup does
// not break, whatever the scheduler).
class busy : public caf::event_based_actor {
public:
  explicit busy(caf::actor_config& cfg) : caf::event_based_actor(cfg) {
    ++live_actors;
    ++made_actors;
  }

  ~busy() override {
    --live_actors;
  }

  caf::behavior make_behavior() override {
    caf::anon_send(caf::actor_cast<caf::actor>(this), spin_atom::value);
    return {
      [this](spin_atom) {
        ++n_;
        caf::anon_send(caf::actor_cast<caf::actor>(this), spin_atom::value);
      },
    };
  }

private:
  int64_t n_ = 0;
};

void busy_spawner(caf::event_based_actor* self, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    self->spawn<busy>();
}

} // namespace

BOOST_DATA_TEST_CASE(shutdown_with_pending_jobs, bdata::make({1, 2, 4}),
                     threads) {
  live_actors = 0;
  made_actors = 0;
  {
    config cfg{threads, 8};
    caf::actor_system sys{cfg};
    sys.await_actors_before_shutdown(false);
    sys.spawn(busy_spawner, int64_t{20000});
    auto t0 = std::chrono::steady_clock::now();
    while (made_actors < 1000
           && std::chrono::steady_clock::now() - t0 < kTimeout)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    BOOST_TEST(made_actors.load() >= 1000);
  } // ~actor_system: stops the scheduler with non-empty queues
  BOOST_TEST(live_actors.load() == 0);
}

// An enqueue that arrives after the workers are gone (a detached actor,
// running on its own thread, sends to an idle scheduled actor while the
// actor_system stops the scheduler): the job must not be left in a dead
// worker's deque holding the target's last scheduler reference. The thread
// hook lets the sender wait until every worker thread has exited.
namespace {

std::atomic<int> workers_exited{0};

struct worker_exit_hook : caf::thread_hook {
  void init(caf::actor_system&) override {
    // nop
  }
  void thread_started() override {
    // nop
  }
  void thread_terminates() override {
    char name[32] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    if (std::string{name} == "rotina.worker")
      ++workers_exited;
  }
};

class counted : public caf::event_based_actor {
public:
  explicit counted(caf::actor_config& cfg) : caf::event_based_actor(cfg) {
    ++live_actors;
  }

  ~counted() override {
    --live_actors;
  }

  caf::behavior make_behavior() override {
    return {[](ping_atom) {}};
  }
};

} // namespace

BOOST_DATA_TEST_CASE(enqueue_after_scheduler_stop, bdata::make({1, 2}),
                     threads) {
  live_actors = 0;
  workers_exited = 0;
  std::atomic<bool> sent{false};
  {
    config cfg{threads};
    cfg.add_thread_hook<worker_exit_hook>();
    caf::actor_system sys{cfg};
    sys.await_actors_before_shutdown(false);
    auto target = sys.spawn<counted>();
    BOOST_TEST(live_actors.load() == 1);
    sys.spawn<caf::detached>(
      [&sent, threads](caf::event_based_actor* self, caf::actor to) {
        self->send(self, ping_atom::value);
        return caf::behavior{[=, &sent](ping_atom) {
          auto t0 = std::chrono::steady_clock::now();
          while (workers_exited.load() < threads
                 && std::chrono::steady_clock::now() - t0 < kTimeout)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          self->send(to, ping_atom::value); // to an idle actor: enqueue
          sent = true;
          self->quit();
        }};
      },
      target);
    target = nullptr;
  } // ~actor_system: stops the scheduler, then awaits the detached thread
  BOOST_TEST(sent.load());
  BOOST_TEST(workers_exited.load() == threads);
  BOOST_TEST(live_actors.load() == 0);
}

// The rotina coordinator filters clock().cancel_timeouts to actors that ever
// set a timeout; timeouts themselves must work unchanged: `after` in a
// behavior, request timeouts, delayed sends, and cancellation on exit.
BOOST_DATA_TEST_CASE(timeouts_still_work, bdata::make({1, 2}), threads) {
  config cfg{threads};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  caf::actor me{self};
  // 1. `after` fires in an idle event-based actor.
  sys.spawn([me](caf::event_based_actor* a) -> caf::behavior {
    return {
      [](ping_atom) {},
      caf::after(std::chrono::milliseconds(5)) >>
        [=] {
          a->send(me, done_atom::value, int64_t{1});
          a->quit();
        },
    };
  });
  int64_t got = 0;
  BOOST_REQUIRE(await(self, [&](done_atom, int64_t v) { got = v; }));
  BOOST_TEST(got == 1);
  // 2. A request to an actor that never answers ends in request_timeout.
  auto mute = sys.spawn([](caf::event_based_actor* a) -> caf::behavior {
    return {[=](ping_atom, int64_t) { a->make_response_promise(); }};
  });
  sys.spawn([me, mute](caf::event_based_actor* a) {
    a->request(mute, std::chrono::milliseconds(5), ping_atom::value, int64_t{0})
      .then([](int64_t) {},
            [=](caf::error& err) {
              a->send(me, done_atom::value,
                      int64_t{err == caf::sec::request_timeout ? 2 : -2});
            });
  });
  BOOST_REQUIRE(await(self, [&](done_atom, int64_t v) { got = v; }));
  BOOST_TEST(got == 2);
  // 3. delayed_send.
  self->delayed_send(me, std::chrono::milliseconds(5), done_atom::value,
                     int64_t{3});
  BOOST_REQUIRE(await(self, [&](done_atom, int64_t v) { got = v; }));
  BOOST_TEST(got == 3);
  // 4. Many actors that arm a long `after` and exit: their timeouts are
  //    cancelled (no late delivery to destroyed actors; ASan would see it).
  for (int i = 0; i < 2000; ++i)
    sys.spawn([me](caf::event_based_actor* a) -> caf::behavior {
      a->send(me, ok_atom::value, int64_t{0});
      a->quit();
      return {
        [](ping_atom) {},
        caf::after(std::chrono::seconds(3600)) >> [] {},
      };
    });
  for (int i = 0; i < 2000; ++i)
    BOOST_REQUIRE(await(self, [&](ok_atom, int64_t) {}));
  self->send_exit(mute, caf::exit_reason::user_shutdown);
}
