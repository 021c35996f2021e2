// rotina's side of the anchor benchmarks: the workloads of
// ../shared/bench-anchors/README.md ("Workload definitions"), same work, same
// counts, written with rotina's goroutines, channels, select, wait_group and
// errgroup. Compare with bench/run.
//
//   rotina_bench [--bench=NAME[,NAME...]|all|list] [--scale=F] [--cold-only]
//                [--perf-ctl=CTL_FIFO[,ACK_FIFO]]
//                [rotina options, default --scheduler.max-threads=2]
//
// --perf-ctl profiles only the timed regions: run under
//   perf record --control fifo:CTL_FIFO,ACK_FIFO -D -1 ...
// and the program enables perf's events at each region's start and disables
// them at its end (docs/benchmarks.md, "Profiling").
//
// Prints one line per workload, the anchors' format:
//   <workload> <ns_per_op> ns/op [key=value ...]
// plus cpu_ns_per_op (process CPU time per op, all threads). Every workload
// checks its result (checksum, count, last prime) and a wrong one ends the
// process with status 1 and "WRONG RESULT" on stderr.
//
// Go's main goroutine is a goroutine here too: where the Go anchor does work
// in main (sieve, select, workerpool's summing), rotina runs that code in a
// goroutine and the C++ main thread only starts the clock and waits, so every
// channel operation of the workload runs on the 2 scheduler threads, as in Go
// with GOMAXPROCS=2.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <malloc.h>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>
#include <rotina/select.hpp>
#include <rotina/task.hpp>
#include <rotina/wait_group.hpp>

#include "bench_common.hpp"
#include "errgroup/errgroup_workloads.hpp"

