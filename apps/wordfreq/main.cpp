// wordfreq: word frequencies over the fortune cookie files of Debian's
// `fortunes` packages, map-reduce style. main reads each file and sends it as
// a document over a channel to mapper goroutines; each mapper counts the words
// of its documents and sends a partial count (a word_counts value) to one
// reducer goroutine, which merges them and hands the total back to main; main
// prints the totals and the top N words (ties broken alphabetically).
// A word is a maximal run of ASCII letters, lowercased (bytes >= 0x80 separate
// words), the same as `LC_ALL=C tr -cs 'A-Za-z' '\n' | tr 'A-Z' 'a-z'`.
// A directory argument stands for its regular files whose name has no '.'
// (this skips the fortune indexes *.dat and the *.u8 symlinks).
//
// The Go original:
//   type document struct{ Name, Text string }
//   type counts map[string]int
//   func mapper(docs <-chan document, partials chan<- counts) {
//       for d := range docs {
//           c := counts{}
//           for _, w := range words(d.Text) { c[w]++ }
//           partials <- c
//       }
//   }
//   func reducer(partials <-chan counts, total chan<- counts) {
//       t := counts{}
//       for c := range partials { for w, n := range c { t[w] += n } }
//       total <- t
//   }
//   func main() {
//       docs, partials, total := make(chan document), make(chan counts), make(chan counts)
//       var wg sync.WaitGroup
//       for m := 0; m < *mappers; m++ {
//           wg.Add(1)
//           go func() { defer wg.Done(); mapper(docs, partials) }()
//       }
//       go func() { wg.Wait(); close(partials) }()
//       go reducer(partials, total)
//       for _, f := range files { b, _ := os.ReadFile(f); docs <- document{f, string(b)} }
//       close(docs)
//       printTop(<-total, *top)
//   }
//
// Across nodes (README.md): --role=coordinator owns and publishes docs and
// partials and merges the partials itself (the reducer, with its mappers);
// worker nodes (--role=worker --coordinator=NAME) look the two channels up and
// run --mappers mapper goroutines until docs is closed. Each partial names its
// document: the coordinator counts a document once (at-least-once delivery,
// de-duplicated by name) and sends again the documents a lost node may hold.
//
// Run: wordfreq [--mappers=4] [--top=20] [--progress=0] [DIR|FILE...]
//      (default DIR: /usr/share/games/fortunes)
//      [--role=local|coordinator|worker] [--nodes=N] [--coordinator=NAME] [--join-timeout=20]
//      [--crash-after=K]  (worker, a test switch: SIGKILL itself on taking its K-th document)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/remote.hpp>
#include <rotina/runtime.hpp>
#include <rotina/select.hpp>
#include <rotina/time.hpp>
#include <rotina/type_registry.hpp>
#include <rotina/wait_group.hpp>

#include "../common/cluster.hpp" // --role flags, waiting for nodes, lookup with retry
#include "counts.hpp" // document, word_counts (with CAF inspect()), count_words

using namespace rotina;
using namespace wordfreq;

std::atomic<int> docs_mapped{0}; // by this node's mappers
int crash_after = 0;             // test switch (--crash-after, a worker's)

task<> mapper(recv_chan<document> docs, send_chan<word_counts> partials) {
  while (auto d = co_await docs.recv()) {
    if (++docs_mapped == crash_after)
      ::kill(::getpid(), SIGKILL); // this node dies holding document d
    word_counts c = count_words(d->text);
    c.source = d->name;
    co_await partials.send(std::move(c));
  }
}

task<> reducer(recv_chan<word_counts> partials, send_chan<word_counts> total) {
  word_counts t;
  while (auto c = co_await partials.recv())
    t.merge(*c);
  co_await total.send(std::move(t));
}

std::atomic<bool> mapper_failed{false}; // a mapper ended with a panic (e.g. node_down)

