// rotina_go_node: a node process for the go_on tests (go_on_test.cpp).
//
//   rotina_go_node [--goroutines=all|none|nap] [--section.key=value ...]
//
// Registers goroutines (all: add, fail, boom, nap, where; nap: only nap;
// none: nothing), starts a runtime from the other arguments, prints
// "ready name=<name> port=<port>" and answers one command per line on stdin.
// Outcome lines are "<cmd> ok ..." or
// "<cmd> err <errc> | <message> | origin=<origin>":
//   connect HOST PORT     -> "connect ok <node>" | "connect err ..."
//   add NODE A B [i32]    -> go_on "add"(A, B, ch) (i32: A and B as int32_t);
//                            the body sends A+B over ch: "add ok <sum>"
//   fail NODE TEXT        -> go_on "fail"(TEXT): the body returns an error
//   boom NODE             -> go_on "boom"(): the body throws
//   call NODE NAME        -> go_on NAME() without arguments
//   eg N1 N2              -> errgroup: nap 300 ms on N1, fail on N2
//   eglimit NODE K MS     -> errgroup, set_limit(1), K naps of MS on NODE:
//                            "eglimit ok ms=<elapsed>"
//   egkill N1 N2          -> errgroup: nap 60 s on N1, nap 20 ms on N2;
//                            "egkill err ... t=<CLOCK_MONOTONIC ns>"
//   wgkill N1 N2          -> wait_group likewise: "wgkill done t=<ns>
//                            count=<c> errors=<errc>,... | <first message>"
//   place N [warm]        -> N "where" bodies, each on rotina::place(rt):
//                            "place <node>=<count> ..." (warm: one place()
//                            first and 500 ms for the load reports)
//   busy NODE K           -> K naps of 30 s on NODE, not waited for
//   rtt NODE K            -> K go_on "noop" round trips, one at a time:
//                            "rtt ok median_us=<us> p90_us=<us> n=K"
//   quit (or EOF)         -> shuts down, exit status 0
// Bodies print "nap started ms=<ms>" (nap) on the node that runs them.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <rotina/chan.hpp>
#include <rotina/errgroup.hpp>
#include <rotina/go_on.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>
#include <rotina/wait_group.hpp>

namespace {

using namespace std::chrono_literals;
using rotina::chan;
using rotina::errc;
using rotina::error;
using rotina::task;

std::mutex out_mtx;

void say(const std::string& line) {
  std::lock_guard<std::mutex> guard{out_mtx};
  std::cout << line << std::endl;
}

// Reads one line from fd 0, retrying reads interrupted by a signal.
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

std::string outcome(const std::string& cmd, const error& e) {
  if (!e)
    return cmd + " ok";
  return cmd + " err " + rotina::to_string(e.code()) + " | " + e.message()
         + " | origin=" + e.origin();
}

std::string self_name() {
  return rotina::detail::require_current_runtime("go_node").self().name;
}

// -- registered goroutines ----------------------------------------------------

task<> add_body(int64_t a, int64_t b, chan<int64_t> out) {
  co_await out.send(a + b);
}

task<error> fail_body(std::string text) {
  co_await rotina::yield();
  co_return error{errc::failed, text + " (from " + self_name() + ")"};
}

task<> boom_body() {
  co_await rotina::yield();
  throw std::runtime_error("boom on " + self_name());
}

task<> nap_body(int64_t ms) {
  say("nap started ms=" + std::to_string(ms));
  co_await rotina::sleep(std::chrono::milliseconds{ms});
}

task<> noop_body() {
  co_return;
}

task<> where_body(chan<std::string> out) {
  co_await out.send(self_name());
}

// -- commands
// -------------------------------------------------------------------

// Nodes seen before: a lost node is still found (go_on to it must fail
// with node_down, not be avoided by the test program).
std::map<std::string, rotina::node> known_nodes;

std::optional<rotina::node> find(rotina::runtime& rt, const std::string& name) {
  if (auto n = rt.find_node(name)) {
    known_nodes[name] = *n;
    return n;
  }
  if (auto i = known_nodes.find(name); i != known_nodes.end())
    return i->second;
  say("error no node '" + name + "'");
  return std::nullopt;
}

task<> eg_cmd(rotina::node n1, rotina::node n2) {
  rotina::errgroup g;
  g.go_on(n1, "nap", int64_t{300});
  g.go_on(n2, "fail", std::string{"remote failure"});
  auto e = co_await g.wait();
  say(outcome("eg", e));
}

task<> eglimit_cmd(rotina::node n, int64_t k, int64_t ms) {
  rotina::errgroup g;
  g.set_limit(1);
  auto t0 = std::chrono::steady_clock::now();
  int64_t refused = 0;
  for (int64_t i = 0; i < k; ++i)
    g.go_on(n, "nap", ms);
  if (!g.try_go_on(n, "nap", ms))
    ++refused;
  auto e = co_await g.wait();
  auto dt = std::chrono::steady_clock::now() - t0;
  say(outcome("eglimit", e) + " ms="
      + std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(dt).count())
      + " refused=" + std::to_string(refused));
}

