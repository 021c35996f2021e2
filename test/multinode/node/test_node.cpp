// rotina_test_node: a node process driven by the multinode tests.
//
//   rotina_test_node [--types=point,blob] [--section.key=value ...]
//
// Registers the test types named by --types, starts a runtime from the other
// arguments, prints "ready name=<name> port=<port>" and then answers one
// command per line on stdin, one reply line each on stdout:
//   connect HOST PORT  -> "connect ok <node>" | "connect err <code> | <msg>"
//   wait-peers         -> "peers ok" | "peers err <msg> ; <msg> ..."
//   nodes              -> "nodes <name>,<name>,..." (sorted)
//   watch NAME         -> "watch ok" | "watch none"; later, once:
//                         "down NAME t=<CLOCK_MONOTONIC ns> | <message>"
//   agent NAME         -> "agent ok node_of-ok" (agent_of / node_of work)
//   big NAME BYTES     -> "big answered" | "big timeout" | "big none" (one
//                         request of BYTES bytes to NAME's agent)
//   bench NAME N       -> "bench rtt_median_us=.. rtt_p90_us=..
//                         burst_ns_per_msg=.. failed=.." (agent round trips)
//   ping NAME          -> "ping ok" when NAME's agent answers a request
//                         within 3 s, else "ping timeout" | "ping none"
//   quit (or EOF)      -> shuts the runtime down and exits with status 0
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/scoped_actor.hpp>

#include <rotina/node.hpp>
#include <rotina/runtime.hpp>
#include <rotina/type_registry.hpp>

