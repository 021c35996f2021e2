// Scheduler comparison benchmark: rotina's policy vs CAF 0.17.6's stealing and
// sharing policies, on the workloads of the project's CAF anchors
// (/work/shared/bench-anchors/README.md, "Workload definitions") plus an
// external-enqueue latency probe.
//
//   sched_bench --bench=spawn|pingpong|fanin|workerpool|park|extlat|all
//               --scheduler.policy=rotina|stealing|sharing
//               --scheduler.max-threads=2 [--scale=X] [--timeout=S]
//
// One line per workload, anchors' format plus the policy as variant:
//   <workload>@<policy> <ns_per_op> ns/op [key=value ...]
// Policy "rotina" installs rotina::detail::load_rotina_scheduler before the
// actor_system is built; the others are CAF's built-in policies.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <time.h>

#include "caf/all.hpp"

#include "rotina/detail/scheduler.hpp"

namespace {

using b_ok = caf::atom_constant<caf::atom("b_ok")>;
using b_done = caf::atom_constant<caf::atom("b_done")>;
using b_stop = caf::atom_constant<caf::atom("b_stop")>;
using b_credit = caf::atom_constant<caf::atom("b_credit")>;
using b_ping = caf::atom_constant<caf::atom("b_ping")>;

using clk = std::chrono::steady_clock;

double ns_between(clk::time_point a, clk::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

/// CPU time of the whole process (all threads) in ns: unlike wall time it
/// is not inflated by other processes on a shared machine, but it does
/// include spinning and the cost of parking/waking.
double process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

int64_t status_bytes(const char* key) {
  std::ifstream in{"/proc/self/status"};
  std::string ln;
  std::string k = std::string{key} + ":";
  while (std::getline(in, ln))
    if (ln.rfind(k, 0) == 0)
      return std::stoll(ln.substr(k.size())) * 1024;
  return -1;
}

struct config : caf::actor_system_config {
  std::string bench = "all";
  double scale = 1.0;
  int64_t timeout_s = 120;
  int64_t ext_iters = 1000;
  int64_t ext_gap_us = 1000;
  config() {
    opt_group{custom_options_, "global"}
      .add(bench, "bench", "spawn,pingpong,fanin,workerpool,park,extlat|all")
      .add(scale, "scale", "multiply operation counts")
      .add(timeout_s, "timeout", "seconds per blocking wait")
      .add(ext_iters, "ext-iters", "extlat: round trips")
      .add(ext_gap_us, "ext-gap-us", "extlat: idle gap before each send");
    set("scheduler.max-threads", 2);
    set("scheduler.policy", caf::atom("rotina"));
  }
};

std::string policy_name;

struct out_line {
  std::ostringstream os;
  double ops_;
  out_line(const std::string& w, double total_ns, double ops) : ops_(ops) {
    char b[64];
    std::snprintf(b, sizeof b, "%.2f", total_ns / ops);
    os << w << '@' << policy_name << ' ' << b << " ns/op";
  }
  template <class T>
  out_line& kv(const char* k, T v) {
    if constexpr (std::is_floating_point_v<T>) {
      char b[64];
      std::snprintf(b, sizeof b, "%.2f", static_cast<double>(v));
      os << ' ' << k << '=' << b;
    } else {
      os << ' ' << k << '=' << v;
    }
    return *this;
  }
  out_line& cpu(double cpu0) {
    return kv("cpu_ns_per_op", (process_cpu_ns() - cpu0) / ops_);
  }
  void stats(caf::actor_system& sys) {
    if (!rotina::detail::uses_rotina_scheduler(sys))
      return;
    auto s = rotina::detail::rotina_scheduler_stats(sys);
    kv("wakeups", s.wakeups).kv("parks", s.parks).kv("steals", s.steals);
    kv("stolen", s.stolen_jobs).kv("next_steals", s.next_steals);
  }
  void print() {
    os << '\n';
    auto s = os.str();
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }
};

int64_t scaled(int64_t n, double f) {
  return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * f));
}

template <class... Fs>
bool wait_for(caf::scoped_actor& self, int64_t secs, Fs... fs) {
  bool ok = true;
  self->receive(
    fs..., caf::after(std::chrono::seconds(secs)) >> [&] { ok = false; });
  return ok;
}

