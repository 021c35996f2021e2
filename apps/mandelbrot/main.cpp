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
// Across nodes (README.md): the same program with the workers on worker nodes.
// The coordinator (--role=coordinator) owns and publishes the rows and results
// channels; each worker node (--role=worker --coordinator=NAME) looks them up
// and runs --workers worker goroutines until rows is closed. The coordinator
// renders too, keeps the rows each node may hold (sent, not yet back), and
// when a node goes down (or no row arrives for --stall-timeout seconds) sends
// those rows again: at-least-once, de-duplicated by row number as above.
//   func coordinate(f frame, rows chan<- int, results <-chan rowResult, lost <-chan string) {
//       todo, inFlight := allRows(f.H), map[int]bool{}
//       for left := f.H; left > 0; {
//           var out chan<- int                        // nil: case off
//           if len(todo) > 0 { out = rows }
//           select {
//           case out <- todo[0]: inFlight[todo[0]] = true; todo = todo[1:]
//           case r := <-results: if !done[r.Y] { done[r.Y] = true; left--; ... }; delete(inFlight, r.Y)
//           case n := <-lost: todo = append(todo, keys(inFlight)...) // node n held some of them
//           }
//       }
//       close(rows)
//   }
//
// Run: mandelbrot [--width=800] [--height=600] [--max-iter=256] [--workers=4]
//                 [--out=mandelbrot.png] [--duplicate-every=0] [--lose-every=0]
//                 [--role=local|coordinator|worker] [--nodes=N] [--coordinator=NAME]
//                 [--join-timeout=20] [--stall-timeout=10] [--crash-after=0] [--progress=0]
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <set>
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
#include "frame.hpp" // frame, row_result, faults (with CAF inspect()), options, PNG, SHA-256

using namespace rotina;
using namespace mandelbrot;

std::atomic<int> rows_taken{0};        // by this node's workers (for --crash-after)
std::atomic<bool> worker_failed{false}; // a worker ended with a panic (e.g. node_down)