task<> egkill_cmd(rotina::node n1, rotina::node n2) {
  rotina::errgroup g;
  g.go_on(n1, "nap", int64_t{60000});
  g.go_on(n2, "nap", int64_t{20});
  auto e = co_await g.wait();
  say(outcome("egkill", e) + " t=" + std::to_string(now_ns()));
}

task<> wgkill_cmd(rotina::node n1, rotina::node n2) {
  rotina::wait_group wg;
  wg.go_on(n1, "nap", int64_t{60000});
  wg.go_on(n2, "nap", int64_t{20});
  co_await wg.wait();
  auto t = now_ns();
  std::string codes;
  std::string first;
  for (auto& e : wg.errors()) {
    codes
      += (codes.empty() ? "" : ",") + std::string{rotina::to_string(e.code())};
    if (first.empty())
      first = e.message() + " origin=" + e.origin();
  }
  say("wgkill done t=" + std::to_string(t) + " count="
      + std::to_string(wg.count()) + " errors=" + codes + " | " + first);
}

task<> place_cmd(rotina::runtime* rt, int64_t n, bool warm) {
  auto out = rotina::make_chan<std::string>(*rt, static_cast<size_t>(n));
  if (warm) {
    // least-loaded: the first call asks every peer for its load.
    (void)rotina::place(*rt);
    co_await rotina::sleep(500ms);
  }
  rotina::errgroup g;
  for (int64_t i = 0; i < n; ++i)
    g.go_on(rotina::place(*rt), "where", out);
  auto e = co_await g.wait();
  std::map<std::string, int64_t> counts;
  for (int64_t i = 0; i < n && !e; ++i) {
    auto v = co_await out.recv();
    if (v)
      ++counts[*v];
  }
  std::string text = "place";
  for (auto& [name, count] : counts)
    text += " " + name + "=" + std::to_string(count);
  say(e ? outcome("place", e) : text);
}

