// mandelbrot: renders the Mandelbrot set with a pool of worker goroutines.
// main feeds row numbers to the workers over a jobs channel; each worker
// computes its rows (escape-time iterations in 64-bit fixed point, so every
// machine computes the same pixels) and sends them back as row_result values;
// main assembles the image, writes it as a PNG and prints the PNG's SHA-256.
// Delivery is at-least-once: main keeps a done flag per row and ignores a row
// it already has (after checking that the copy is identical), so a later
// multi-node version can hand the rows of a lost worker to another one.
// --duplicate-every=K makes the workers send every K-th row twice (a test).
//
// The Go original:
//   type rowResult struct { Y int; RGB []byte }
//   func worker(f frame, rows <-chan int, results chan<- rowResult) {
//       for y := range rows { results <- rowResult{y, f.renderRow(y)} }
//   }
//   func main() {
//       rows, results := make(chan int), make(chan rowResult)
//       var wg sync.WaitGroup
//       for w := 0; w < *workers; w++ {
//           wg.Add(1)
//           go func() { defer wg.Done(); worker(f, rows, results) }()
//       }
//       go func() { for y := 0; y < f.H; y++ { rows <- y }; close(rows) }()
//       go func() { wg.Wait(); close(results) }()
//       img, done, left := make([]byte, 3*f.W*f.H), make([]bool, f.H), f.H
//       for r := range results {
//           if done[r.Y] { dups++; continue } // at-least-once: drop copies
//           done[r.Y] = true; left--
//           copy(img[3*f.W*r.Y:], r.RGB)
//       }
//       png.Encode(out, img); fmt.Printf("sha256: %x\n", sha256.Sum256(out))
//   }
//
// Run: mandelbrot [--width=800] [--height=600] [--max-iter=256] [--workers=4]
//                 [--out=mandelbrot.png] [--duplicate-every=0]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>
#include <rotina/wait_group.hpp>

#include "frame.hpp" // frame, row_result (with CAF inspect()), encode_png, sha256_hex

using namespace rotina;
using namespace mandelbrot;

task<> worker(frame f, recv_chan<int> rows, send_chan<row_result> results, int dup_every) {
  while (auto y = co_await rows.recv()) {
    row_result r{*y, f.render_row(*y)};
    if (dup_every > 0 && *y % dup_every == 0) {
      row_result copy = r;
      co_await results.send(std::move(copy)); // a redelivery
    }
    co_await results.send(std::move(r));
  }
}

// The one place workers start (later: go_on(rt.place(), "mandelbrot.worker", ...)).
void start_workers(runtime& rt, int n, frame f, recv_chan<int> rows,
                   send_chan<row_result> results, int dup_every) {
  wait_group wg{rt};
  wg.add(n);
  for (int w = 0; w < n; ++w)
    go(rt, [=]() -> task<> {
      co_await worker(f, rows, results, dup_every);
      wg.done();
    });
  go(rt, [wg, results]() -> task<> {
    co_await wg.wait();
    results.close();
  });
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  frame f{800, 600, 256};
  int workers = 4, dup_every = 0;
  std::string out = "mandelbrot.png";
  for (auto& arg : rt.config().remainder) try {
    auto value = [&](const char* key) { return arg.substr(std::strlen(key)); };
    if (arg.rfind("--width=", 0) == 0) f.width = std::stoi(value("--width="));
    else if (arg.rfind("--height=", 0) == 0) f.height = std::stoi(value("--height="));
    else if (arg.rfind("--max-iter=", 0) == 0) f.max_iter = std::stoi(value("--max-iter="));
    else if (arg.rfind("--workers=", 0) == 0) workers = std::stoi(value("--workers="));
    else if (arg.rfind("--out=", 0) == 0) out = value("--out=");
    else if (arg.rfind("--duplicate-every=", 0) == 0) dup_every = std::stoi(value("--duplicate-every="));
    else { std::fprintf(stderr, "mandelbrot: unknown argument %s\n", arg.c_str()); return 2; }
  } catch (const std::logic_error&) { // from std::stoi
    std::fprintf(stderr, "mandelbrot: not a number: %s\n", arg.c_str());
    return 2;
  }
  if (f.width < 1 || f.height < 1 || f.max_iter < 1 || workers < 1 || dup_every < 0) {
    std::fprintf(stderr, "mandelbrot: need width, height, max-iter, workers >= 1 and duplicate-every >= 0\n");
    return 2;
  }

  auto start = std::chrono::steady_clock::now();
  auto rows = make_chan<int>(rt);
  auto results = make_chan<row_result>(rt);
  start_workers(rt, workers, f, rows, results, dup_every);
  go(rt, [rows, h = f.height]() -> task<> {
    for (int y = 0; y < h; ++y)
      co_await rows.send(y);
    rows.close();
  });
  std::vector<uint8_t> img(3 * size_t(f.width) * size_t(f.height));
  std::vector<bool> done(size_t(f.height), false);
  int left = f.height, dups = 0;
  while (auto r = results.recv_blocking()) {
    auto* dst = img.data() + 3 * size_t(f.width) * size_t(r->y);
    if (done[size_t(r->y)]) { // at-least-once: a copy of a row we have
      if (std::memcmp(dst, r->rgb.data(), r->rgb.size()) != 0) {
        std::fprintf(stderr, "mandelbrot: row %d came twice with different pixels\n", r->y);
        return 1;
      }
      ++dups;
      continue;
    }
    done[size_t(r->y)] = true;
    --left;
    std::memcpy(dst, r->rgb.data(), r->rgb.size());
  }
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  auto png = encode_png(img, f.width, f.height);
  if (left != 0) {
    std::fprintf(stderr, "mandelbrot: %d rows still missing after the workers ended\n", left);
    return 1;
  }
  if (!write_file(out, png)) {
    std::fprintf(stderr, "mandelbrot: cannot write %s\n", out.c_str());
    return 1;
  }
  std::printf("mandelbrot %dx%d, max-iter %d, %d workers -> %s\n", f.width, f.height,
              f.max_iter, workers, out.c_str());
  std::printf("rows: %d, duplicates ignored: %d\n", f.height, dups);
  std::printf("sha256: %s\n", sha256_hex(png).c_str());
  std::printf("time: %.1f ms\n", ms.count()); // workers started .. last row in
}
