// errgroup anchors on their own (the workloads are in errgroup_workloads.hpp
// and are also part of bench/rotina_bench). Prints one anchor line per
// workload and exits with status 1 if a result is wrong.
//
// Run: errgroup_bench [--bench=errgroup|errgroup_cancel|all] [--scale=F]
//                     [rotina options, e.g. --scheduler.max-threads=2]
#include <cstdlib>
#include <string>
#include <string_view>

#include <rotina/runtime.hpp>

#include "errgroup_workloads.hpp"

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
  auto n = rotina::bench::scaled(100000, scale, 100);
  if (which == "errgroup" || which == "all")
    rotina::bench::errgroup_workload(rt, n);
  if (which == "errgroup_cancel" || which == "all")
    rotina::bench::errgroup_cancel_workload(rt, n);
  return 0;
}
