// mandelbrot: renders the Mandelbrot set with a pool of worker goroutines.
// main feeds row numbers to the workers over a jobs channel; each worker
// computes its rows (escape-time iterations in 64-bit fixed point, so every
// machine computes the same pixels) and sends them back as row_result values;
// main assembles the image, writes it as a PNG and prints the PNG's SHA-256.
// Delivery is at-least-once: main keeps a done flag per row, ignores a row it
// already has (after checking that the copy is identical), and when a round of
// workers has ended with rows missing it sends those rows out again to a new
// round, which is how a multi-node version recovers the rows of a lost node.
// Test switches: --duplicate-every=K makes the workers send every K-th row
// twice; --lose-every=K makes the first round drop every K-th row.
//
// The Go original:
//   type rowResult struct { Y int; RGB []byte }
//   func worker(f frame, rows <-chan int, results chan<- rowResult) {
//       for y := range rows { results <- rowResult{y, f.renderRow(y)} }
//   }
//   func startWorkers(n int, f frame, rows <-chan int, results chan<- rowResult) {
//       var wg sync.WaitGroup
//       for w := 0; w < n; w++ {
//           wg.Add(1)
//           go func() { defer wg.Done(); worker(f, rows, results) }()
//       }
//       go func() { wg.Wait(); close(results) }()
//   }
//   func main() {
//       img, done := make([]byte, 3*f.W*f.H), make([]bool, f.H)
//       todo := allRows(f.H)
//       for len(todo) > 0 {                    // one round per try
//           rows, results := make(chan int), make(chan rowResult)
//           startWorkers(*workers, f, rows, results)
//           go func(todo []int) { for _, y := range todo { rows <- y }; close(rows) }(todo)
//           for r := range results {
//               if done[r.Y] { dups++; continue } // at-least-once: drop copies
//               done[r.Y] = true
//               copy(img[3*f.W*r.Y:], r.RGB)
//           }
//           todo = missingRows(done)          // lost with a worker: send again
//       }
//       png.Encode(out, img); fmt.Printf("sha256: %x\n", sha256.Sum256(out))
//   }
//
// Run: mandelbrot [--width=800] [--height=600] [--max-iter=256] [--workers=4]
//                 [--out=mandelbrot.png] [--duplicate-every=0] [--lose-every=0]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>
#include <rotina/wait_group.hpp>

#include "frame.hpp" // frame, row_result, faults (with CAF inspect()), options, PNG, SHA-256

using namespace rotina;
using namespace mandelbrot;

task<> worker(frame f, recv_chan<int> rows, send_chan<row_result> results, faults fx) {
  while (auto y = co_await rows.recv()) {
    row_result r{*y, f.render_row(*y)};
    if (fx.lose_every > 0 && *y % fx.lose_every == 0)
      continue; // lost, as if this worker's node died with it
    if (fx.dup_every > 0 && *y % fx.dup_every == 0) {
      row_result copy = r;
      co_await results.send(std::move(copy)); // a redelivery
    }
    co_await results.send(std::move(r));
  }
}

// The one place workers start (later: go_on(rt.place(), "mandelbrot.worker", ...)).
void start_workers(runtime& rt, int n, frame f, recv_chan<int> rows,
                   send_chan<row_result> results, faults fx) {
  wait_group wg{rt};
  wg.add(n);
  for (int w = 0; w < n; ++w)
    go(rt, [=]() -> task<> {
      co_await worker(f, rows, results, fx);
      wg.done();
    });
  go(rt, [wg, results]() -> task<> {
    co_await wg.wait();
    results.close();
  });
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  app_options o;
  if (!parse_options(rt.config().remainder, o))
    return 2;
  const frame f = o.f;
  const size_t row_bytes = 3 * size_t(f.width);

  auto start = std::chrono::steady_clock::now();
  std::vector<uint8_t> img(row_bytes * size_t(f.height));
  std::vector<bool> done(size_t(f.height), false);
  std::vector<int> todo;
  for (int y = 0; y < f.height; ++y)
    todo.push_back(y);
  int dups = 0, rounds = 0;
  size_t resent = 0;
  for (faults fx = o.fx; !todo.empty(); fx.lose_every = 0) { // only round 1 loses rows
    if (++rounds > 3) { // a bound: a row that fails three times is an error
      std::fprintf(stderr, "mandelbrot: %zu rows still missing after 3 rounds\n", todo.size());
      return 1;
    }
    if (rounds > 1)
      resent += todo.size();
    auto rows = make_chan<int>(rt);
    auto results = make_chan<row_result>(rt);
    start_workers(rt, o.workers, f, rows, results, fx);
    go(rt, [rows, todo]() -> task<> {
      for (int y : todo)
        co_await rows.send(y);
      rows.close();
    });
    while (auto r = results.recv_blocking()) {
      if (r->y < 0 || r->y >= f.height || r->rgb.size() != row_bytes) {
        std::fprintf(stderr, "mandelbrot: malformed row %d (%zu bytes)\n", r->y, r->rgb.size());
        return 1;
      }
      auto* dst = img.data() + row_bytes * size_t(r->y);
      if (done[size_t(r->y)]) { // at-least-once: a copy of a row we have
        if (std::memcmp(dst, r->rgb.data(), row_bytes) != 0) {
          std::fprintf(stderr, "mandelbrot: row %d came twice with different pixels\n", r->y);
          return 1;
        }
        ++dups;
        continue;
      }
      done[size_t(r->y)] = true;
      std::memcpy(dst, r->rgb.data(), row_bytes);
    }
    todo.clear(); // the rows no worker delivered go out again
    for (int y = 0; y < f.height; ++y)
      if (!done[size_t(y)])
        todo.push_back(y);
  }
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  auto png = encode_png(img, f.width, f.height);
  if (!write_file(o.out, png)) {
    std::fprintf(stderr, "mandelbrot: cannot write %s\n", o.out.c_str());
    return 1;
  }
  std::printf("mandelbrot %dx%d, max-iter %d, %d workers -> %s\n", f.width, f.height,
              f.max_iter, o.workers, o.out.c_str());
  std::printf("rows: %d, duplicates ignored: %d, rows sent again: %zu, rounds: %d\n", f.height,
              dups, resent, rounds);
  std::printf("sha256: %s\n", sha256_hex(png).c_str());
  std::printf("time: %.1f ms\n", ms.count()); // workers started .. last row in
}
