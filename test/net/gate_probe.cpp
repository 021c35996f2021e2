// A node-less program around the transport gate, for the gate's tests. With
// ROTINA_PROBE_TLS=CERT,KEY,CA in the environment both modes use mutual TLS.
//   gate_probe server [handshake-ms] [refuse-reason]
//     listens on 127.0.0.1:0, prints "port N" on stdout, publishes an echo
//     agent, logs refusals on stderr, and runs until stdin closes.
//   gate_probe client PORT [timeout-ms] [node-name]
//     connects, asks the agent to echo "ping", prints "echo: ..." or
//     "error <kind>: <message>" and exits 0 or 1.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "rotina/detail/net_gate.hpp"
#include "rotina/detail/net_tls.hpp"

using namespace rotina::detail::net;
using namespace std::chrono_literals;

namespace {

caf::behavior echo(caf::event_based_actor*) {
  return {[](const std::string& x) { return "echo: " + x; }};
}

hello me(const char* name) {
  hello x;
  x.name = name;
  x.incarnation = static_cast<uint64_t>(getpid());
  x.heartbeat_interval_ns = 500'000'000;
  x.heartbeat_timeout_ns = 2'000'000'000;
  x.fingerprint = "probe";
  return x;
}

/// Applies ROTINA_PROBE_TLS to `gs`; false (and a message) on error.
bool tls_from_env(gate::settings& gs) {
  auto env = std::getenv("ROTINA_PROBE_TLS");
  if (env == nullptr || *env == 0)
    return true;
  std::string spec = env;
  auto a = spec.find(',');
  auto b = spec.find(',', a + 1);
  tls_settings ts;
  ts.certificate = spec.substr(0, a);
  ts.key = spec.substr(a + 1, b - a - 1);
  ts.ca_file = spec.substr(b + 1);
  auto res = tls_context::make(ts);
  if (auto err = std::get_if<std::string>(&res)) {
    std::printf("error tls: %s\n", err->c_str());
    return false;
  }
  gs.tls = std::get<std::shared_ptr<tls_context>>(res);
  return true;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    return 2;
  std::string mode = argv[1];
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  if (mode == "server") {
    gate::settings gs;
    if (!tls_from_env(gs))
      return 1;
    if (argc > 2)
      gs.handshake_timeout = std::chrono::milliseconds{std::stoi(argv[2])};
    std::string refuse = argc > 3 ? argv[3] : "";
    gate g{sys, gs};
    auto agent = sys.spawn(echo);
    gate::listener how;
    how.self = me("server");
    how.agent = caf::actor_cast<caf::strong_actor_ptr>(agent);
    how.check = [refuse](const hello&, const std::string&) { return refuse; };
    how.log = [](const std::string& line) {
      std::fprintf(stderr, "%s\n", line.c_str());
      std::fflush(stderr);
    };
    auto res = g.listen("127.0.0.1", 0, std::move(how));
    if (auto err = std::get_if<std::string>(&res)) {
      std::fprintf(stderr, "%s\n", err->c_str());
      return 1;
    }
    std::printf("port %u\n", static_cast<unsigned>(std::get<uint16_t>(res)));
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line == "pending") {
        std::printf("pending %zu\n", g.pending());
        std::fflush(stdout);
      }
    }
    g.stop();
    caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
    return 0;
  }
  if (mode == "client" && argc > 2) {
    auto port = static_cast<uint16_t>(std::stoi(argv[2]));
    auto timeout = std::chrono::milliseconds{argc > 3 ? std::stoi(argv[3])
                                                      : 2000};
    gate::settings gs;
    if (!tls_from_env(gs))
      return 1;
    gate g{sys, gs};
    auto res = g.connect("127.0.0.1", port, me(argc > 4 ? argv[4] : "client"),
                         {}, timeout);
    if (auto err = std::get_if<connect_error>(&res)) {
      std::printf("error %s: %s\n", to_string(err->kind),
                  err->message.c_str());
      return 1;
    }
    auto& peer = std::get<connected>(res);
    int rc = 1;
    {
      caf::scoped_actor self{sys};
      self
        ->request(caf::actor_cast<caf::actor>(peer.agent), 2s,
                  std::string{"ping"})
        .receive(
          [&](const std::string& x) {
            std::printf("%s from %s\n", x.c_str(), peer.peer.name.c_str());
            rc = 0;
          },
          [&](caf::error& err) {
            std::printf("error request: %s\n", sys.render(err).c_str());
          });
    }
    return rc;
  }
  return 2;
}
