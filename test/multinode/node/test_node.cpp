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
// Channels (docs/distribution.md). K is the kind of a channel's elements:
// i (int64_t), s (std::string), c (chan<int64_t>), p (point); each command's
// reply starts with its own name. Commands marked (g) run in a goroutine and
// reply when done; "<cmd> err <errc> | <message>" on a panic_error.
//   make NAME CAP K     -> publishes a new channel as NAME, keeps it as NAME
//   lookup NODE NAME K  -> keeps the handle as NAME: "lookup ok remote=0|1"
//                          (NODE: a connected node, or one `connect` returned)
//   send NAME V (g)     -> "send ok V"            (K = i)
//   sends NAME LEN (g)  -> "sends ok"  a string of LEN bytes with NULs (K = s)
//   recv NAME (g)       -> "recv ok V" | "recv closed"  (K = i; s: length and
//                          checksum "recv ok len=<n> sum=<fnv-1a>")
//   sendn NAME FROM N (g) -> "sendn done": sends FROM .. FROM+N-1
//   drain NAME [BLOCK] (g) -> "drain closed count=N ordered=0|1 sum=S sq=Q"
//                          once closed; BLOCK > 0: ordered per v / BLOCK
//   glookup NODE NAME (g) -> rt.lookup<chan<int64_t>> in a goroutine:
//                          "glookup ok" (the handle is not kept)
//   gtry NAME N (g)     -> N x (try_send, try_recv) in a goroutine:
//                          "gtry done sent=S got=G"
//   select NAME (g)     -> a select {recv NAME, 2 s timeout}: "select ok recv
//                          V" | "select ok closed" | "select timeout"
//   recvb NAME          -> recv_blocking on this thread: like recv
//   close NAME, len NAME, trysend NAME V, tryrecv NAME
//   sendchan NAME INNER (g) / recvchan NAME AS (g): channel handles (K = c);
//                          "recvchan ok remote=0|1" | "recvchan ok nil"
//   sendnil NAME (g)    -> sends a nil chan<int64_t>: "sendchan ok"
//   sendp NAME X Y (g) / recvp NAME (g): points (K = p, needs --types=point)
//   select2 A B (g)     -> select over recv A, recv B: "select2 ok idx=I v=V"
//                          (v=closed when the chosen channel is closed)
//   selectd A (g)       -> select over recv A and default: "selectd default"
//                          | "selectd ok v=V"
//   selects A V B (g)   -> select over send V on A, recv B: "selects ok idx=I"
//   drop NAME           -> forgets the handle
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

#include <rotina/chan.hpp>
#include <rotina/error.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/node.hpp>
#include <rotina/remote.hpp>
#include <rotina/runtime.hpp>
#include <rotina/select.hpp>
#include <rotina/task.hpp>
#include <rotina/time.hpp>
#include <rotina/type_registry.hpp>

#include <map>
#include <variant>

namespace {

struct point {
  int32_t x = 0;
  int32_t y = 0;
};

[[maybe_unused]] bool operator==(const point& a, const point& b) {
  return a.x == b.x && a.y == b.y;
}

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

using rotina::chan;
using rotina::task;
using namespace std::chrono_literals;

using any_chan = std::variant<chan<int64_t>, chan<std::string>,
                              chan<chan<int64_t>>, chan<point>>;

std::string fail_text(const std::string& cmd, const rotina::error& e) {
  return cmd + " err " + rotina::to_string(e.code()) + " | " + e.message();
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string make_bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 7) % 5 == 0 ? 0 : 'a' + i % 26);
  return s;
}

task<> send_one(chan<int64_t> ch, int64_t v) {
  try {
    co_await ch.send(v);
    say("send ok " + std::to_string(v));
  } catch (const rotina::panic_error& e) {
    say(fail_text("send", e.err()));
  }
}

task<> send_bytes(chan<std::string> ch, size_t n) {
  try {
    co_await ch.send(make_bytes(n));
    say("sends ok");
  } catch (const rotina::panic_error& e) {
    say(fail_text("sends", e.err()));
  }
}