// -- spawn: one actor spawns n actors; each reports once to a collector -------

struct count_state {
  int64_t got = 0;
};

caf::behavior sink_n(caf::stateful_actor<count_state>* self, int64_t n,
                     caf::actor notify) {
  return {[=](b_ok) {
    if (++self->state.got == n) {
      self->send(notify, b_done::value);
      self->quit();
    }
  }};
}

void reporter(caf::event_based_actor* self, caf::actor to) {
  self->send(to, b_ok::value);
}

void burst_spawner(caf::event_based_actor* self, int64_t n, caf::actor to) {
  for (int64_t i = 0; i < n; ++i)
    self->spawn(reporter, to);
}

void run_spawn(caf::actor_system& sys, const config& cfg) {
  auto n = scaled(1000000, cfg.scale);
  auto hwm0 = status_bytes("VmHWM");
  caf::scoped_actor self{sys};
  auto cpu0 = process_cpu_ns();
  auto t0 = clk::now();
  auto coll = sys.spawn(sink_n, n, caf::actor{self});
  sys.spawn(burst_spawner, n, coll);
  if (!wait_for(self, cfg.timeout_s, [](b_done) {})) {
    std::cerr << "spawn: timeout\n";
    return;
  }
  out_line l{"spawn", ns_between(t0, clk::now()), double(n)};
  l.cpu(cpu0).kv("n", n).kv("peak_rss_bytes_per_op",
                            double(status_bytes("VmHWM") - hwm0) / double(n));
  l.stats(sys);
  l.print();
}

// -- pingpong: two actors, n round trips of an int64
// ---------------------------

caf::behavior ponger(caf::event_based_actor* self) {
  return {
    [=](int64_t v) {
      self->send(caf::actor_cast<caf::actor>(self->current_sender()), v);
    },
    [=](b_stop) { self->quit(); },
  };
}

caf::behavior pinger(caf::event_based_actor* self, int64_t n,
                     caf::actor notify) {
  auto p = self->spawn(ponger);
  self->send(p, int64_t{0});
  return {[=](int64_t v) {
    if (v + 1 == n) {
      self->send(p, b_stop::value);
      self->send(notify, b_done::value);
      self->quit();
    } else {
      self->send(p, v + 1);
    }
  }};
}

void run_pingpong(caf::actor_system& sys, const config& cfg) {
  auto n = scaled(1000000, cfg.scale);
  caf::scoped_actor self{sys};
  auto cpu0 = process_cpu_ns();
  auto t0 = clk::now();
  sys.spawn(pinger, n, caf::actor{self});
  if (!wait_for(self, cfg.timeout_s, [](b_done) {})) {
    std::cerr << "pingpong: timeout\n";
    return;
  }
  out_line l{"pingpong", ns_between(t0, clk::now()), double(n)};
  l.cpu(cpu0).kv("n", n);
  l.stats(sys);
  l.print();
}

// -- fanin: 16 producers -> 1 consumer, credit window 64, ack every 32
// ---------

struct producer_state {
  caf::actor to;
  int32_t idx = 0;
  int64_t sent = 0;
  int64_t total = 0;
};

void produce(caf::stateful_actor<producer_state>* self, int64_t credit) {
  auto& s = self->state;
  for (auto end = std::min(s.total, s.sent + credit); s.sent < end; ++s.sent)
    self->send(s.to, s.idx, s.sent);
  if (s.sent == s.total)
    self->quit();
}

caf::behavior producer(caf::stateful_actor<producer_state>* self, caf::actor to,
                       int32_t idx, int64_t total) {
  self->state.to = std::move(to);
  self->state.idx = idx;
  self->state.total = total;
  produce(self, 64);
  return {[=](b_credit, int64_t k) { produce(self, k); }};
}

struct consumer_state {
  std::vector<int64_t> seen;
  std::vector<int64_t> granted;
  int64_t total = 0;
  int64_t sum = 0;
};

