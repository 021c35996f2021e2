// Shared by rotina's benchmark programs: the anchors' output line
// (../shared/bench-anchors/README.md, "Output format"), /proc/self/status
// readers, process CPU time, scaled counts and the loud failure exit.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include <time.h>

namespace rotina::bench {

using steady = std::chrono::steady_clock;

/// Nanoseconds between two steady-clock points.
inline double ns_between(steady::time_point t0, steady::time_point t1) {
  return std::chrono::duration<double, std::nano>(t1 - t0).count();
}

/// CPU time of the whole process (every thread) in ns. Unlike wall time it
/// is not inflated by other processes on a shared machine; it does include
/// the scheduler's spinning.
inline double process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// A "VmXXX:   1234 kB" field of /proc/self/status in bytes, or -1.
inline int64_t proc_status_bytes(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr)
    return -1;
  char line[256];
  auto len = std::strlen(key);
  int64_t result = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, len) == 0 && line[len] == ':') {
      result = std::atoll(line + len + 1) * 1024;
      break;
    }
  }
  std::fclose(f);
  return result;
}

/// `def * scale`, at least `min`.
inline int64_t scaled(int64_t def, double scale, int64_t min = 1) {
  auto n = static_cast<int64_t>(static_cast<double>(def) * scale);
  return std::max(n, min);
}

/// The control (and acknowledgement) FIFOs of `perf record --control
/// fifo:CTL,ACK -D -1`, opened by set_perf_control; null when unused.
struct perf_control {
  FILE* ctl = nullptr;
  FILE* ack = nullptr;
};

inline perf_control& perf_fifos() {
  static perf_control fifos;
  return fifos;
}

/// Opens `spec` = "CTL[,ACK]" so that the timed regions of the workloads
/// (and nothing else) are profiled. Returns false if a FIFO cannot be opened.
inline bool set_perf_control(const std::string& spec) {
  auto comma = spec.find(',');
  auto& f = perf_fifos();
  f.ctl = std::fopen(spec.substr(0, comma).c_str(), "w");
  if (comma != std::string::npos)
    f.ack = std::fopen(spec.substr(comma + 1).c_str(), "r");
  return f.ctl != nullptr && (comma == std::string::npos || f.ack != nullptr);
}

/// Enables or disables perf's events (no-op without --perf-ctl); waits for
/// perf's acknowledgement when an ACK FIFO was given.
inline void perf_region(bool enable) {
  auto& f = perf_fifos();
  if (f.ctl == nullptr)
    return;
  std::fputs(enable ? "enable\n" : "disable\n", f.ctl);
  std::fflush(f.ctl);
  if (f.ack != nullptr) {
    char buf[16];
    if (std::fgets(buf, sizeof buf, f.ack) == nullptr)
      f.ack = nullptr;
  }
}

/// Wall clock and process CPU clock of one timed region: started by the
/// constructor, frozen by stop(). A `profiled` region (the one a workload's
/// ns/op comes from) is also bracketed for perf.
class stopwatch {
public:
  explicit stopwatch(bool profiled = true) : profiled_(profiled) {
    if (profiled_)
      perf_region(true);
    cpu0_ = process_cpu_ns();
    t0_ = steady::now();
  }

  /// Freezes both clocks (idempotent).
  void stop() {
    if (stopped_)
      return;
    wall_ = ns_between(t0_, steady::now());
    cpu_ = process_cpu_ns() - cpu0_;
    stopped_ = true;
    if (profiled_)
      perf_region(false);
  }

  double wall_ns() const {
    return stopped_ ? wall_ : ns_between(t0_, steady::now());
  }

  double cpu_ns() const {
    return stopped_ ? cpu_ : process_cpu_ns() - cpu0_;
  }

private:
  double cpu0_ = 0;
  steady::time_point t0_;
  double wall_ = 0;
  double cpu_ = 0;
  bool stopped_ = false;
  bool profiled_;
};

/// One anchor line: `<workload> <ns_per_op> ns/op [key=value ...]`, printed
/// (and flushed) by print().
class out_line {
public:
  out_line(const char* workload, double total_ns, double ops) {
    append("%s %.2f ns/op", workload, total_ns / ops);
  }

  /// Appends ` key=value`: floating-point values with two decimals.
  template <class T>
  out_line& kv(const char* key, T value) {
    if constexpr (std::is_floating_point_v<T>)
      append(" %s=%.2f", key, static_cast<double>(value));
    else if constexpr (std::is_same_v<T, uint64_t>)
      append(" %s=%llu", key, static_cast<unsigned long long>(value));
    else if constexpr (std::is_integral_v<T>)
      append(" %s=%lld", key, static_cast<long long>(value));
    else
      append(" %s=%s", key, std::string{value}.c_str());
    return *this;
  }

  void print() {
    text_ += '\n';
    std::fwrite(text_.data(), 1, text_.size(), stdout);
    std::fflush(stdout);
  }

private:
  void append(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    text_ += buf;
  }

  std::string text_;
};

/// Prints "rotina_bench: <workload>: WRONG RESULT: <message>" to stderr and
/// exits with status 1 at once (without waiting for goroutines that may be
/// stuck): a fast wrong answer is not a result.
[[noreturn]] inline void fail(const char* workload, const char* fmt, ...)
  __attribute__((format(printf, 2, 3)));

inline void fail(const char* workload, const char* fmt, ...) {
  std::fflush(stdout);
  std::fprintf(stderr, "rotina_bench: %s: WRONG RESULT: ", workload);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::_Exit(1);
}

/// The end of a workload whose result is one checksum: stops `sw`, fails
/// unless `sum` is `expected`, and returns the result line with `n` and the CPU
/// time per op (add keys, then print()).
inline out_line checksummed_line(const char* workload, stopwatch& sw, int64_t n,
                                 int64_t sum, int64_t expected) {
  sw.stop();
  if (sum != expected)
    fail(workload, "checksum %lld, expected %lld", static_cast<long long>(sum),
         static_cast<long long>(expected));
  out_line line{workload, sw.wall_ns(), static_cast<double>(n)};
  line.kv("n", n).kv("cpu_ns_per_op", sw.cpu_ns() / static_cast<double>(n));
  return line;
}

/// xorshift64 (13, 7, 17), iterated `iters` times starting from `x`: the
/// workerpool job.
inline uint64_t xorshift(uint64_t x, int iters) {
  for (int i = 0; i < iters; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

} // namespace rotina::bench