task<> worker(frame f, recv_chan<int> rows, send_chan<row_result> results, faults fx) {
  while (auto y = co_await rows.recv()) {
    if (++rows_taken == fx.crash_after)
      ::kill(::getpid(), SIGKILL); // test switch: this node dies holding row *y
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
// Returns the wait group that is done when all n have ended.
wait_group start_workers(runtime& rt, int n, frame f, recv_chan<int> rows,
                         send_chan<row_result> results, faults fx) {
  wait_group wg{rt};
  wg.add(n);
  for (int w = 0; w < n; ++w)
    go(rt, [=]() -> task<> {
      try {
        co_await worker(f, rows, results, fx);
      } catch (const panic_error& e) { // the coordinator's node went down
        if (!worker_failed.exchange(true))
          std::fprintf(stderr, "mandelbrot: worker: %s\n", e.what());
      }
      wg.done();
    });
  return wg;
}

// The image as it is assembled: at-least-once delivery, de-duplicated.
struct image {
  frame f;
  size_t row_bytes;
  std::vector<uint8_t> rgb;
  std::vector<bool> done;
  int rows_done = 0, dups = 0;

  explicit image(frame f)
    : f(f), row_bytes(3 * size_t(f.width)), rgb(row_bytes * size_t(f.height)),
      done(size_t(f.height), false) {}

  // Takes one delivered row; false (after printing why) if it is malformed or
  // a copy of a row we have with other pixels.
  bool take(const row_result& r) {
    if (r.y < 0 || r.y >= f.height || r.rgb.size() != row_bytes) {
      std::fprintf(stderr, "mandelbrot: malformed row %d (%zu bytes)\n", r.y, r.rgb.size());
      return false;
    }
    auto* dst = rgb.data() + row_bytes * size_t(r.y);
    if (done[size_t(r.y)]) { // at-least-once: a copy of a row we have
      if (std::memcmp(dst, r.rgb.data(), row_bytes) != 0) {
        std::fprintf(stderr, "mandelbrot: row %d came twice with different pixels\n", r.y);
        return false;
      }
      ++dups;
      return true;
    }
    done[size_t(r.y)] = true;
    ++rows_done;
    std::memcpy(dst, r.rgb.data(), row_bytes);
    return true;
  }
};

// Writes the PNG and prints the result lines (the tests read them).
int finish(const image& img, const app_options& o, int nodes, size_t resent, int rounds,
           std::chrono::steady_clock::time_point start,
           std::chrono::steady_clock::time_point end = std::chrono::steady_clock::now()) {
  auto ms = std::chrono::duration<double, std::milli>(end - start);
  const frame& f = img.f;
  auto png = encode_png(img.rgb, f.width, f.height);
  if (!write_file(o.out, png)) {
    std::fprintf(stderr, "mandelbrot: cannot write %s\n", o.out.c_str());
    return 1;
  }
  if (nodes == 1)
    std::printf("mandelbrot %dx%d, max-iter %d, %d workers -> %s\n", f.width, f.height,
                f.max_iter, o.workers, o.out.c_str());
  else
    std::printf("mandelbrot %dx%d, max-iter %d, %d nodes x %d workers -> %s\n", f.width,
                f.height, f.max_iter, nodes, o.workers, o.out.c_str());
  std::printf("rows: %d, duplicates ignored: %d, rows sent again: %zu, rounds: %d\n", f.height,
              img.dups, resent, rounds);
  std::printf("sha256: %s\n", sha256_hex(png).c_str());
  std::printf("time: %.1f ms\n", ms.count()); // workers started .. last row in
  return 0;
}

// --role=local: one node, rounds of workers until every row is in.
int run_local(runtime& rt, const app_options& o) {
  const frame f = o.f;
  auto start = std::chrono::steady_clock::now();
  image img{f};
  std::vector<int> todo;
  for (int y = 0; y < f.height; ++y)
    todo.push_back(y);
  int rounds = 0;
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
    auto wg = start_workers(rt, o.workers, f, rows, results, fx);
    go(rt, [wg, results]() -> task<> { // Go's wg.Wait(); close(results)
      co_await wg.wait();
      results.close();
    });
    go(rt, [rows, todo]() -> task<> {
      for (int y : todo)
        co_await rows.send(y);
      rows.close();
    });
    while (auto r = results.recv_blocking())
      if (!img.take(*r))
        return 1;
    todo.clear(); // the rows no worker delivered go out again
    for (int y = 0; y < f.height; ++y)
      if (!img.done[size_t(y)])
        todo.push_back(y);
  }
  return finish(img, o, 1, resent, rounds, start);
}

// --role=coordinator: owns rows and results, renders with its own workers
// too, and sends again the rows a lost node may have held.
int run_coordinator(runtime& rt, const app_options& o, const cluster::role_options& ro) {
  const frame f = o.f;
  auto rows = make_chan<int>(rt);
  auto results = make_chan<row_result>(rt, 64);
  auto assignments = make_chan<assignment>(rt);
  auto lost = make_chan<std::string>(rt, 64); // names of worker nodes that went down
  rt.publish("mandelbrot.rows", rows);
  rt.publish("mandelbrot.results", results);
  rt.publish("mandelbrot.assignments", assignments);
  cluster::announce("mandelbrot", ro, rt);
  auto peers = cluster::wait_for_workers("mandelbrot", rt, size_t(ro.nodes - 1),
                                         std::chrono::seconds{ro.join_timeout_s});
  if (!peers)
    return 1;
  std::set<std::string> live;
  for (auto& p : *peers) {
    live.insert(p.name);
    rt.on_node_down(p, [lost](const node& n, const error&) { (void) lost.try_send(n.name); });
    std::fprintf(stderr, "mandelbrot: worker node '%s' joined\n", p.name.c_str());
  }
  faults fx = o.fx;
  fx.crash_after = 0; // a worker node's own switch
  ticker tick{rt, std::chrono::milliseconds{250}};
  // One assignment per worker node; unbuffered, so each send returns when a
  // node has taken it and is about to start its workers (bounded, and a node
  // that goes down meanwhile is not waited for).
  auto join_deadline = std::chrono::steady_clock::now() + std::chrono::seconds{ro.join_timeout_s};
  for (size_t started = 0; started < live.size();) {
    std::optional<std::string> gone;
    switch (select_blocking(send_case(assignments, assignment{f, fx}), recv_case(lost, gone),
                            recv_case(tick.c()))) {
    case 0:
      ++started;
      break;
    case 1:
      live.erase(*gone);
      break;
    default:
      if (std::chrono::steady_clock::now() > join_deadline) {
        std::fprintf(stderr, "mandelbrot: only %zu of %zu worker nodes took their assignment\n",
                     started, live.size());
        return 1;
      }
    }
  }
  assignments.close(); // a node that joins late finds it closed and ends

  auto start = std::chrono::steady_clock::now();
  image img{f};
  auto wg = start_workers(rt, o.workers, f, rows, results, fx);
  std::deque<int> todo;
  for (int y = 0; y < f.height; ++y)
    todo.push_back(y);
  std::vector<bool> in_flight(size_t(f.height), false);
  size_t resent = 0;
  auto send_again = [&](const char* why) {
    size_t n = 0;
    for (int y = 0; y < f.height; ++y)
      if (in_flight[size_t(y)] && !img.done[size_t(y)]) {
        in_flight[size_t(y)] = false;
        todo.push_back(y);
        ++n;
      }
    resent += n;
    std::fprintf(stderr, "mandelbrot: %s: %zu rows in flight sent again\n", why, n);
  };
  auto last_row = std::chrono::steady_clock::now();
  int last_progress = -1;
  while (img.rows_done < f.height) {
    chan<int> out = todo.empty() ? chan<int>{} : rows; // nil: the send case is off
    int next = todo.empty() ? -1 : todo.front();
    std::optional<row_result> r;
    std::optional<std::string> gone;
    switch (select_blocking(send_case(out, next), recv_case(results, r), recv_case(lost, gone),
                            recv_case(tick.c()))) {
    case 0:
      todo.pop_front();
      in_flight[size_t(next)] = true;
      break;
    case 1:
      if (!r || !img.take(*r))
        return 1;
      in_flight[size_t(r->y)] = false;
      last_row = std::chrono::steady_clock::now();
      break;
    case 2:
      live.erase(*gone);
      send_again(("worker node '" + *gone + "' is down").c_str());
      break;
    default:
      if (o.progress && img.rows_done != last_progress) {
        std::fprintf(stderr, "progress %d/%d\n", img.rows_done, f.height);
        last_progress = img.rows_done;
      }
      if (std::chrono::steady_clock::now() - last_row > std::chrono::seconds{o.stall_timeout}) {
        send_again("no row for --stall-timeout");
        last_row = std::chrono::steady_clock::now();
      }
    }
  }
  rows.close(); // every worker's range loop ends
  auto render_end = std::chrono::steady_clock::now();
  // Drain what workers still send (copies of rows sent again) until every
  // worker node has left and the local workers have ended, at most
  // --join-timeout: a worker must never block for ever on results. (results
  // stays open: a remote worker's send on it must not panic.)
  auto local_done = make_chan<int>(rt);
  go(rt, [wg, local_done]() -> task<> {
    co_await wg.wait();
    local_done.close();
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{ro.join_timeout_s};
  bool locals_ended = false;
  while ((!locals_ended || !live.empty()) && std::chrono::steady_clock::now() < deadline) {
    std::optional<row_result> r;
    std::optional<std::string> gone;
    chan<int> ended = locals_ended ? chan<int>{} : local_done;
    switch (select_blocking(recv_case(results, r), recv_case(lost, gone), recv_case(ended),
                            recv_case(tick.c()))) {
    case 0:
      if (!r || !img.take(*r))
        return 1;
      break;
    case 1:
      live.erase(*gone);
      break;
    case 2:
      locals_ended = true;
      break;
    default:
      break;
    }
  }
  if (!live.empty())
    std::fprintf(stderr, "mandelbrot: %zu worker nodes still connected after the render\n",
                 live.size());
  if (o.progress)
    std::fprintf(stderr, "progress %d/%d\n", img.rows_done, f.height);
  return finish(img, o, ro.nodes, resent, 1, start, render_end);
}

// --role=worker: takes the coordinator's channels and runs this node's
// workers until the coordinator closes rows.
int run_worker(runtime& rt, const app_options& o, const cluster::role_options& ro) {
  const char* app = "mandelbrot";
  auto bound = std::chrono::seconds{ro.join_timeout_s};
  auto coord = cluster::wait_for_node(app, rt, ro.coordinator, bound);
  if (!coord)
    return 1;
  auto assignments = cluster::lookup<chan<assignment>>(rt, *coord, "mandelbrot.assignments", bound);
  auto rows = cluster::lookup<chan<int>>(rt, *coord, "mandelbrot.rows", bound);
  auto results = cluster::lookup<chan<row_result>>(rt, *coord, "mandelbrot.results", bound);
  if (!assignments || !rows || !results) {
    auto err = !assignments ? assignments.error() : !rows ? rows.error() : results.error();
    std::fprintf(stderr, "mandelbrot: %s\n", err.message().c_str());
    return 1;
  }
  try {
    auto a = assignments->recv_blocking();
    if (!a) {
      std::fprintf(stderr, "mandelbrot: worker node '%s': no work for it (enough nodes joined)\n",
                   rt.self().name.c_str());
      return 0;
    }
    a->fx.crash_after = o.fx.crash_after;
    auto wg = start_workers(rt, o.workers, a->f, *rows, *results, a->fx);
    wg.wait_blocking();
  } catch (const panic_error& e) {
    std::fprintf(stderr, "mandelbrot: worker node '%s': %s\n", rt.self().name.c_str(), e.what());
    return 1;
  }
  if (worker_failed)
    return 1;
  std::fprintf(stderr, "mandelbrot: worker node '%s' done: %d rows\n", rt.self().name.c_str(),
               rows_taken.load());
  return 0;
}

int main(int argc, char** argv) {
  register_type<frame>("mandelbrot.frame");
  register_type<faults>("mandelbrot.faults");
  register_type<assignment>("mandelbrot.assignment");
  register_type<row_result>("mandelbrot.row_result");
  runtime rt{argc, argv};
  app_options o;
  cluster::role_options ro;
  std::vector<std::string> rest;
  for (auto& arg : rt.config().remainder)
    if (int k = cluster::parse_role_flag("mandelbrot", arg, ro); k < 0)
      return 2;
    else if (k == 0)
      rest.push_back(arg);
  if (!parse_options(rest, o) || !cluster::check_roles("mandelbrot", ro, rt))
    return 2;
  if (ro.role == "worker")
    return run_worker(rt, o, ro);
  if (ro.role == "coordinator" && o.fx.lose_every > 0) {
    std::fprintf(stderr, "mandelbrot: --lose-every is for --role=local (on a cluster, kill a "
                         "worker node: --crash-after=K on it)\n");
    return 2;
  }
  if (ro.role != "worker" && o.fx.crash_after > 0) {
    std::fprintf(stderr, "mandelbrot: --crash-after is for --role=worker\n");
    return 2;
  }
  if (ro.role == "coordinator")
    return run_coordinator(rt, o, ro);
  return run_local(rt, o);
}