task<> recv_one(chan<int64_t> ch) {
  try {
    auto v = co_await ch.recv();
    say(v ? "recv ok " + std::to_string(*v) : std::string{"recv closed"});
  } catch (const rotina::panic_error& e) {
    say(fail_text("recv", e.err()));
  }
}

task<> recv_bytes(chan<std::string> ch) {
  try {
    auto v = co_await ch.recv();
    say(v ? "recv ok len=" + std::to_string(v->size())
              + " sum=" + std::to_string(fnv1a(*v))
          : std::string{"recv closed"});
  } catch (const rotina::panic_error& e) {
    say(fail_text("recv", e.err()));
  }
}

task<> send_n(chan<int64_t> ch, int64_t from, int64_t n) {
  try {
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = from + i;
      co_await ch.send(v);
    }
    say("sendn done");
  } catch (const rotina::panic_error& e) {
    say(fail_text("sendn", e.err()));
  }
}

// block > 0: "ordered" holds per sender, a sender being the values v with
// the same v / block (sendn ranges FROM .. FROM+N-1 with FROM a multiple of
// block); "sq" is the sum of squares mod 2^64 (with count and sum it catches
// a duplicate that hides a loss).
task<> drain(chan<int64_t> ch, int64_t block) {
  int64_t count = 0;
  int64_t sum = 0;
  uint64_t sq = 0;
  std::map<int64_t, int64_t> last;
  bool ordered = true;
  try {
    while (auto v = co_await ch.recv()) {
      ++count;
      sum += *v;
      sq += static_cast<uint64_t>(*v) * static_cast<uint64_t>(*v);
      auto key = block > 0 ? *v / block : 0;
      auto i = last.find(key);
      if (i != last.end() && *v <= i->second)
        ordered = false;
      last[key] = *v;
    }
    say("drain closed count=" + std::to_string(count)
        + " ordered=" + (ordered ? "1" : "0") + " sum=" + std::to_string(sum)
        + " sq=" + std::to_string(sq));
  } catch (const rotina::panic_error& e) {
    say(fail_text("drain", e.err()) + " count=" + std::to_string(count));
  }
}

// A select with a receive case on `ch` and a 2 s timeout case (the timeout
// is the witness that a case was never chosen).
task<> select_one(chan<int64_t> ch) {
  try {
    std::optional<int64_t> got;
    auto idx = co_await rotina::select(rotina::recv_case(ch, got),
                                       rotina::timeout_case(2s));
    if (idx == 0)
      say(got ? "select ok recv " + std::to_string(*got)
              : std::string{"select ok closed"});
    else
      say("select timeout");
  } catch (const rotina::panic_error& e) {
    say(fail_text("select", e.err()));
  }
}

// try_send and try_recv N times each, in a goroutine (each is a bounded
// request when the channel is remote).
task<> try_loop(chan<int64_t> ch, int64_t n) {
  int64_t sent = 0;
  int64_t got = 0;
  try {
    for (int64_t i = 0; i < n; ++i) {
      if (ch.try_send(i))
        ++sent;
      if (ch.try_recv().status == rotina::recv_status::received)
        ++got;
    }
    say("gtry done sent=" + std::to_string(sent)
        + " got=" + std::to_string(got));
  } catch (const rotina::panic_error& e) {
    say(fail_text("gtry", e.err()) + " sent=" + std::to_string(sent));
  }
  co_return;
}

// rt.lookup in a goroutine (a request to the peer's agent).
task<> lookup_in_goroutine(rotina::runtime* rt, rotina::node n,
                           std::string name) {
  auto res = rt->lookup<chan<int64_t>>(n, name);
  say(res ? std::string{"glookup ok"} : fail_text("glookup", res.error()));
  co_return;
}

task<> select_two(chan<int64_t> a, chan<int64_t> b) {
  try {
    std::optional<int64_t> va;
    std::optional<int64_t> vb;
    auto idx = co_await rotina::select(rotina::recv_case(a, va),
                                       rotina::recv_case(b, vb));
    auto& v = idx == 0 ? va : vb;
    say("select2 ok idx=" + std::to_string(idx)
        + " v=" + (v ? std::to_string(*v) : std::string{"closed"}));
  } catch (const rotina::panic_error& e) {
    say(fail_text("select2", e.err()));
  }
}

