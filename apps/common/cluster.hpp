// cluster.hpp: what the multi-node apps (mandelbrot, wordfreq, temperature)
// share until remote goroutines (go_on) exist: every app binary has three roles,
// chosen on its command line (app sections are not accepted in node INI files,
// docs/config.md, so the role is a flag next to --config-file):
//   --role=local        (default) the single-node program, unchanged;
//   --role=coordinator  owns and publishes the app's channels, waits for
//                       --nodes=N nodes in all (itself included) to join, runs
//                       the job and prints the result;
//   --role=worker       looks up the coordinator's channels on the node named
//                       by --coordinator=NAME and runs the worker goroutines
//                       until the job channel is closed, then exits 0.
// --join-timeout=S bounds every wait for another node (default 20 seconds).
// The node itself (name, listen address, peers) comes from the node's config
// file (config/cluster-3node/), as for every rotina program.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <rotina/node.hpp>
#include <rotina/result.hpp>
#include <rotina/runtime.hpp>

namespace cluster {

/// The role flags of a multi-node app.
struct role_options {
  std::string role = "local"; // local | coordinator | worker
  std::string coordinator;    // worker: the coordinator's node name
  int nodes = 1;              // coordinator: nodes in all, itself included
  int join_timeout_s = 20;    // bound of every wait for another node
};

/// Parses one of --role= --coordinator= --nodes= --join-timeout= into `o`.
/// Returns 1 if `arg` was one of them, 0 if not, -1 (after printing an error
/// naming the flag) if its value is bad.
inline int parse_role_flag(const char* app, const std::string& arg, role_options& o) {
  auto eq = arg.find('=');
  std::string key = arg.substr(0, eq), value = eq == std::string::npos ? "" : arg.substr(eq + 1);
  auto number = [&](int& out, int lo, int hi) {
    char* end = nullptr;
    long v = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < lo || v > hi) {
      std::fprintf(stderr, "%s: %s: expected a number in [%d, %d]\n", app, arg.c_str(), lo, hi);
      return -1;
    }
    out = int(v);
    return 1;
  };
  if (key == "--role") {
    if (value != "local" && value != "coordinator" && value != "worker") {
      std::fprintf(stderr, "%s: %s: expected local, coordinator or worker\n", app, arg.c_str());
      return -1;
    }
    o.role = value;
    return 1;
  }
  if (key == "--coordinator") {
    if (value.empty()) {
      std::fprintf(stderr, "%s: %s: expected a node name\n", app, arg.c_str());
      return -1;
    }
    o.coordinator = value;
    return 1;
  }
  if (key == "--nodes")
    return number(o.nodes, 1, 64);
  if (key == "--join-timeout")
    return number(o.join_timeout_s, 1, 3600);
  return 0;
}

/// Checks the flags against each other and against the node's config.
/// Prints an error and returns false when they do not fit.
inline bool check_roles(const char* app, const role_options& o, rotina::runtime& rt) {
  if (o.role == "worker" && o.coordinator.empty()) {
    std::fprintf(stderr, "%s: --role=worker needs --coordinator=NODE-NAME\n", app);
    return false;
  }
  if (o.role != "worker" && !o.coordinator.empty()) {
    std::fprintf(stderr, "%s: --coordinator is for --role=worker\n", app);
    return false;
  }
  if (o.role != "coordinator" && o.nodes != 1) {
    std::fprintf(stderr, "%s: --nodes is for --role=coordinator\n", app);
    return false;
  }
  if (o.role != "local" && !rt.agent()) { // no rotina.node-name: not a node
    std::fprintf(stderr,
                 "%s: --role=%s needs a node name (rotina.node-name, in a node config file; "
                 "see config/cluster-3node/)\n",
                 app, o.role.c_str());
    return false;
  }
  return true;
}

/// Waits (at most `bound`) until `n` peers are connected; returns them (the
/// first `n` by name) or nothing after printing who is missing.
inline std::optional<std::vector<rotina::node>>
wait_for_workers(const char* app, rotina::runtime& rt, size_t n, std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    auto peers = rt.nodes();
    if (peers.size() >= n) {
      peers.resize(n);
      return peers;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::fprintf(stderr, "%s: only %zu of %zu worker nodes joined within %llds\n", app,
                   peers.size(), n, static_cast<long long>(bound.count()));
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

/// Waits (at most `bound`) until the node called `name` is connected.
inline std::optional<rotina::node>
wait_for_node(const char* app, rotina::runtime& rt, const std::string& name,
              std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    if (auto n = rt.find_node(name); n && *n != rt.self())
      return n;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::fprintf(stderr, "%s: node '%s' did not connect within %llds (check rotina.peers)\n",
                   app, name.c_str(), static_cast<long long>(bound.count()));
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

/// rt.lookup<Handle>(peer, name), retried while the name is not published yet
/// (the coordinator publishes right after it starts; a worker may be faster),
/// at most `bound`. Any other error is returned at once.
template <class Handle>
rotina::result<Handle> lookup(rotina::runtime& rt, const rotina::node& peer,
                              const std::string& name, std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    auto r = rt.lookup<Handle>(peer, name);
    if (r || r.error().code() != rotina::errc::not_found
        || std::chrono::steady_clock::now() >= deadline)
      return r;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

/// Prints where this node listens (the runner and the tests read this line to
/// learn a port picked by the OS with rotina.listen-port = 0).
inline void announce(const char* app, const role_options& o, rotina::runtime& rt) {
  auto& me = rt.self();
  std::fprintf(stderr, "%s: %s node '%s' listening on %s:%u\n", app, o.role.c_str(),
               me.name.c_str(), me.host.c_str(), unsigned(me.port));
}

} // namespace cluster
