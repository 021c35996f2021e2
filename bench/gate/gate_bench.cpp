// What the transport gate costs: the remote ping-pong and windowed
// throughput of ../shared/bench-anchors/caf/remote.cpp (same definitions),
// over CAF's own publish/remote_actor, over the gate in plain TCP, and over
// the gate with mutual TLS. Raw CAF actors on both sides, so only the
// transport differs.
//
//   gate_bench server TRANSPORT            prints "port P", serves until stdin closes
//   gate_bench client TRANSPORT PORT N     prints one line per workload
// TRANSPORT: caf | gate | tls (tls reads ROTINA_BENCH_TLS=CERT,KEY,CA).
// bench/gate/run starts both, alternates the transports, prints medians.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "rotina/detail/net_gate.hpp"
#include "rotina/detail/net_tls.hpp"

using namespace rotina::detail::net;
using namespace std::chrono_literals;
using a_ping = caf::atom_constant<caf::atom("ping")>;
using a_pong = caf::atom_constant<caf::atom("pong")>;
using a_ack = caf::atom_constant<caf::atom("ack")>;
using a_done = caf::atom_constant<caf::atom("done")>;

namespace {

constexpr int64_t ack_every = 1000;
constexpr int64_t window = 10000;

struct server_state {
  int64_t count = 0;
};

caf::behavior server_actor(caf::stateful_actor<server_state>* self) {
  return {
    [=](a_ping, int64_t v) {
      self->send(caf::actor_cast<caf::actor>(self->current_sender()),
                 a_pong::value, v);
    },
    [=](int64_t) {
      if (++self->state.count % ack_every == 0)
        self->send(caf::actor_cast<caf::actor>(self->current_sender()),
                   a_ack::value, self->state.count);
    },
  };
}

gate::settings settings_for(const std::string& transport) {
  gate::settings gs;
  if (transport != "tls")
    return gs;
  std::string spec = std::getenv("ROTINA_BENCH_TLS") ? std::getenv("ROTINA_BENCH_TLS") : "";
  auto a = spec.find(',');
  auto b = spec.find(',', a + 1);
  tls_settings ts{spec.substr(0, a), spec.substr(a + 1, b - a - 1),
                  spec.substr(b + 1)};
  auto res = tls_context::make(ts);
  if (auto err = std::get_if<std::string>(&res)) {
    std::cerr << "tls: " << *err << "\n";
    std::exit(1);
  }
  gs.tls = std::get<std::shared_ptr<tls_context>>(res);
  return gs;
}

// The client side as event-based actors, like the anchors' rping and
// rsender: they report a_done to `done_to`.
caf::behavior pinger(caf::event_based_actor* self, caf::actor srv, int64_t n,
                     caf::actor done_to) {
  self->send(srv, a_ping::value, int64_t{0});
  return {
    [=](a_pong, int64_t v) {
      if (v + 1 == n) {
        self->send(done_to, a_done::value);
        self->quit();
        return;
      }
      self->send(srv, a_ping::value, v + 1);
    },
  };
}

struct sender_state {
  int64_t sent = 0;
};

caf::behavior sender(caf::stateful_actor<sender_state>* self, caf::actor srv,
                     int64_t n, caf::actor done_to) {
  auto push = [=](int64_t limit) {
    for (auto& st = self->state; st.sent < limit; ++st.sent)
      self->send(srv, st.sent);
  };
  push(std::min(n, window));
  return {
    [=](a_ack, int64_t acked) {
      if (acked >= n) {
        self->send(done_to, a_done::value);
        self->quit();
        return;
      }
      push(std::min(n, acked + window));
    },
  };
}

hello me(const char* name) {
  hello x;
  x.name = name;
  return x;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
    .count();
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3)
    return 2;
  std::string mode = argv[1];
  std::string transport = argv[2];
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  if (mode == "server") {
    auto srv = sys.spawn(server_actor);
    gate g{sys, settings_for(transport)};
    uint16_t port = 0;
    if (transport == "caf") {
      auto res = sys.middleman().publish(srv, 0, "127.0.0.1", true);
      if (!res)
        return 1;
      port = *res;
    } else {
      gate::listener how;
      how.self = me(transport == "tls" ? "server" : "bench-server");
      how.agent = caf::actor_cast<caf::strong_actor_ptr>(srv);
      auto res = g.listen("127.0.0.1", 0, std::move(how));
      if (std::holds_alternative<std::string>(res))
        return 1;
      port = std::get<uint16_t>(res);
    }
    std::cout << "port " << port << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
      // serve until stdin closes
    }
    g.stop();
    caf::anon_send_exit(srv, caf::exit_reason::kill);
    return 0;
  }
  auto port = static_cast<uint16_t>(std::stoi(argv[3]));
  int64_t n = argc > 4 ? std::stoll(argv[4]) : 20000;
  caf::actor srv;
  gate g{sys, settings_for(transport)};
  if (transport == "caf") {
    auto res = sys.middleman().remote_actor("127.0.0.1", port);
    if (!res)
      return 1;
    srv = *res;
  } else {
    auto res = g.connect("127.0.0.1", port,
                         me(transport == "tls" ? "client" : "bench-client"),
                         {}, 5s);
    if (auto err = std::get_if<connect_error>(&res)) {
      std::cerr << err->message << "\n";
      return 1;
    }
    srv = caf::actor_cast<caf::actor>(std::get<connected>(res).agent);
  }
  caf::scoped_actor self{sys};
  auto await_done = [&](const char* row) {
    bool ok = true;
    self->receive([](a_done) {}, caf::after(120s) >> [&] { ok = false; });
    if (!ok)
      std::fprintf(stderr, "%s@%s: timeout\n", row, transport.c_str());
    return ok;
  };
  // remote_pingpong: n round trips.
  {
    auto t0 = std::chrono::steady_clock::now();
    sys.spawn(pinger, srv, n, caf::actor{self});
    if (!await_done("remote_pingpong"))
      return 1;
    auto s = seconds_since(t0);
    std::printf("remote_pingpong@%s %.2f ns/op n=%lld\n", transport.c_str(),
                s * 1e9 / static_cast<double>(n), static_cast<long long>(n));
  }
  // remote_throughput: 10 x n messages, window 10,000, acks every 1,000.
  {
    int64_t total = 10 * n;
    auto t0 = std::chrono::steady_clock::now();
    sys.spawn(sender, srv, total, caf::actor{self});
    if (!await_done("remote_throughput"))
      return 1;
    auto s = seconds_since(t0);
    std::printf("remote_throughput@%s %.2f ns/op n=%lld msgs_per_s=%.0f\n",
                transport.c_str(), s * 1e9 / static_cast<double>(total),
                static_cast<long long>(total), static_cast<double>(total) / s);
  }
  return 0;
}