caf::behavior consumer(caf::stateful_actor<consumer_state>* self, int32_t np,
                       int64_t per, caf::actor notify) {
  self->state.seen.assign(np, 0);
  self->state.granted.assign(np, 0);
  return {[=](int32_t idx, int64_t v) {
    auto& s = self->state;
    s.sum += v;
    if (++s.seen[idx] % 32 == 0 && 64 + s.granted[idx] < per) {
      self->send(caf::actor_cast<caf::actor>(self->current_sender()),
                 b_credit::value, int64_t{32});
      s.granted[idx] += 32;
    }
    if (++s.total == int64_t{np} * per) {
      self->send(notify, b_done::value, s.sum);
      self->quit();
    }
  }};
}

void run_fanin(caf::actor_system& sys, const config& cfg) {
  const int32_t np = 16;
  auto per = scaled(10000000, cfg.scale) / np;
  auto n = per * np;
  caf::scoped_actor self{sys};
  auto cpu0 = process_cpu_ns();
  auto t0 = clk::now();
  auto c = sys.spawn(consumer, np, per, caf::actor{self});
  for (int32_t i = 0; i < np; ++i)
    sys.spawn(producer, c, i, per);
  int64_t sum = -1;
  if (!wait_for(self, cfg.timeout_s, [&](b_done, int64_t s) { sum = s; })) {
    std::cerr << "fanin: timeout\n";
    return;
  }
  auto el = ns_between(t0, clk::now());
  if (sum != np * (per * (per - 1) / 2)) {
    std::cerr << "fanin: bad checksum\n";
    return;
  }
  out_line l{"fanin", el, double(n)};
  l.cpu(cpu0).kv("n", n);
  l.stats(sys);
  l.print();
}

// -- workerpool: 8 workers, <= 1024 jobs outstanding, 1000 xorshift rounds
// ------

