// errgroup anchors (../shared/bench-anchors README): `errgroup` and
// `errgroup_cancel`, 100,000 tasks with set_limit(16), submitted from the
// main thread like Go's benchErrgroup / benchErrgroupCancel (main goroutine).
// Used by errgroup_bench (this folder) and by rotina_bench (bench/).
// Each prints one anchor line; a wrong result ends the process with status 1.
#pragma once

#include <atomic>
#include <cstdint>

#include <rotina/context.hpp>
#include <rotina/errgroup.hpp>
#include <rotina/runtime.hpp>

#include "../bench_common.hpp"

namespace rotina::bench {

/// Go's benchErrgroup: n bodies that return nil, limit 16.
inline void errgroup_workload(runtime& rt, int64_t n) {
  constexpr int limit = 16;
  std::atomic<int64_t> ran{0};
  errgroup g{rt};
  g.set_limit(limit);
  stopwatch sw;
  for (int64_t i = 0; i < n; ++i)
    g.go([&ran]() -> error {
      ran.fetch_add(1, std::memory_order_relaxed);
      return {};
    });
  error err = g.wait_blocking();
  sw.stop();
  auto wall = sw.wall_ns();
  auto cpu = sw.cpu_ns();
  if (err || ran.load() != n)
    fail("errgroup", "err=%s ran=%lld of %lld", err.to_string().c_str(),
         static_cast<long long>(ran.load()), static_cast<long long>(n));
  out_line{"errgroup", wall, static_cast<double>(n)}
    .kv("n", n)
    .kv("limit", limit)
    .kv("cpu_ns_per_op", cpu / static_cast<double>(n))
    .print();
}

/// Go's benchErrgroupCancel: with_context + limit 16; body n/2 fails; every
/// body checks the context first; ran = bodies that passed the check.
inline void errgroup_cancel_workload(runtime& rt, int64_t n) {
  constexpr int limit = 16;
  const int64_t fail_at = n / 2;
  std::atomic<int64_t> ran{0};
  auto [g, ctx] = errgroup::with_context(rt, background(rt));
  g.set_limit(limit);
  stopwatch sw;
  for (int64_t i = 0; i < n; ++i)
    g.go([i, fail_at, c = ctx, &ran]() -> error {
      if (auto e = c.err())
        return e;
      ran.fetch_add(1, std::memory_order_relaxed);
      if (i == fail_at)
        return error{errc::failed, "task failed"};
      return {};
    });
  error err = g.wait_blocking();
  sw.stop();
  auto wall = sw.wall_ns();
  auto cpu = sw.cpu_ns();
  auto r = ran.load();
  // After the failing body at most one limit-wide wave may still pass.
  if (!(err == errc::failed) || err.message() != "task failed"
      || r < fail_at + 1 - limit || r > fail_at + 1 + limit)
    fail("errgroup_cancel", "err=%s ran=%lld (expected %lld +- %d)",
         err.to_string().c_str(), static_cast<long long>(r),
         static_cast<long long>(fail_at + 1), limit);
  out_line{"errgroup_cancel", wall, static_cast<double>(n)}
    .kv("n", n)
    .kv("limit", limit)
    .kv("total_ms", wall / 1e6)
    .kv("ran", r)
    .kv("cpu_ns_per_op", cpu / static_cast<double>(n))
    .print();
}

} // namespace rotina::bench
