// Single-operation costs of rotina's primitives (Google Benchmark).
//
//   rotina_micro [--benchmark_filter=REGEX] [--benchmark_min_time=0.2]
//                [rotina options, default --scheduler.max-threads=2]
//
// Benchmarks whose name ends in /goroutine run their timing loop inside a
// goroutine (the loop may move between scheduler threads across a
// co_await), so they report wall time (UseRealTime) and process CPU time.
// Every benchmark checks the values it moves and stops with an error on a
// wrong one.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>
#include <rotina/select.hpp>
#include <rotina/task.hpp>
#include <rotina/wait_group.hpp>

namespace {

using namespace rotina;

runtime* the_runtime = nullptr;

/// Runs `body(state)` as a goroutine and blocks until it has finished.
template <class Body>
void in_goroutine(benchmark::State& state, Body body) {
  wait_group wg{*the_runtime};
  wg.add(1);
  go(*the_runtime, [&state, &body, wg]() -> task<> {
    co_await body(state);
    wg.done();
  });
  wg.wait_blocking();
}

// -- channels
// ------------------------------------------------------------------

/// An uncontended `co_await send` then `co_await recv` on a buffered channel
/// (capacity 1024) in one goroutine: neither ever parks.
void chan_send_recv_buffered(benchmark::State& state) {
  in_goroutine(state, [](benchmark::State& st) -> task<> {
    auto ch = make_chan<int64_t>(*the_runtime, 1024);
    int64_t i = 0;
    for (auto _ : st) {
      co_await ch.send(i);
      auto v = co_await ch.recv();
      if (!v || *v != i) {
        st.SkipWithError("chan_send_recv_buffered: wrong value");
        break;
      }
      ++i;
    }
  });
}
BENCHMARK(chan_send_recv_buffered)
  ->Name("chan_send_recv_buffered/goroutine")
  ->UseRealTime()
  ->MeasureProcessCPUTime();

/// The same pair from a plain thread: send_blocking then recv_blocking on a
/// buffered channel with room (never blocks).
void chan_send_recv_buffered_thread(benchmark::State& state) {
  auto ch = make_chan<int64_t>(*the_runtime, 1024);
  int64_t i = 0;
  for (auto _ : state) {
    ch.send_blocking(i);
    auto v = ch.recv_blocking();
    if (!v || *v != i) {
      state.SkipWithError("chan_send_recv_buffered_thread: wrong value");
      break;
    }
    ++i;
  }
}
BENCHMARK(chan_send_recv_buffered_thread)
  ->Name("chan_send_recv_buffered/thread");

/// try_send then try_recv on a buffered channel with room.
void chan_try_send_try_recv(benchmark::State& state) {
  auto ch = make_chan<int64_t>(*the_runtime, 1024);
  int64_t i = 0;
  for (auto _ : state) {
    if (!ch.try_send(i)) {
      state.SkipWithError("chan_try_send_try_recv: try_send failed");
      break;
    }
    auto r = ch.try_recv();
    if (r.status != recv_status::received || *r.value != i) {
      state.SkipWithError("chan_try_send_try_recv: wrong value");
      break;
    }
    ++i;
  }
}
BENCHMARK(chan_try_send_try_recv);

/// try_recv on an empty channel (buffered: arg 1024; unbuffered: arg 0).
void chan_try_recv_empty(benchmark::State& state) {
  auto ch
    = make_chan<int64_t>(*the_runtime, static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto r = ch.try_recv();
    if (r.status != recv_status::empty) {
      state.SkipWithError("chan_try_recv_empty: not empty");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(chan_try_recv_empty)->Arg(0)->Arg(1024);

// -- select
// --------------------------------------------------------------------

/// A select over 4 buffered channels that all hold a value, plus the
/// try_send that refills the chosen one (see chan_try_send_try_recv for the
/// cost of a try pair).
void select_4_ready(benchmark::State& state) {
  in_goroutine(state, [](benchmark::State& st) -> task<> {
    std::vector<chan<int64_t>> chs;
    for (int i = 0; i < 4; ++i) {
      chs.push_back(make_chan<int64_t>(*the_runtime, 1));
      (void)chs.back().try_send(i);
    }
    std::optional<int64_t> v0, v1, v2, v3;
    std::optional<int64_t>* vs[] = {&v0, &v1, &v2, &v3};
    int64_t hits[4] = {0, 0, 0, 0};
    for (auto _ : st) {
      auto k = co_await select(recv_case(chs[0], v0), recv_case(chs[1], v1),
                               recv_case(chs[2], v2), recv_case(chs[3], v3));
      auto& v = *vs[k];
      if (!v || *v != static_cast<int64_t>(k)) {
        st.SkipWithError("select_4_ready: wrong value");
        break;
      }
      ++hits[k];
      (void)chs[k].try_send(static_cast<int64_t>(k));
    }
    // Go picks uniformly among ready cases; every case must have won a share.
    if (st.iterations() >= 1000)
      for (auto h : hits)
        if (h * 8 < static_cast<int64_t>(st.iterations())) {
          st.SkipWithError("select_4_ready: choice is not uniform");
          break;
        }
  });
}
BENCHMARK(select_4_ready)
  ->Name("select_4_ready/goroutine")
  ->UseRealTime()
  ->MeasureProcessCPUTime();

// -- spawn
// ---------------------------------------------------------------------

/// `go` of one goroutine from a goroutine, which then waits for it on a
/// buffered channel: spawn + first run + exit + waking the parent.
void go_and_join(benchmark::State& state) {
  in_goroutine(state, [](benchmark::State& st) -> task<> {
    auto ch = make_chan<int64_t>(*the_runtime, 1);
    int64_t i = 0;
    for (auto _ : st) {
      go([ch, i] { (void)ch.try_send(i); });
      auto v = co_await ch.recv();
      if (!v || *v != i) {
        st.SkipWithError("go_and_join: wrong value");
        break;
      }
      ++i;
    }
  });
}
BENCHMARK(go_and_join)
  ->Name("go_and_join/goroutine")
  ->UseRealTime()
  ->MeasureProcessCPUTime();

/// `go` of one goroutine from a goroutine without waiting: the cost a
/// spawner pays per child in a burst (the children run on the other worker
/// or after the loop; the group waits for them after the timing loop).
void go_burst(benchmark::State& state) {
  wait_group wg{*the_runtime};
  in_goroutine(state, [wg](benchmark::State& st) -> task<> {
    for (auto _ : st) {
      wg.add(1);
      go([wg] { wg.done(); });
    }
    co_await wg.wait();
  });
}
BENCHMARK(go_burst)
  ->Name("go_burst/goroutine")
  ->UseRealTime()
  ->MeasureProcessCPUTime();

} // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  bool threads_given = false;
  for (int i = 1; i < argc; ++i)
    threads_given |= std::string_view{argv[i]}.find("scheduler.max-threads")
                     != std::string_view::npos;
  std::vector<char*> args{argv, argv + argc};
  std::string threads_flag = "--scheduler.max-threads=2";
  if (!threads_given)
    args.push_back(threads_flag.data());
  args.push_back(nullptr);
  runtime rt{static_cast<int>(args.size()) - 1, args.data()};
  the_runtime = &rt;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  the_runtime = nullptr;
  return 0;
}
