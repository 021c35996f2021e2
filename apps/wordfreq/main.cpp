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
// Run: wordfreq [--mappers=4] [--top=20] [DIR|FILE...]   (default DIR:
//      /usr/share/games/fortunes)
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>
#include <rotina/wait_group.hpp>

#include "counts.hpp" // document, word_counts (with CAF inspect()), count_words

using namespace rotina;
using namespace wordfreq;

task<> mapper(recv_chan<document> docs, send_chan<word_counts> partials) {
  while (auto d = co_await docs.recv()) {
    word_counts c = count_words(d->text);
    co_await partials.send(std::move(c));
  }
}

task<> reducer(recv_chan<word_counts> partials, send_chan<word_counts> total) {
  word_counts t;
  while (auto c = co_await partials.recv())
    t.merge(*c);
  co_await total.send(std::move(t));
}

// The one place mappers start (later: go_on(rt.place(), "wordfreq.mapper", ...)).
void start_mappers(runtime& rt, int n, recv_chan<document> docs, send_chan<word_counts> partials) {
  wait_group wg{rt};
  wg.add(n);
  for (int m = 0; m < n; ++m)
    go(rt, [=]() -> task<> {
      co_await mapper(docs, partials);
      wg.done();
    });
  go(rt, [wg, partials]() -> task<> {
    co_await wg.wait();
    partials.close();
  });
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  int mappers = 4, top = 20;
  std::vector<std::string> args;
  for (auto& arg : rt.config().remainder) try {
    if (arg.rfind("--mappers=", 0) == 0) mappers = std::stoi(arg.substr(10));
    else if (arg.rfind("--top=", 0) == 0) top = std::stoi(arg.substr(6));
    else args.push_back(arg);
  } catch (const std::logic_error&) { // from std::stoi
    std::fprintf(stderr, "wordfreq: not a number: %s\n", arg.c_str());
    return 2;
  }
  if (args.empty()) args.push_back("/usr/share/games/fortunes");
  std::vector<std::string> files;
  if (mappers < 1 || top < 0) { std::fprintf(stderr, "wordfreq: need --mappers >= 1, --top >= 0\n"); return 2; }
  if (!list_files(args, files)) return 2;

  auto docs = make_chan<document>(rt);
  auto partials = make_chan<word_counts>(rt);
  auto total = make_chan<word_counts>(rt);
  start_mappers(rt, mappers, docs, partials);
  go(rt, reducer, partials, total);
  for (auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) { std::fprintf(stderr, "wordfreq: cannot read %s\n", f.c_str()); return 1; }
    std::ostringstream text;
    text << in.rdbuf();
    docs.send_blocking(document{f, std::move(text).str()});
  }
  docs.close();
  auto t = *total.recv_blocking();

  std::vector<std::pair<std::string, int64_t>> by_count(t.counts.begin(), t.counts.end());
  std::sort(by_count.begin(), by_count.end(), [](auto& a, auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::printf("files: %zu, words: %lld, distinct: %zu\n", files.size(),
              static_cast<long long>(t.words), t.counts.size());
  for (size_t i = 0; i < by_count.size() && i < size_t(top); ++i)
    std::printf("%7lld %s\n", static_cast<long long>(by_count[i].second), by_count[i].first.c_str());
}