namespace {

struct point {
  int32_t x = 0;
  int32_t y = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, point& p) {
  return f(caf::meta::type_name("test.point"), p.x, p.y);
}

struct blob {
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, blob& b) {
  return f(caf::meta::type_name("test.blob"), b.bytes);
}

std::mutex out_mtx;

void say(const std::string& line) {
  std::lock_guard<std::mutex> guard{out_mtx};
  std::cout << line << std::endl;
}

// Reads one line from fd 0, retrying reads interrupted by a signal (CAF's
// network layer makes std::getline(std::cin) fail with EINTR).
bool read_line(std::string& line) {
  static std::string buf;
  for (;;) {
    if (auto nl = buf.find('\n'); nl != std::string::npos) {
      line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      return true;
    }
    char chunk[512];
    auto n = ::read(0, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (buf.empty())
        return false;
      line.swap(buf);
      buf.clear();
      return true;
    }
    buf.append(chunk, static_cast<size_t>(n));
  }
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 8) == "--types=") {
      std::stringstream names{std::string{arg.substr(8)}};
      std::string name;
      while (std::getline(names, name, ',')) {
        if (name == "point")
          rotina::register_type<point>("test.point");
        else if (name == "blob")
          rotina::register_type<blob>("test.blob");
      }
      continue;
    }
    args.push_back(argv[i]);
  }
  args.push_back(nullptr);
  rotina::runtime rt{static_cast<int>(args.size()) - 1, args.data()};
  say("ready name=" + rt.self().name
      + " port=" + std::to_string(rt.self().port));
  std::string line;
  while (read_line(line)) {
    std::istringstream in{line};
    std::string cmd;
    in >> cmd;
    if (cmd == "connect") {
      std::string host;
      uint16_t port = 0;
      in >> host >> port;
      auto res = rt.connect(host, port);
      if (res)
        say("connect ok " + res->to_string());
      else
        say(std::string{"connect err "} + rotina::to_string(res.error().code)
            + " | " + res.error().message);
    } else if (cmd == "wait-peers") {
      auto errs = rt.wait_for_peers();
      if (errs.empty()) {
        say("peers ok");
      } else {
        std::string text = "peers err";
        for (auto& e : errs)
          text += " " + e.to_string() + " ;";
        say(text);
      }
    } else if (cmd == "nodes") {
      std::string text = "nodes ";
      bool first = true;
      for (auto& n : rt.nodes()) {
        text += (first ? "" : ",") + n.name;
        first = false;
      }
      say(text);
    } else if (cmd == "watch") {
      std::string name;
      in >> name;
      bool found = false;
      for (auto& n : rt.nodes())
        if (n.name == name) {
          found = true;
          rt.on_node_down(n, [](const rotina::node& x, const rotina::error& e) {
            auto t = now_ns();
            say("down " + x.name + " t=" + std::to_string(t) + " | "
                + e.to_string());
          });
        }
      say(found ? "watch ok" : "watch none");
    } else if (cmd == "agent") {
      // The peer's agent handle, and node_of() mapping its CAF node back.
      std::string name;
      in >> name;
      std::string text = "agent none";
      for (auto& n : rt.nodes())
        if (n.name == name) {
          auto h = rt.agent_of(n);
          auto back = h ? rt.node_of(h.node()) : std::nullopt;
          text = std::string{"agent "} + (h ? "ok" : "null") + " "
                 + (back && *back == n ? "node_of-ok" : "node_of-bad");
        }
      say(text);
    } else if (cmd == "ping") {
      // One request to the peer's agent (a message it does not handle): any
      // answer within 3 s proves that messages cross between the agents.
      std::string name;
      in >> name;
      std::string text = "ping none";
      for (auto& n : rt.nodes())
        if (n.name == name) {
          caf::scoped_actor self{rt.system()};
          text = "ping timeout";
          self
            ->request(rt.agent_of(n), std::chrono::seconds{3},
                      caf::atom_value{caf::atom("rt_ping")})
            .receive([&](caf::message&) { text = "ping ok"; },
                     [&](caf::error& err) {
                       if (err != caf::sec::request_timeout)
                         text = "ping ok";
                     });
        }
      say(text);
    } else if (cmd == "big") {
      // One request carrying BYTES bytes to NAME's agent: "big answered" (any
      // answer), "big timeout" (none within 3 s), or "big none".
      std::string name;
      size_t bytes = 0;
      in >> name >> bytes;
      std::string text = "big none";
      for (auto& n : rt.nodes())
        if (n.name == name) {
          caf::scoped_actor self{rt.system()};
          text = "big timeout";
          self
            ->request(rt.agent_of(n), std::chrono::seconds{3},
                      std::string(bytes, 'x'))
            .receive([&](caf::message&) { text = "big answered"; },
                     [&](caf::error& err) {
                       if (err != caf::sec::request_timeout)
                         text = "big answered";
                     });
        }
      say(text);
    } else if (cmd == "bench") {
      // N sequential requests to NAME's agent (the round trip through both
      // agents), then N requests in one burst: the median and 90th
      // percentile round trip and the burst's time per request.
      std::string name;
      size_t n = 0;
      in >> name >> n;
      std::string text = "bench none";
      for (auto& peer : rt.nodes())
        if (peer.name == name && n > 0) {
          auto agent = rt.agent_of(peer);
          caf::scoped_actor self{rt.system()};
          auto ping = caf::atom_value{caf::atom("rt_ping")};
          std::vector<int64_t> rtt;
          size_t failed = 0;
          for (size_t i = 0; i < n; ++i) {
            auto t0 = now_ns();
            self->request(agent, std::chrono::seconds{3}, ping)
              .receive([](caf::message&) {},
                       [&](caf::error& err) {
                         if (err == caf::sec::request_timeout)
                           ++failed;
                       });
            rtt.push_back(now_ns() - t0);
          }
          std::sort(rtt.begin(), rtt.end());
          auto t0 = now_ns();
          using handle = decltype(self->request(agent, caf::infinite, ping));
          std::vector<handle> pending;
          pending.reserve(n);
          for (size_t i = 0; i < n; ++i)
            pending.push_back(
              self->request(agent, std::chrono::seconds{10}, ping));
          for (auto& h : pending)
            h.receive([](caf::message&) {},
                      [&](caf::error& err) {
                        if (err == caf::sec::request_timeout)
                          ++failed;
                      });
          auto burst = now_ns() - t0;
          text = "bench rtt_median_us=" + std::to_string(rtt[n / 2] / 1000.0)
                 + " rtt_p90_us=" + std::to_string(rtt[n * 9 / 10] / 1000.0)
                 + " burst_ns_per_msg=" + std::to_string(burst / n)
                 + " failed=" + std::to_string(failed);
        }
      say(text);
    } else if (cmd == "quit") {
      break;
    } else if (!cmd.empty()) {
      say("error unknown command '" + cmd + "'");
    }
  }
  rt.shutdown();
  say("bye");
  return 0;
}