// The one place mappers start (later: go_on(rt.place(), "wordfreq.mapper", ...)).
// Returns the wait group that is done when all n have ended.
wait_group start_mappers(runtime& rt, int n, recv_chan<document> docs,
                         send_chan<word_counts> partials) {
  wait_group wg{rt};
  wg.add(n);
  for (int m = 0; m < n; ++m)
    go(rt, [=]() -> task<> {
      try {
        co_await mapper(docs, partials);
      } catch (const panic_error& e) { // the coordinator's node went down
        if (!mapper_failed.exchange(true))
          std::fprintf(stderr, "wordfreq: mapper: %s\n", e.what());
      }
      wg.done();
    });
  return wg;
}

bool read_document(const std::string& f, document& d) {
  std::ifstream in(f, std::ios::binary);
  if (!in) { std::fprintf(stderr, "wordfreq: cannot read %s\n", f.c_str()); return false; }
  std::ostringstream text;
  text << in.rdbuf();
  d = document{f, std::move(text).str()};
  return true;
}

void print_top(const word_counts& t, size_t files, int top) {
  std::vector<std::pair<std::string, int64_t>> by_count(t.counts.begin(), t.counts.end());
  std::sort(by_count.begin(), by_count.end(), [](auto& a, auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::printf("files: %zu, words: %lld, distinct: %zu\n", files,
              static_cast<long long>(t.words), t.counts.size());
  for (size_t i = 0; i < by_count.size() && i < size_t(top); ++i)
    std::printf("%7lld %s\n", static_cast<long long>(by_count[i].second), by_count[i].first.c_str());
}

// --role=local: the program as on one machine.
int run_local(runtime& rt, int mappers, int top, const std::vector<std::string>& files) {
  auto docs = make_chan<document>(rt);
  auto partials = make_chan<word_counts>(rt);
  auto total = make_chan<word_counts>(rt);
  auto wg = start_mappers(rt, mappers, docs, partials);
  go(rt, [wg, partials]() -> task<> { // Go's wg.Wait(); close(partials)
    co_await wg.wait();
    partials.close();
  });
  go(rt, reducer, partials, total);
  for (auto& f : files) {
    document d;
    if (!read_document(f, d)) return 1;
    docs.send_blocking(std::move(d));
  }
  docs.close();
  print_top(*total.recv_blocking(), files.size(), top);
  return 0;
}

// --role=coordinator: sends the documents to the mappers of every node (its
// own included), merges each document's partial once, and sends again the
// documents a lost node may have held.
int run_coordinator(runtime& rt, int mappers, int top, bool progress,
                    const std::vector<std::string>& files, const cluster::role_options& ro) {
  auto docs = make_chan<document>(rt);
  auto partials = make_chan<word_counts>(rt, 16);
  auto lost = make_chan<std::string>(rt, 64); // names of worker nodes that went down
  rt.publish("wordfreq.docs", docs);
  rt.publish("wordfreq.partials", partials);
  auto ready = make_chan<std::string>(rt);
  rt.publish("wordfreq.ready", ready);
  cluster::announce("wordfreq", ro, rt);
  auto peers = cluster::wait_for_workers("wordfreq", rt, size_t(ro.nodes - 1),
                                         std::chrono::seconds{ro.join_timeout_s});
  if (!peers)
    return 1;
  std::set<std::string> live;
  for (auto& p : *peers) {
    live.insert(p.name);
    rt.on_node_down(p, [lost](const node& n, const error&) { (void) lost.try_send(n.name); });
    std::fprintf(stderr, "wordfreq: worker node '%s' joined\n", p.name.c_str());
  }
  // Each worker node says it is ready (its name on `ready`) before the
  // documents go out, so that all nodes take part from the first document.
  ticker tick{rt, std::chrono::milliseconds{250}};
  auto join_deadline = std::chrono::steady_clock::now() + std::chrono::seconds{ro.join_timeout_s};
  for (std::set<std::string> waiting = live; !waiting.empty();) {
    std::optional<std::string> name, gone;
    switch (select_blocking(recv_case(ready, name), recv_case(lost, gone), recv_case(tick.c()))) {
    case 0: if (name) waiting.erase(*name); break;
    case 1: waiting.erase(*gone); live.erase(*gone); break;
    default:
      if (std::chrono::steady_clock::now() > join_deadline) {
        std::fprintf(stderr, "wordfreq: %zu worker nodes did not get ready\n", waiting.size());
        return 1;
      }
    }
  }
  auto wg = start_mappers(rt, mappers, docs, partials);
  std::deque<size_t> todo;
  for (size_t i = 0; i < files.size(); ++i)
    todo.push_back(i);
  std::map<std::string, size_t> index; // a partial names its document
  for (size_t i = 0; i < files.size(); ++i)
    if (!index.emplace(files[i], i).second) {
      std::fprintf(stderr, "wordfreq: %s is named twice\n", files[i].c_str());
      return 2;
    }
  std::vector<bool> in_flight(files.size(), false), done(files.size(), false);
  size_t n_done = 0, dups = 0, resent = 0;
  word_counts total;
  size_t last_progress = size_t(-1);
  document next;
  bool have_next = false;
  while (n_done < files.size()) {
    if (!have_next && !todo.empty()) {
      if (!read_document(files[todo.front()], next)) return 1;
      have_next = true;
    }
    chan<document> out = have_next ? docs : chan<document>{}; // nil: the send case is off
    std::optional<word_counts> c;
    std::optional<std::string> gone;
    switch (select_blocking(send_case(out, next), recv_case(partials, c), recv_case(lost, gone),
                            recv_case(tick.c()))) {
    case 0:
      in_flight[todo.front()] = true;
      todo.pop_front();
      have_next = false;
      break;
    case 1: {
      auto it = c ? index.find(c->source) : index.end();
      if (it == index.end()) {
        std::fprintf(stderr, "wordfreq: a partial count of an unknown document\n");
        return 1;
      }
      in_flight[it->second] = false;
      if (done[it->second]) { ++dups; break; } // at-least-once: a copy
      done[it->second] = true;
      ++n_done;
      total.merge(*c);
      break;
    }
    case 2: {
      live.erase(*gone);
      size_t n = 0;
      for (size_t i = 0; i < files.size(); ++i)
        if (in_flight[i] && !done[i]) { in_flight[i] = false; todo.push_back(i); ++n; }
      resent += n;
      std::fprintf(stderr, "wordfreq: worker node '%s' is down: %zu documents in flight sent again\n",
                   gone->c_str(), n);
      if (live.empty() && mappers == 0) {
        std::fprintf(stderr, "wordfreq: no mapper left (every worker node is down, --mappers=0)\n");
        return 1;
      }
      break;
    }
    default:
      if (progress && n_done != last_progress) {
        std::fprintf(stderr, "progress %zu/%zu\n", n_done, files.size());
        last_progress = n_done;
      }
    }
  }
  docs.close(); // every mapper's range loop ends
  // Drain copies until every worker node has left and the local mappers have
  // ended (bounded; partials stays open: a remote send must not panic).
  auto local_done = make_chan<int>(rt);
  go(rt, [wg, local_done]() -> task<> {
    co_await wg.wait();
    local_done.close();
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{ro.join_timeout_s};
  bool locals_ended = false;
  while ((!locals_ended || !live.empty()) && std::chrono::steady_clock::now() < deadline) {
    std::optional<word_counts> c;
    std::optional<std::string> gone;
    chan<int> ended = locals_ended ? chan<int>{} : local_done;
    switch (select_blocking(recv_case(partials, c), recv_case(lost, gone), recv_case(ended),
                            recv_case(tick.c()))) {
    case 0: ++dups; break;
    case 1: live.erase(*gone); break;
    case 2: locals_ended = true; break;
    default: break;
    }
  }
  if (progress)
    std::fprintf(stderr, "progress %zu/%zu\n", n_done, files.size());
  std::fprintf(stderr, "wordfreq: %zu nodes, duplicates ignored: %zu, documents sent again: %zu\n",
               size_t(ro.nodes), dups, resent);
  print_top(total, files.size(), top);
  return 0;
}

// --role=worker: runs this node's mappers on the coordinator's channels until
// it closes docs.
int run_worker(runtime& rt, int mappers, const cluster::role_options& ro) {
  auto bound = std::chrono::seconds{ro.join_timeout_s};
  auto coord = cluster::wait_for_node("wordfreq", rt, ro.coordinator, bound);
  if (!coord)
    return 1;
  auto docs = cluster::lookup<chan<document>>(rt, *coord, "wordfreq.docs", bound);
  auto partials = cluster::lookup<chan<word_counts>>(rt, *coord, "wordfreq.partials", bound);
  auto ready = cluster::lookup<chan<std::string>>(rt, *coord, "wordfreq.ready", bound);
  if (!docs || !partials || !ready) {
    auto err = !docs ? docs.error() : !partials ? partials.error() : ready.error();
    std::fprintf(stderr, "wordfreq: %s\n", err.message().c_str());
    return 1;
  }
  auto wg = start_mappers(rt, mappers, *docs, *partials);
  try {
    ready->send_blocking(rt.self().name);
  } catch (const panic_error& e) {
    std::fprintf(stderr, "wordfreq: worker node '%s': %s\n", rt.self().name.c_str(), e.what());
    return 1;
  }
  wg.wait_blocking();
  if (mapper_failed)
    return 1;
  std::fprintf(stderr, "wordfreq: worker node '%s' done: %d documents\n", rt.self().name.c_str(),
               docs_mapped.load());
  return 0;
}

int main(int argc, char** argv) {
  register_type<document>("wordfreq.document");
  register_type<word_counts>("wordfreq.word_counts");
  runtime rt{argc, argv};
  int mappers = 4, top = 20, progress = 0;
  cluster::role_options ro;
  std::vector<std::string> args;
  for (auto& arg : rt.config().remainder) try {
    if (int k = cluster::parse_role_flag("wordfreq", arg, ro); k < 0) return 2;
    else if (k > 0) continue;
    if (arg.rfind("--mappers=", 0) == 0) mappers = std::stoi(arg.substr(10));
    else if (arg.rfind("--top=", 0) == 0) top = std::stoi(arg.substr(6));
    else if (arg.rfind("--progress=", 0) == 0) progress = std::stoi(arg.substr(11));
    else if (arg.rfind("--crash-after=", 0) == 0) crash_after = std::stoi(arg.substr(14));
    else if (arg.rfind("--", 0) == 0) { std::fprintf(stderr, "wordfreq: unknown flag %s\n", arg.c_str()); return 2; }
    else args.push_back(arg);
  } catch (const std::logic_error&) { // from std::stoi
    std::fprintf(stderr, "wordfreq: not a number: %s\n", arg.c_str());
    return 2;
  }
  // the coordinator may leave all the counting to the worker nodes (--mappers=0)
  if (mappers < (ro.role == "coordinator" ? 0 : 1) || top < 0) {
    std::fprintf(stderr, "wordfreq: need --mappers >= 1 (>= 0 on a coordinator), --top >= 0\n");
    return 2;
  }
  if (!cluster::check_roles("wordfreq", ro, rt)) return 2;
  if (crash_after != 0 && ro.role != "worker") { std::fprintf(stderr, "wordfreq: --crash-after is for --role=worker\n"); return 2; }
  if (ro.role == "worker") {
    if (!args.empty()) { std::fprintf(stderr, "wordfreq: a worker reads no files (the coordinator sends them)\n"); return 2; }
    return run_worker(rt, mappers, ro);
  }
  if (args.empty()) args.push_back("/usr/share/games/fortunes");
  std::vector<std::string> files;
  if (!list_files(args, files)) return 2;
  if (ro.role == "coordinator") return run_coordinator(rt, mappers, top, progress != 0, files, ro);
  return run_local(rt, mappers, top, files);
}