namespace {

using namespace rotina;
using namespace rotina::bench;

struct settings {
  double scale = 1.0;
  /// Skip the in-process warm repeat of spawn and park.
  bool cold_only = false;
};

double per_op(double total, int64_t n) {
  return total / static_cast<double>(n);
}

// -- spawn
// ---------------------------------------------------------------------

/// One goroutine starts n goroutines, each calls wg.done(); main waits.
/// Returns {wall ns, cpu ns}.
std::pair<double, double> spawn_once(runtime& rt, int64_t n) {
  wait_group wg{rt};
  wg.add(n);
  stopwatch sw;
  go(rt, [wg, n]() {
    for (int64_t i = 0; i < n; ++i)
      go([wg] { wg.done(); });
  });
  wg.wait_blocking();
  sw.stop();
  auto result = std::pair{sw.wall_ns(), sw.cpu_ns()};
  if (wg.count() != 0)
    fail("spawn", "wait_group counter %lld after wait",
         static_cast<long long>(wg.count()));
  return result;
}

void bench_spawn(runtime& rt, const settings& s) {
  auto n = scaled(1000000, s.scale);
  malloc_trim(0);
  auto hwm0 = proc_status_bytes("VmHWM");
  auto [wall, cpu] = spawn_once(rt, n);
  auto hwm1 = proc_status_bytes("VmHWM");
  out_line l{"spawn", wall, static_cast<double>(n)};
  l.kv("n", n).kv("peak_rss_bytes_per_op",
                  per_op(static_cast<double>(hwm1 - hwm0), n));
  if (!s.cold_only)
    l.kv("warm_ns_per_op", per_op(spawn_once(rt, n).first, n));
  l.kv("cpu_ns_per_op", per_op(cpu, n)).print();
}

// -- park
// ----------------------------------------------------------------------

struct park_result {
  double spawn_ns;
  double wake_ns;
  double wake_cpu_ns;
  int64_t rss_delta;
};

/// n goroutines block receiving on one unbuffered channel (started from one
/// goroutine, like Go's main); RSS growth while all are parked; then close
/// the channel and time until every one has exited.
park_result park_once(runtime& rt, int64_t n, bool cold) {
  auto ch = make_chan<int64_t>(rt);
  wait_group started{rt};
  wait_group done{rt};
  started.add(n);
  done.add(n);
  // Counts receivers that got a value instead of "closed" (none should): a
  // counter of the correct outcome would be a contended cache line that the
  // Go anchor does not have.
  std::atomic<int64_t> got_value{0};
  if (cold)
    malloc_trim(0);
  auto rss0 = proc_status_bytes("VmRSS");
  stopwatch sw_spawn{false}; // ns/op is the wake phase
  go(rt, [=, &got_value]() {
    for (int64_t i = 0; i < n; ++i)
      go([=, &got_value]() -> task<> {
        started.done();
        auto v = co_await ch.recv();
        if (v)
          got_value.fetch_add(1, std::memory_order_relaxed);
        done.done();
      });
  });
  started.wait_blocking();
  sw_spawn.stop();
  park_result r{};
  r.spawn_ns = sw_spawn.wall_ns();
  r.rss_delta = proc_status_bytes("VmRSS") - rss0;
  stopwatch sw_wake;
  ch.close();
  done.wait_blocking();
  sw_wake.stop();
  r.wake_ns = sw_wake.wall_ns();
  r.wake_cpu_ns = sw_wake.cpu_ns();
  // done reached zero: all n exited; none may have received a value.
  if (got_value.load() != 0 || done.count() != 0)
    fail("park", "%lld of %lld receivers got a value from a closed channel",
         static_cast<long long>(got_value.load()), static_cast<long long>(n));
  return r;
}

void bench_park(runtime& rt, const settings& s) {
  auto n = scaled(100000, s.scale);
  auto cold = park_once(rt, n, true);
  out_line l{"park", cold.wake_ns, static_cast<double>(n)};
  l.kv("n", n)
    .kv("rss_bytes_per_op", per_op(static_cast<double>(cold.rss_delta), n))
    .kv("spawn_ns_per_op", per_op(cold.spawn_ns, n));
  if (!s.cold_only) {
    auto warm = park_once(rt, n, false);
    l.kv("warm_ns_per_op", per_op(warm.wake_ns, n))
      .kv("warm_spawn_ns_per_op", per_op(warm.spawn_ns, n));
  }
  l.kv("cpu_ns_per_op", per_op(cold.wake_cpu_ns, n)).print();
}

// -- pingpong
// ------------------------------------------------------------------

/// Two goroutines, two unbuffered channels, n round trips.
void bench_pingpong(runtime& rt, const settings& s) {
  auto n = scaled(1000000, s.scale);
  auto ping = make_chan<int64_t>(rt);
  auto pong = make_chan<int64_t>(rt);
  wait_group wg{rt};
  wg.add(2);
  int64_t sum = 0;
  stopwatch sw;
  go(rt, [=, &sum]() -> task<> {
    int64_t acc = 0;
    for (int64_t i = 0; i < n; ++i) {
      co_await ping.send(i);
      acc += *co_await pong.recv();
    }
    ping.close();
    sum = acc;
    wg.done();
  });
  go(rt, [=]() -> task<> {
    while (auto v = co_await ping.recv())
      co_await pong.send(*v);
    wg.done();
  });
  wg.wait_blocking();
  checksummed_line("pingpong", sw, n, sum, n * (n - 1) / 2).print();
}

// -- buffered
// ------------------------------------------------------------------

/// 1 producer, 1 consumer, capacity 1024, n ints.
void bench_buffered(runtime& rt, const settings& s) {
  auto n = scaled(10000000, s.scale);
  auto ch = make_chan<int64_t>(rt, 1024);
  wait_group wg{rt};
  wg.add(2);
  int64_t sum = 0;
  stopwatch sw;
  go(rt, [=]() -> task<> {
    for (int64_t i = 0; i < n; ++i)
      co_await ch.send(i);
    ch.close();
    wg.done();
  });
  go(rt, [=, &sum]() -> task<> {
    int64_t acc = 0;
    while (auto v = co_await ch.recv())
      acc += *v;
    sum = acc;
    wg.done();
  });
  wg.wait_blocking();
  checksummed_line("buffered", sw, n, sum, n * (n - 1) / 2).print();
}

// -- fanin
// ---------------------------------------------------------------------

/// 16 producers, 1 consumer, one channel of capacity 1024, n items.
void bench_fanin(runtime& rt, const settings& s) {
  constexpr int64_t producers = 16;
  auto per = std::max<int64_t>(1, scaled(10000000, s.scale) / producers);
  auto n = per * producers;
  auto ch = make_chan<int64_t>(rt, 1024);
  wait_group wg{rt};
  wg.add(producers + 1);
  int64_t sum = 0;
  stopwatch sw;
  for (int64_t p = 0; p < producers; ++p)
    go(rt, [=]() -> task<> {
      for (int64_t i = 0; i < per; ++i)
        co_await ch.send(i);
      wg.done();
    });
  go(rt, [=, &sum]() -> task<> {
    int64_t acc = 0;
    for (int64_t i = 0; i < n; ++i)
      acc += *co_await ch.recv();
    sum = acc;
    wg.done();
  });
  wg.wait_blocking();
  checksummed_line("fanin", sw, n, sum, producers * (per * (per - 1) / 2))
    .kv("producers", producers)
    .print();
}

// -- workerpool
// ----------------------------------------------------------------

/// 8 workers read job ids 1..n from a jobs channel (cap 1024), run 1000
/// xorshift64 iterations per job and send the result to a results channel
/// (cap 1024); a "main" goroutine sums n results (uint64, wrapping).
void bench_workerpool(runtime& rt, const settings& s) {
  constexpr int workers = 8;
  constexpr int iters = 1000;
  constexpr uint64_t anchor_checksum = 2367181072474710513ULL;
  auto n = scaled(1000000, s.scale);
  auto jobs = make_chan<uint64_t>(rt, 1024);
  auto results = make_chan<uint64_t>(rt, 1024);
  wait_group wg{rt};
  wg.add(1);
  uint64_t sum = 0;
  stopwatch sw;
  go(rt, [=, &sum]() -> task<> {
    go([=]() -> task<> {
      for (uint64_t id = 1; id <= static_cast<uint64_t>(n); ++id)
        co_await jobs.send(id);
      jobs.close();
    });
    for (int w = 0; w < workers; ++w)
      go([=]() -> task<> {
        while (auto id = co_await jobs.recv())
          co_await results.send(xorshift(*id, iters));
      });
    uint64_t acc = 0;
    for (int64_t i = 0; i < n; ++i)
      acc += *co_await results.recv();
    sum = acc;
    wg.done();
  });
  wg.wait_blocking();
  sw.stop();
  auto wall = sw.wall_ns();
  auto cpu = sw.cpu_ns();
  uint64_t expected = anchor_checksum;
  if (n != 1000000) {
    expected = 0;
    for (uint64_t id = 1; id <= static_cast<uint64_t>(n); ++id)
      expected += xorshift(id, iters);
  }
  if (sum != expected)
    fail("workerpool", "checksum %llu, expected %llu",
         static_cast<unsigned long long>(sum),
         static_cast<unsigned long long>(expected));
  out_line{"workerpool", wall, static_cast<double>(n)}
    .kv("n", n)
    .kv("workers", workers)
    .kv("checksum", sum)
    .kv("cpu_ns_per_op", per_op(cpu, n))
    .print();
}

// -- sieve
// ---------------------------------------------------------------------

/// The n-th prime by a sequential sieve of Eratosthenes up to `limit` (0 if
/// there are fewer primes).
int64_t nth_prime(int64_t n, int64_t limit) {
  std::vector<bool> composite(static_cast<size_t>(limit + 1), false);
  int64_t found = 0;
  for (int64_t i = 2; i <= limit; ++i) {
    if (composite[static_cast<size_t>(i)])
      continue;
    if (++found == n)
      return i;
    for (int64_t j = i * i; j <= limit; j += i)
      composite[static_cast<size_t>(j)] = true;
  }
  return 0;
}

/// The concurrent prime sieve: a generator goroutine and one filter
/// goroutine per prime, chained by unbuffered channels; first n primes.
void bench_sieve(runtime& rt, const settings& s) {
  auto n = scaled(5000, s.scale);
  int64_t limit = 100;
  if (n >= 6) {
    // Rosser: p_n < n (ln n + ln ln n) for n >= 6.
    auto ln_n = std::log(static_cast<double>(n));
    limit
      = static_cast<int64_t>(static_cast<double>(n) * (ln_n + std::log(ln_n)))
        + 2;
  }
  wait_group wg{rt};
  wg.add(1);
  int64_t last = 0;
  steady::time_point t_end;
  double cpu_end = 0;
  perf_region(true);
  auto t0 = steady::now();
  auto cpu0 = process_cpu_ns();
  go(rt, [=, &last, &t_end, &cpu_end]() -> task<> {
    auto ch = make_chan<int64_t>();
    go(
      [](chan<int64_t> out, int64_t limit) -> task<> {
        for (int64_t i = 2; i <= limit; ++i)
          co_await out.send(i);
        out.close();
      },
      ch, limit);
    int64_t prime = 0;
    for (int64_t i = 0; i < n; ++i) {
      prime = *co_await ch.recv();
      auto next = make_chan<int64_t>();
      go(
        [](chan<int64_t> in, chan<int64_t> out, int64_t p) -> task<> {
          while (auto v = co_await in.recv())
            if (*v % p != 0)
              co_await out.send(*v);
          out.close();
        },
        ch, next, prime);
      ch = next;
    }
    t_end = steady::now();
    cpu_end = process_cpu_ns();
    perf_region(false);
    last = prime;
    while (co_await ch.recv()) {
      // drain the pipeline after the clock stopped
    }
    wg.done();
  });
  wg.wait_blocking();
  auto wall = ns_between(t0, t_end);
  auto cpu = cpu_end - cpu0;
  auto expected = nth_prime(n, limit);
  if (n == 5000 && expected != 48611)
    fail("sieve", "reference sieve gives %lld for prime 5000, not 48611",
         static_cast<long long>(expected));
  if (last != expected)
    fail("sieve", "last_prime %lld, expected %lld",
         static_cast<long long>(last), static_cast<long long>(expected));
  out_line{"sieve", wall, static_cast<double>(n)}
    .kv("n", n)
    .kv("total_ms", wall / 1e6)
    .kv("last_prime", last)
    .kv("cpu_ns_per_op", per_op(cpu, n))
    .print();
}

// -- select
// --------------------------------------------------------------------

/// Two producers each send n/2 ints on its own unbuffered channel and close
/// it; one consumer selects over both, dropping (nil-ing) a closed channel.
void bench_select(runtime& rt, const settings& s) {
  auto per = std::max<int64_t>(1, scaled(10000000, s.scale) / 2);
  auto n = per * 2;
  wait_group wg{rt};
  wg.add(1);
  int64_t sum = 0;
  int64_t got = 0;
  stopwatch sw;
  go(rt, [=, &sum, &got]() -> task<> {
    auto a = make_chan<int64_t>();
    auto b = make_chan<int64_t>();
    auto producer = [](chan<int64_t> c, int64_t per) -> task<> {
      for (int64_t i = 0; i < per; ++i)
        co_await c.send(i);
      c.close();
    };
    go(producer, a, per);
    go(producer, b, per);
    int64_t acc = 0;
    int64_t count = 0;
    std::optional<int64_t> x;
    std::optional<int64_t> y;
    while (!a.nil() || !b.nil()) {
      auto k = co_await select(recv_case(a, x), recv_case(b, y));
      auto& v = k == 0 ? x : y;
      if (!v) {
        (k == 0 ? a : b) = chan<int64_t>{};
        continue;
      }
      acc += *v;
      ++count;
    }
    sum = acc;
    got = count;
    wg.done();
  });
  wg.wait_blocking();
  sw.stop();
  auto wall = sw.wall_ns();
  auto cpu = sw.cpu_ns();
  if (got != n || sum != 2 * (per * (per - 1) / 2))
    fail("select", "got %lld items summing to %lld, expected %lld and %lld",
         static_cast<long long>(got), static_cast<long long>(sum),
         static_cast<long long>(n),
         static_cast<long long>(2 * (per * (per - 1) / 2)));
  out_line{"select", wall, static_cast<double>(n)}
    .kv("n", n)
    .kv("cpu_ns_per_op", per_op(cpu, n))
    .print();
}

// -- errgroup (bench/errgroup/errgroup_workloads.hpp)
// --------------------------

void bench_errgroup(runtime& rt, const settings& s) {
  errgroup_workload(rt, scaled(100000, s.scale, 100));
}

void bench_errgroup_cancel(runtime& rt, const settings& s) {
  errgroup_cancel_workload(rt, scaled(100000, s.scale, 100));
}

// -- main
// ----------------------------------------------------------------------

struct workload {
  const char* name;
  void (*fn)(runtime&, const settings&);
};

constexpr workload workloads[] = {
  {"spawn", bench_spawn},       {"park", bench_park},
  {"pingpong", bench_pingpong}, {"buffered", bench_buffered},
  {"fanin", bench_fanin},       {"workerpool", bench_workerpool},
  {"sieve", bench_sieve},       {"select", bench_select},
  {"errgroup", bench_errgroup}, {"errgroup_cancel", bench_errgroup_cancel},
};

bool selected(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    if (item == "all" || item == name)
      return true;
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace

int main(int argc, char** argv) {
  std::string which = "all";
  settings s;
  bool threads_given = false;
  std::vector<char*> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string_view a{argv[i]};
    if (a.rfind("--bench=", 0) == 0) {
      which = std::string{a.substr(8)};
    } else if (a.rfind("--scale=", 0) == 0) {
      char* end = nullptr;
      s.scale = std::strtod(argv[i] + 8, &end);
      if (end == argv[i] + 8 || *end != '\0' || !(s.scale > 0)) {
        std::fprintf(stderr, "rotina_bench: bad --scale: %s\n", argv[i]);
        return 2;
      }
    } else if (a == "--cold-only") {
      s.cold_only = true;
    } else if (a.rfind("--perf-ctl=", 0) == 0) {
      if (!set_perf_control(std::string{a.substr(11)})) {
        std::fprintf(stderr, "rotina_bench: cannot open %s\n", argv[i]);
        return 2;
      }
    } else {
      threads_given
        |= a.find("scheduler.max-threads") != std::string_view::npos;
      args.push_back(argv[i]);
    }
  }
  if (which == "list") {
    for (auto& w : workloads)
      std::puts(w.name);
    return 0;
  }
  std::string threads_flag = "--scheduler.max-threads=2";
  if (!threads_given)
    args.push_back(threads_flag.data());
  args.push_back(nullptr);
  int ran = 0;
  {
    runtime rt{static_cast<int>(args.size()) - 1, args.data()};
    for (auto& w : workloads) {
      if (selected(which, w.name)) {
        w.fn(rt, s);
        ++ran;
      }
    }
  }
  if (ran == 0) {
    std::fprintf(stderr, "rotina_bench: no such workload: %s\n", which.c_str());
    return 2;
  }
  return 0;
}