uint64_t mix(uint64_t x) {
  for (int i = 0; i < 1000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

caf::behavior pool_worker(caf::event_based_actor* self, caf::actor master,
                          int32_t idx) {
  return {
    [=](uint64_t id) { self->send(master, idx, mix(id)); },
    [=](b_stop) { self->quit(); },
  };
}

struct master_state {
  std::vector<caf::actor> ws;
  uint64_t next = 1;
  uint64_t got = 0;
  uint64_t sum = 0;
};

caf::behavior pool_master(caf::stateful_actor<master_state>* self, uint64_t n,
                          caf::actor notify) {
  auto& s = self->state;
  for (int32_t i = 0; i < 8; ++i)
    s.ws.push_back(
      self->spawn(pool_worker, caf::actor_cast<caf::actor>(self), i));
  for (int i = 0; i < 1024 && s.next <= n; ++i)
    self->send(s.ws[i % 8], s.next++);
  return {[=](int32_t idx, uint64_t r) {
    auto& s = self->state;
    s.sum += r;
    if (s.next <= n)
      self->send(s.ws[idx], s.next++);
    if (++s.got == n) {
      for (auto& w : s.ws)
        self->send(w, b_stop::value);
      self->send(notify, b_done::value, s.sum);
      self->quit();
    }
  }};
}

void run_workerpool(caf::actor_system& sys, const config& cfg) {
  auto n = static_cast<uint64_t>(scaled(1000000, cfg.scale));
  caf::scoped_actor self{sys};
  auto cpu0 = process_cpu_ns();
  auto t0 = clk::now();
  sys.spawn(pool_master, n, caf::actor{self});
  uint64_t sum = 0;
  if (!wait_for(self, cfg.timeout_s, [&](b_done, uint64_t s) { sum = s; })) {
    std::cerr << "workerpool: timeout\n";
    return;
  }
  out_line l{"workerpool", ns_between(t0, clk::now()), double(n)};
  l.cpu(cpu0).kv("n", static_cast<int64_t>(n)).kv("checksum", sum);
  l.stats(sys);
  l.print();
}

// -- park: main spawns n waiting actors, then wakes each once from main
// ----------

struct park_state {
  int64_t got = 0;
};

caf::behavior park_sink(caf::stateful_actor<park_state>* self, int64_t n,
                        caf::actor notify) {
  return {[=](b_ok) {
    auto g = ++self->state.got;
    if (g == n || g == 2 * n)
      self->send(notify, b_done::value);
    if (g == 2 * n)
      self->quit();
  }};
}

caf::behavior parked(caf::event_based_actor* self, caf::actor to) {
  self->send(to, b_ok::value);
  return {[=](b_stop) {
    self->send(to, b_ok::value);
    self->quit();
  }};
}

void run_park(caf::actor_system& sys, const config& cfg) {
  auto n = scaled(100000, cfg.scale);
  caf::scoped_actor self{sys};
  std::vector<caf::actor> hs(static_cast<size_t>(n));
  auto rss0 = status_bytes("VmRSS");
  auto t0 = clk::now();
  auto sink = sys.spawn(park_sink, n, caf::actor{self});
  for (auto& h : hs)
    h = sys.spawn(parked, sink);
  bool ok = wait_for(self, cfg.timeout_s, [](b_done) {});
  auto t1 = clk::now();
  auto rss1 = status_bytes("VmRSS");
  auto cpu2 = process_cpu_ns();
  auto t2 = clk::now();
  if (ok) {
    for (auto& h : hs)
      self->send(h, b_stop::value);
    ok = wait_for(self, cfg.timeout_s, [](b_done) {});
  }
  auto t3 = clk::now();
  if (!ok) {
    std::cerr << "park: timeout\n";
    for (auto& h : hs)
      caf::anon_send_exit(h, caf::exit_reason::kill);
    caf::anon_send_exit(sink, caf::exit_reason::kill);
    return;
  }
  hs.clear();
  out_line l{"park", ns_between(t2, t3), double(n)};
  l.cpu(cpu2)
    .kv("n", n)
    .kv("rss_bytes_per_op", double(rss1 - rss0) / double(n))
    .kv("spawn_ns_per_op", ns_between(t0, t1) / double(n));
  l.stats(sys);
  l.print();
}

// -- extlat: main thread -> idle actor -> main, workers idle before each send
// ---- ns/op = median round trip from the main thread (a scoped_actor) to an
// event-based actor whose workers had `ext-gap-us` to go idle; p90 too.

void run_extlat(caf::actor_system& sys, const config& cfg) {
  auto n = scaled(cfg.ext_iters, cfg.scale);
  auto echo = sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
    return {[=](b_ping, int64_t i) {
      self->send(caf::actor_cast<caf::actor>(self->current_sender()), i);
    }};
  });
  caf::scoped_actor self{sys};
  std::vector<double> rts;
  rts.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(cfg.ext_gap_us));
    auto t0 = clk::now();
    self->send(echo, b_ping::value, i);
    if (!wait_for(self, cfg.timeout_s, [](int64_t) {})) {
      std::cerr << "extlat: timeout\n";
      return;
    }
    rts.push_back(ns_between(t0, clk::now()));
  }
  self->send_exit(echo, caf::exit_reason::user_shutdown);
  std::sort(rts.begin(), rts.end());
  auto med = rts[rts.size() / 2];
  auto p90 = rts[rts.size() * 9 / 10];
  out_line l{"extlat", med, 1.0};
  l.kv("n", n).kv("p90_ns", p90).kv("gap_us", cfg.ext_gap_us);
  l.stats(sys);
  l.print();
}

struct entry {
  const char* name;
  void (*fn)(caf::actor_system&, const config&);
};

const entry all_benches[] = {
  {"spawn", run_spawn}, {"pingpong", run_pingpong},
  {"fanin", run_fanin}, {"workerpool", run_workerpool},
  {"park", run_park},   {"extlat", run_extlat},
};

bool selected(const std::string& list, const std::string& name) {
  if (list == "all")
    return true;
  std::istringstream in{list};
  std::string item;
  while (std::getline(in, item, ','))
    if (item == name)
      return true;
  return false;
}

} // namespace

int main(int argc, char** argv) {
  config cfg;
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << "bad config: " << cfg.render(err) << '\n';
    return 1;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  auto pol = caf::get_or(cfg, "scheduler.policy", caf::atom("rotina"));
  policy_name = to_string(pol);
  if (pol == caf::atom("rotina"))
    rotina::detail::load_rotina_scheduler(cfg);
  caf::actor_system sys{cfg};
  int ran = 0;
  for (auto& b : all_benches)
    if (selected(cfg.bench, b.name)) {
      b.fn(sys, cfg);
      ++ran;
    }
  if (ran == 0) {
    std::cerr << "no such workload: " << cfg.bench << '\n';
    return 1;
  }
  return 0;
}
