// rotina's remote channel rows, with the definitions of the raw-CAF anchors in
// ../shared/bench-anchors/caf/remote.cpp (two processes on 127.0.0.1):
//
//   remote_pingpong    N round trips: the client sends i on the server's
//                      unbuffered channel "ping", the server's goroutine
//                      receives it and sends it back on the client's
//                      unbuffered channel pong (each channel lives on the node
//                      of its receiver). ns/op = one round trip.
//   remote_throughput  the client streams N int64 on the server's channel
//                      "sink" (capacity 1024); a server goroutine drains it
//                      and reports the count on the client's channel done.
//                      ns/op = one value; msgs_per_s.
//
//   remote_bench --mode=server [rotina options]      prints "port P", serves
//                                                    until the client quits
//   remote_bench --mode=client --port=P --n=N --bench=remote_pingpong|
//                remote_throughput [rotina options]
// bench/remote/run starts both, alternates with the raw-CAF anchor, prints
// medians and ratios.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <rotina/chan.hpp>
#include <rotina/error.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/remote.hpp>
#include <rotina/runtime.hpp>
#include <rotina/task.hpp>

using rotina::chan;
using rotina::task;

namespace {

/// The server: answers pings, drains the sink; `hello` brings the client's
/// channels (pong, then done).
task<> serve_ping(chan<int64_t> ping, chan<chan<int64_t>> hello) {
  auto pong = co_await hello.recv();
  if (!pong)
    co_return;
  while (auto v = co_await ping.recv())
    co_await pong->send(*v);
}

task<> serve_sink(chan<int64_t> sink, chan<chan<int64_t>> hello) {
  auto done = co_await hello.recv();
  if (!done)
    co_return;
  int64_t count = 0;
  while (auto v = co_await sink.recv()) {
    ++count;
    if (*v < 0) // the last value
      co_await done->send(count);
  }
}

task<> ping_client(chan<int64_t> ping, chan<int64_t> pong, int64_t n,
                   chan<int64_t> finished) {
  for (int64_t i = 0; i < n; ++i) {
    co_await ping.send(i);
    auto v = co_await pong.recv();
    if (!v || *v != i)
      throw std::runtime_error("pong mismatch");
  }
  co_await finished.send(n);
}

task<> sink_client(chan<int64_t> sink, int64_t n) {
  for (int64_t i = 1; i < n; ++i)
    co_await sink.send(i);
  int64_t last = -1;
  co_await sink.send(last);
}

std::string arg_value(int argc, char** argv, std::string_view key,
                      std::string fallback) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.substr(0, key.size()) == key && a.size() > key.size()
        && a[key.size()] == '=')
      return std::string{a.substr(key.size() + 1)};
  }
  return fallback;
}

} // namespace

int main(int argc, char** argv) {
  auto mode = arg_value(argc, argv, "--mode", "server");
  auto bench = arg_value(argc, argv, "--bench", "remote_pingpong");
  auto n = std::stoll(arg_value(argc, argv, "--n", "10000"));
  auto port = arg_value(argc, argv, "--port", "0");
  // Our own flags are not rotina config keys: hand rotina the rest.
  std::vector<std::string> store{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.rfind("--mode=", 0) == 0 || a.rfind("--bench=", 0) == 0
        || a.rfind("--n=", 0) == 0 || a.rfind("--port=", 0) == 0)
      continue;
    store.emplace_back(a);
  }
  if (mode == "server") {
    store.emplace_back("--node-name=bench-server");
    store.emplace_back("--listen=true");
  } else {
    store.emplace_back("--node-name=bench-client");
    store.emplace_back("--peers=[\"127.0.0.1:" + port + "\"]");
  }
  std::vector<char*> args;
  for (auto& s : store)
    args.push_back(s.data());
  args.push_back(nullptr);
  rotina::runtime rt{static_cast<int>(store.size()), args.data()};
  if (mode == "server") {
    auto ping = rotina::make_chan<int64_t>(rt, 0);
    auto sink = rotina::make_chan<int64_t>(rt, 1024);
    auto hello_ping = rotina::make_chan<chan<int64_t>>(rt, 1);
    auto hello_sink = rotina::make_chan<chan<int64_t>>(rt, 1);
    auto quit = rotina::make_chan<int64_t>(rt, 1);
    rt.publish("ping", ping);
    rt.publish("sink", sink);
    rt.publish("hello-ping", hello_ping);
    rt.publish("hello-sink", hello_sink);
    rt.publish("quit", quit);
    rotina::go(rt, serve_ping, ping, hello_ping);
    rotina::go(rt, serve_sink, sink, hello_sink);
    std::printf("port %u\n", static_cast<unsigned>(rt.self().port));
    std::fflush(stdout);
    // Serve until the client sends quit (or 300 s pass).
    auto got = quit.recv_blocking();
    (void) got;
    ping.close();
    sink.close();
    hello_ping.close();
    hello_sink.close();
    rt.shutdown();
    return 0;
  }
  if (auto errs = rt.wait_for_peers(); !errs.empty()) {
    std::cerr << "remote_bench: " << errs.front().to_string() << "\n";
    return 1;
  }
  auto server = *rt.find_node("bench-server");
  auto quit = *rt.lookup<chan<int64_t>>(server, "quit");
  auto finished = rotina::make_chan<int64_t>(rt, 1);
  auto t0 = std::chrono::steady_clock::now();
  if (bench == "remote_pingpong") {
    auto ping = *rt.lookup<chan<int64_t>>(server, "ping");
    auto hello = *rt.lookup<chan<chan<int64_t>>>(server, "hello-ping");
    auto pong = rotina::make_chan<int64_t>(rt, 0);
    hello.send_blocking(pong);
    t0 = std::chrono::steady_clock::now();
    rotina::go(rt, ping_client, ping, pong, n, finished);
    finished.recv_blocking();
  } else {
    auto sink = *rt.lookup<chan<int64_t>>(server, "sink");
    auto hello = *rt.lookup<chan<chan<int64_t>>>(server, "hello-sink");
    hello.send_blocking(finished);
    t0 = std::chrono::steady_clock::now();
    rotina::go(rt, sink_client, sink, n);
    auto count = finished.recv_blocking();
    if (!count || *count != n) {
      std::cerr << "remote_bench: the server counted "
                << (count ? *count : -1) << " of " << n << "\n";
      return 1;
    }
  }
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::steady_clock::now() - t0)
              .count();
  auto per = static_cast<double>(ns) / static_cast<double>(n);
  if (bench == "remote_pingpong")
    std::printf("remote_pingpong %.2f ns/op n=%lld us_per_rt=%.2f\n", per,
                static_cast<long long>(n), per / 1000.0);
  else
    std::printf("remote_throughput %.2f ns/op n=%lld msgs_per_s=%.2f\n", per,
                static_cast<long long>(n), 1e9 / per);
  try {
    quit.send_blocking(1);
  } catch (const rotina::panic_error&) {
    // The server may exit before its answer to quit arrives: that is fine.
  }
  rt.shutdown();
  return 0;
}
