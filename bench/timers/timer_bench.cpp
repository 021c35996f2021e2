// Timer and yield costs, side by side with timer_bench.go (same workloads):
//   yield   one goroutine does N `co_await yield()` (Go: runtime.Gosched);
//           prints ns per yield
//   yield2  two goroutines yield in turn, N each
//   sleeps  N goroutines sleep until one common deadline (1 s after they all
//           started); prints the median, p99 and worst lateness of the
//           wake-up (time seen after the sleep minus the deadline); the
//           sleepers stay parked until all measured, so goroutine exit is
//           not part of the figure
// Usage: timer_bench [--bench=yield|yield2|sleeps|all] [--n=N] [rotina keys]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "rotina/chan.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/runtime.hpp"
#include "rotina/time.hpp"

using namespace rotina;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

task<> yielder(long n, chan<int> done) {
  for (long i = 0; i < n; ++i)
    co_await yield();
  co_await done.send(1);
}

void bench_yield(runtime& rt, long n, int goroutines) {
  auto done = make_chan<int>(rt, goroutines);
  auto t0 = steady::now();
  for (int i = 0; i < goroutines; ++i)
    go(rt, yielder, n, done);
  for (int i = 0; i < goroutines; ++i)
    (void)done.recv_blocking();
  auto ns
    = std::chrono::duration<double, std::nano>(steady::now() - t0).count();
  std::printf("yield%s: %ld yields x %d goroutines: %.1f ns/yield\n",
              goroutines == 1 ? "" : "2", n, goroutines,
              ns / static_cast<double>(n * goroutines));
}

task<> sleeper(std::shared_ptr<std::vector<std::chrono::nanoseconds>> late,
               std::shared_ptr<std::atomic<int64_t>> deadline_ns,
               std::shared_ptr<std::atomic<long>> left, recv_chan<int> gate,
               std::shared_ptr<chan<int>> gate2, chan<int> done, size_t i) {
  (void)co_await gate.recv();
  auto deadline
    = steady::time_point{std::chrono::nanoseconds{deadline_ns->load()}};
  co_await sleep(deadline - steady::now());
  (*late)[i] = steady::now() - deadline;
  if (left->fetch_sub(1) == 1) // like Go's WaitGroup: one wake at the end
    co_await done.send(1);
  // Stay parked until every sleeper measured: goroutine exit is not timed.
  (void)co_await gate2->recv();
}

void bench_sleeps(runtime& rt, long n) {
  auto late = std::make_shared<std::vector<std::chrono::nanoseconds>>(n);
  auto deadline_ns = std::make_shared<std::atomic<int64_t>>(0);
  auto left = std::make_shared<std::atomic<long>>(n);
  auto gate = make_chan<int>(rt);
  auto gate2 = std::make_shared<chan<int>>(make_chan<int>(rt));
  auto done = make_chan<int>(rt, 1);
  for (long i = 0; i < n; ++i)
    go(rt, sleeper, late, deadline_ns, left, gate, gate2, done,
       static_cast<size_t>(i));
  while (gate.state()->waiting().second < static_cast<size_t>(n))
    std::this_thread::sleep_for(1ms);
  deadline_ns->store((steady::now() + 1s).time_since_epoch().count());
  gate.close();
  (void)done.recv_blocking();
  gate2->close();
  std::sort(late->begin(), late->end());
  auto us = [&](size_t k) {
    return std::chrono::duration<double, std::micro>((*late)[k]).count();
  };
  std::printf("sleeps: %ld sleeps, one deadline: lateness median %.0f us, "
              "p99 %.0f us, worst %.0f us\n",
              n, us(n / 2), us(n * 99 / 100), us(n - 1));
}

} // namespace

int main(int argc, char** argv) {
  std::string which = "all";
  long n = 0;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--bench=", 8) == 0)
      which = argv[i] + 8;
    else if (std::strncmp(argv[i], "--n=", 4) == 0)
      n = std::atol(argv[i] + 4);
    else
      rest.push_back(argv[i]);
  }
  runtime rt{static_cast<int>(rest.size()), rest.data()};
  if (which == "yield" || which == "all")
    bench_yield(rt, n > 0 ? n : 1000000, 1);
  if (which == "yield2" || which == "all")
    bench_yield(rt, n > 0 ? n : 1000000, 2);
  if (which == "sleeps" || which == "all")
    bench_sleeps(rt, n > 0 ? n : 100000);
}
