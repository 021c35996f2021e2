// errgroup anchors (../shared/bench-anchors README): `errgroup` and
// `errgroup_cancel`, 100,000 tasks with set_limit(16), submitted from the
// main thread like Go's benchErrgroup / benchErrgroupCancel. Prints one
// anchor line per workload and exits with status 1 if a result is wrong.
//
// Run: errgroup_bench [--bench=errgroup|errgroup_cancel|all] [--scale=F]
//                     [rotina options, e.g. --scheduler.max-threads=2]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rotina/context.hpp>
#include <rotina/errgroup.hpp>
#include <rotina/runtime.hpp>

namespace {

using namespace rotina;
using steady = std::chrono::steady_clock;

double ns_since(steady::time_point t0) {
  return std::chrono::duration<double, std::nano>(steady::now() - t0).count();
}

int bench_errgroup(runtime& rt, int n) {
  constexpr int limit = 16;
  std::atomic<int> ran{0};
  errgroup g{rt};
  g.set_limit(limit);
  auto t0 = steady::now();
  for (int i = 0; i < n; ++i)
    g.go([&ran]() -> error {
      ran.fetch_add(1, std::memory_order_relaxed);
      return {};
    });
  error err = g.wait();
  auto ns = ns_since(t0);
  if (err || ran.load() != n) {
    std::fprintf(stderr, "errgroup: wrong result: err=%s ran=%d of %d\n",
                 err.to_string().c_str(), ran.load(), n);
    return 1;
  }
  std::printf("errgroup %.2f ns/op n=%d limit=%d\n", ns / n, n, limit);
  return 0;
}

int bench_errgroup_cancel(runtime& rt, int n) {
  constexpr int limit = 16;
  const int fail_at = n / 2;
  std::atomic<int64_t> ran{0};
  auto [g, ctx] = errgroup::with_context(rt, background(rt));
  g.set_limit(limit);
  auto t0 = steady::now();
  for (int i = 0; i < n; ++i)
    g.go([i, fail_at, c = ctx, &ran]() -> error {
      if (auto e = c.err())
        return e;
      ran.fetch_add(1, std::memory_order_relaxed);
      if (i == fail_at)
        return error{errc::failed, "task failed"};
      return {};
    });
  error err = g.wait();
  auto ns = ns_since(t0);
  auto r = ran.load();
  // After the failing task at most one limit-wide wave may still pass.
  if (!(err == errc::failed) || err.message() != "task failed"
      || r < fail_at + 1 - limit || r > fail_at + 1 + limit) {
    std::fprintf(stderr, "errgroup_cancel: wrong result: err=%s ran=%lld\n",
                 err.to_string().c_str(), static_cast<long long>(r));
    return 1;
  }
  std::printf("errgroup_cancel %.2f ns/op n=%d limit=%d total_ms=%.2f ran=%lld\n",
              ns / n, n, limit, ns / 1e6, static_cast<long long>(r));
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string which = "all";
  double scale = 1.0;
  int rest = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a{argv[i]};
    if (a.substr(0, 8) == "--bench=")
      which = std::string{a.substr(8)};
    else if (a.substr(0, 8) == "--scale=")
      scale = std::atof(argv[i] + 8);
    else
      argv[rest++] = argv[i];
  }
  rotina::runtime rt{rest, argv};
  int n = static_cast<int>(100000 * scale);
  if (n < 100)
    n = 100;
  int rc = 0;
  if (which == "errgroup" || which == "all")
    rc |= bench_errgroup(rt, n);
  if (which == "errgroup_cancel" || which == "all")
    rc |= bench_errgroup_cancel(rt, n);
  return rc;
}