task<> select_default(chan<int64_t> a) {
  try {
    std::optional<int64_t> va;
    auto idx = co_await rotina::select(rotina::recv_case(a, va),
                                       rotina::default_case());
    if (idx == 1)
      say("selectd default");
    else
      say("selectd ok v=" + (va ? std::to_string(*va) : std::string{"closed"}));
  } catch (const rotina::panic_error& e) {
    say(fail_text("selectd", e.err()));
  }
}

task<> select_send(chan<int64_t> a, int64_t v, chan<int64_t> b) {
  try {
    std::optional<int64_t> vb;
    auto idx = co_await rotina::select(rotina::send_case(a, v),
                                       rotina::recv_case(b, vb));
    say("selects ok idx=" + std::to_string(idx));
  } catch (const rotina::panic_error& e) {
    say(fail_text("selects", e.err()));
  }
}

std::mutex chans_mtx;
std::map<std::string, any_chan> chans;
/// Every node `connect` returned, by name (guarded by chans_mtx).
std::map<std::string, rotina::node> known_nodes;

task<> send_chan(chan<chan<int64_t>> ch, chan<int64_t> inner) {
  try {
    co_await ch.send(inner);
    say("sendchan ok");
  } catch (const rotina::panic_error& e) {
    say(fail_text("sendchan", e.err()));
  }
}

task<> recv_chan(chan<chan<int64_t>> ch, std::string as) {
  try {
    auto v = co_await ch.recv();
    if (!v) {
      say("recvchan closed");
      co_return;
    }
    if (!v->state()) {
      say("recvchan ok nil");
      co_return;
    }
    bool remote = rotina::is_remote(*v);
    {
      std::lock_guard<std::mutex> guard{chans_mtx};
      chans[as] = std::move(*v);
    }
    say(std::string{"recvchan ok remote="} + (remote ? "1" : "0"));
  } catch (const rotina::panic_error& e) {
    say(fail_text("recvchan", e.err()));
  }
}

task<> send_point(chan<point> ch, point p) {
  try {
    co_await ch.send(p);
    say("sendp ok");
  } catch (const rotina::panic_error& e) {
    say(fail_text("sendp", e.err()));
  }
}

task<> recv_point(chan<point> ch) {
  try {
    auto v = co_await ch.recv();
    say(v ? "recvp ok " + std::to_string(v->x) + " " + std::to_string(v->y)
          : std::string{"recvp closed"});
  } catch (const rotina::panic_error& e) {
    say(fail_text("recvp", e.err()));
  }
}

template <class T>
std::optional<chan<T>> find_chan(const std::string& name) {
  std::lock_guard<std::mutex> guard{chans_mtx};
  auto i = chans.find(name);
  if (i == chans.end())
    return std::nullopt;
  if (auto p = std::get_if<chan<T>>(&i->second))
    return *p;
  return std::nullopt;
}

template <class T>
void do_lookup(rotina::runtime& rt, const rotina::node& n,
               const std::string& name) {
  auto res = rt.lookup<chan<T>>(n, name);
  if (!res) {
    say(fail_text("lookup", res.error()));
    return;
  }
  bool remote = rotina::is_remote(*res);
  {
    std::lock_guard<std::mutex> guard{chans_mtx};
    chans[name] = *res;
  }
  say(std::string{"lookup ok remote="} + (remote ? "1" : "0"));
}