void wait_and_say(const std::string& cmd, const rotina::remote_goroutine& h) {
  say(outcome(cmd, h.wait_blocking()));
}

} // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  std::string which = "all";
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 13) == "--goroutines=") {
      which = std::string{arg.substr(13)};
      continue;
    }
    args.push_back(argv[i]);
  }
  args.push_back(nullptr);
  if (which == "all") {
    rotina::register_goroutine("add", &add_body);
    rotina::register_goroutine("fail", &fail_body);
    rotina::register_goroutine("boom", &boom_body);
    rotina::register_goroutine("where", &where_body);
    rotina::register_goroutine("noop", &noop_body);
  }
  if (which == "all" || which == "nap")
    rotina::register_goroutine("nap", &nap_body);
  rotina::runtime rt{static_cast<int>(args.size()) - 1, args.data()};
  say("ready name=" + rt.self().name
      + " port=" + std::to_string(rt.self().port));
  std::string line;
  while (read_line(line)) {
    std::istringstream in{line};
    std::string cmd;
    std::string a;
    std::string b;
    in >> cmd;
    try {
      if (cmd == "connect") {
        uint16_t port = 0;
        in >> a >> port;
        auto res = rt.connect(a, port);
        say(res ? "connect ok " + res->to_string()
                : "connect err " + res.error().to_string());
      } else if (cmd == "add") {
        int64_t x = 0;
        int64_t y = 0;
        std::string flavor;
        in >> a >> x >> y >> flavor;
        auto n = find(rt, a);
        if (!n)
          continue;
        auto ch = rotina::make_chan<int64_t>(rt, 1);
        auto h = flavor == "i32"
                   ? rotina::go_on(rt, *n, "add", static_cast<int32_t>(x),
                                   static_cast<int32_t>(y), ch)
                   : rotina::go_on(rt, *n, "add", x, y, ch);
        auto e = h.wait_blocking();
        if (e) {
          say(outcome("add", e));
          continue;
        }
        auto v = ch.recv_blocking();
        say(v ? "add ok " + std::to_string(*v) : "add closed");
      } else if (cmd == "fail") {
        in >> a >> b;
        if (auto n = find(rt, a))
          wait_and_say("fail", rotina::go_on(rt, *n, "fail", b));
      } else if (cmd == "boom") {
        in >> a;
        if (auto n = find(rt, a))
          wait_and_say("boom", rotina::go_on(rt, *n, "boom"));
      } else if (cmd == "call") {
        in >> a >> b;
        if (auto n = find(rt, a))
          wait_and_say("call", rotina::go_on(rt, *n, b));
      } else if (cmd == "eg" || cmd == "egkill" || cmd == "wgkill") {
        in >> a >> b;
        auto n1 = find(rt, a);
        auto n2 = find(rt, b);
        if (!n1 || !n2)
          continue;
        if (cmd == "eg")
          rotina::go(rt, &eg_cmd, *n1, *n2);
        else if (cmd == "egkill")
          rotina::go(rt, &egkill_cmd, *n1, *n2);
        else
          rotina::go(rt, &wgkill_cmd, *n1, *n2);
      } else if (cmd == "eglimit") {
        int64_t k = 0;
        int64_t ms = 0;
        in >> a >> k >> ms;
        if (auto n = find(rt, a))
          rotina::go(rt, &eglimit_cmd, *n, k, ms);
      } else if (cmd == "place") {
        int64_t n = 0;
        in >> n >> a;
        rotina::go(rt, &place_cmd, &rt, n, a == "warm");
      } else if (cmd == "busy") {
        int64_t k = 0;
        in >> a >> k;
        if (auto n = find(rt, a)) {
          for (int64_t i = 0; i < k; ++i)
            (void)rotina::go_on(rt, *n, "nap", int64_t{30000});
          say("busy ok");
        }
      } else if (cmd == "rtt") {
        int64_t k = 0;
        in >> a >> k;
        auto n = find(rt, a);
        if (!n)
          continue;
        std::vector<int64_t> us;
        error last;
        for (int64_t i = 0; i < k && !last; ++i) {
          auto t0 = now_ns();
          last = rotina::go_on(rt, *n, "noop").wait_blocking();
          us.push_back((now_ns() - t0) / 1000);
        }
        std::sort(us.begin(), us.end());
        if (last || us.empty())
          say(outcome("rtt", last));
        else
          say("rtt ok median_us=" + std::to_string(us[us.size() / 2])
              + " p90_us=" + std::to_string(us[us.size() * 9 / 10])
              + " n=" + std::to_string(us.size()));
      } else if (cmd == "quit") {
        break;
      } else if (!cmd.empty()) {
        say("error unknown command '" + cmd + "'");
      }
    } catch (const rotina::panic_error& ex) {
      say(outcome(cmd, ex.err()));
    }
  }
  rt.shutdown();
  return 0;
}