/// Runs the channel commands; false if `cmd` is not one.
bool channel_command(rotina::runtime& rt, const std::string& cmd,
                     std::istringstream& in) {
  std::string name;
  if (cmd == "make") {
    size_t cap = 0;
    std::string kind;
    in >> name >> cap >> kind;
    any_chan ch;
    if (kind == "s")
      ch = rotina::make_chan<std::string>(rt, cap);
    else if (kind == "c")
      ch = rotina::make_chan<chan<int64_t>>(rt, cap);
    else if (kind == "p")
      ch = rotina::make_chan<point>(rt, cap);
    else
      ch = rotina::make_chan<int64_t>(rt, cap);
    std::visit([&](auto& x) { rt.publish(name, x); }, ch);
    std::lock_guard<std::mutex> guard{chans_mtx};
    chans[name] = ch;
    say("make ok");
  } else if (cmd == "lookup") {
    std::string node_name;
    std::string kind;
    in >> node_name >> name >> kind;
    auto n = rt.find_node(node_name);
    if (!n) {
      // A node this one connected to before (it may be gone now).
      std::lock_guard<std::mutex> guard{chans_mtx};
      if (auto i = known_nodes.find(node_name); i != known_nodes.end())
        n = i->second;
    }
    if (!n) {
      say("lookup err no-such-node | " + node_name);
    } else if (kind == "s") {
      do_lookup<std::string>(rt, *n, name);
    } else if (kind == "c") {
      do_lookup<chan<int64_t>>(rt, *n, name);
    } else if (kind == "p") {
      do_lookup<point>(rt, *n, name);
    } else {
      do_lookup<int64_t>(rt, *n, name);
    }
  } else if (cmd == "send") {
    int64_t v = 0;
    in >> name >> v;
    if (auto ch = find_chan<int64_t>(name))
      rotina::go(rt, send_one, *ch, v);
    else
      say("send err no-such-channel | " + name);
  } else if (cmd == "sends") {
    size_t n = 0;
    in >> name >> n;
    if (auto ch = find_chan<std::string>(name))
      rotina::go(rt, send_bytes, *ch, n);
    else
      say("sends err no-such-channel | " + name);
  } else if (cmd == "recv") {
    in >> name;
    if (auto ch = find_chan<int64_t>(name))
      rotina::go(rt, recv_one, *ch);
    else if (auto cs = find_chan<std::string>(name))
      rotina::go(rt, recv_bytes, *cs);
    else
      say("recv err no-such-channel | " + name);
  } else if (cmd == "sendn") {
    int64_t from = 0;
    int64_t n = 0;
    in >> name >> from >> n;
    if (auto ch = find_chan<int64_t>(name))
      rotina::go(rt, send_n, *ch, from, n);
    else
      say("sendn err no-such-channel | " + name);
  } else if (cmd == "drain") {
    int64_t block = 0;
    in >> name >> block;
    if (auto ch = find_chan<int64_t>(name))
      rotina::go(rt, drain, *ch, block);
    else
      say("drain err no-such-channel | " + name);
  } else if (cmd == "recvb") {
    in >> name;
    auto ch = find_chan<int64_t>(name);
    try {
      auto v = ch ? ch->recv_blocking() : std::nullopt;
      say(v ? "recvb ok " + std::to_string(*v) : std::string{"recvb closed"});
    } catch (const rotina::panic_error& e) {
      say(fail_text("recvb", e.err()));
    }
  } else if (cmd == "close") {
    in >> name;
    std::optional<any_chan> ch;
    {
      std::lock_guard<std::mutex> guard{chans_mtx};
      if (auto i = chans.find(name); i != chans.end())
        ch = i->second;
    }
    try {
      if (ch)
        std::visit([](auto& x) { x.close(); }, *ch);
      say("close ok");
    } catch (const rotina::panic_error& e) {
      say(fail_text("close", e.err()));
    }
  } else if (cmd == "len") {
    in >> name;
    auto ch = find_chan<int64_t>(name);
    say("len " + std::to_string(ch ? ch->len() : 0) + " cap "
        + std::to_string(ch ? ch->cap() : 0));
  } else if (cmd == "trysend") {
    int64_t v = 0;
    in >> name >> v;
    auto ch = find_chan<int64_t>(name);
    try {
      say(std::string{"trysend "} + (ch && ch->try_send(v) ? "true" : "false"));
    } catch (const rotina::panic_error& e) {
      say(fail_text("trysend", e.err()));
    }
  } else if (cmd == "tryrecv") {
    in >> name;
    auto ch = find_chan<int64_t>(name);
    try {
      if (!ch) {
        say("tryrecv empty");
      } else {
        auto r = ch->try_recv();
        if (r.status == rotina::recv_status::received)
          say("tryrecv received " + std::to_string(*r.value));
        else
          say(r.status == rotina::recv_status::closed ? "tryrecv closed"
                                                      : "tryrecv empty");
      }
    } catch (const rotina::panic_error& e) {
      say(fail_text("tryrecv", e.err()));
    }
  } else if (cmd == "sendchan") {
    std::string inner;
    in >> name >> inner;
    auto ch = find_chan<chan<int64_t>>(name);
    auto x = find_chan<int64_t>(inner);
    if (ch && x)
      rotina::go(rt, send_chan, *ch, *x);
    else
      say("sendchan err no-such-channel | " + name + " " + inner);
  } else if (cmd == "sendnil") {
    in >> name;
    if (auto ch = find_chan<chan<int64_t>>(name))
      rotina::go(rt, send_chan, *ch, chan<int64_t>{});
    else
      say("sendnil err no-such-channel | " + name);
  } else if (cmd == "recvchan") {
    std::string as;
    in >> name >> as;
    if (auto ch = find_chan<chan<int64_t>>(name))
      rotina::go(rt, recv_chan, *ch, as);
    else
      say("recvchan err no-such-channel | " + name);
  } else if (cmd == "sendp") {
    point p;
    in >> name >> p.x >> p.y;
    if (auto ch = find_chan<point>(name))
      rotina::go(rt, send_point, *ch, p);
    else
      say("sendp err no-such-channel | " + name);
  } else if (cmd == "recvp") {
    in >> name;
    if (auto ch = find_chan<point>(name))
      rotina::go(rt, recv_point, *ch);
    else
      say("recvp err no-such-channel | " + name);
  } else if (cmd == "glookup") {
    std::string node_name;
    in >> node_name >> name;
    if (auto n = rt.find_node(node_name))
      rotina::go(rt, lookup_in_goroutine, &rt, *n, name);
    else
      say("glookup err no-such-node | " + node_name);
  } else if (cmd == "gtry") {
    int64_t n = 0;
    in >> name >> n;
    if (auto ch = find_chan<int64_t>(name))
      rotina::go(rt, try_loop, *ch, n);
    else
      say("gtry err no-such-channel | " + name);
  } else if (cmd == "select") {
    in >> name;
    if (auto ch = find_chan<int64_t>(name))
      rotina::go(rt, select_one, *ch);
    else
      say("select err no-such-channel | " + name);
  } else if (cmd == "select2" || cmd == "selects") {
    std::string a;
    std::string b;
    int64_t v = 0;
    if (cmd == "select2")
      in >> a >> b;
    else
      in >> a >> v >> b;
    auto ca = find_chan<int64_t>(a);
    auto cb = find_chan<int64_t>(b);
    if (!ca || !cb)
      say(cmd + " err no-such-channel | " + a + " " + b);
    else if (cmd == "select2")
      rotina::go(rt, select_two, *ca, *cb);
    else
      rotina::go(rt, select_send, *ca, v, *cb);
  } else if (cmd == "selectd") {
    in >> name;
    if (auto ch = find_chan<int64_t>(name))
      rotina::go(rt, select_default, *ch);
    else
      say("selectd err no-such-channel | " + name);
  } else if (cmd == "drop") {
    in >> name;
    std::lock_guard<std::mutex> guard{chans_mtx};
    chans.erase(name);
    say("drop ok");
  } else {
    return false;
  }
  return true;
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
      if (res) {
        {
          std::lock_guard<std::mutex> guard{chans_mtx};
          known_nodes.insert_or_assign(res->name, *res);
        }
        say("connect ok " + res->to_string());
      } else
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
    } else if (channel_command(rt, cmd, in)) {
      // done
    } else if (!cmd.empty()) {
      say("error unknown command '" + cmd + "'");
    }
  }
  {
    std::lock_guard<std::mutex> guard{chans_mtx};
    chans.clear();
  }
  rt.shutdown();
  say("bye");
  return 0;
}
