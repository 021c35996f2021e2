// pipeline: the first pipeline of Go's "Pipelines and cancellation" article
// (go.dev/blog/pipelines): gen emits numbers, sq squares them, main prints
// them; each stage is a goroutine, the stages are joined by unbuffered
// channels, and closing a channel ends the next stage's range loop. Then the
// fan-out/fan-in variant: two sq stages read from one gen, merge joins them.
//
// The Go original:
//   func gen(nums ...int) <-chan int {
//       out := make(chan int)
//       go func() {
//           for _, n := range nums { out <- n }
//           close(out)
//       }()
//       return out
//   }
//   func sq(in <-chan int) <-chan int {
//       out := make(chan int)
//       go func() {
//           for n := range in { out <- n * n }
//           close(out)
//       }()
//       return out
//   }
//   func merge(cs ...<-chan int) <-chan int {
//       var wg sync.WaitGroup
//       out := make(chan int)
//       output := func(c <-chan int) {
//           for n := range c { out <- n }
//           wg.Done()
//       }
//       wg.Add(len(cs))
//       for _, c := range cs { go output(c) }
//       go func() { wg.Wait(); close(out) }()
//       return out
//   }
//   func main() {
//       for n := range sq(sq(gen(2, 3))) { fmt.Println(n) } // 16 then 81
//       in := gen(1, 2, 3, 4)
//       sum := 0
//       for n := range merge(sq(in), sq(in)) { sum += n }    // order varies
//       fmt.Println("fan-in sum:", sum)                        // 1+4+9+16
//   }
//
// Run: pipeline   (build/<dir>/apps/pipeline/pipeline
// --config-file=config/default.ini)
#include <cstdio>
#include <initializer_list>
#include <vector>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>
#include <rotina/wait_group.hpp>

using namespace rotina;

recv_chan<int> gen(runtime& rt, std::initializer_list<int> nums) {
  auto out = make_chan<int>(rt);
  go(rt, [out, nums = std::vector<int>(nums)]() -> task<> {
    for (int n : nums)
      co_await out.send(n);
    out.close();
  });
  return out;
}

recv_chan<int> sq(runtime& rt, recv_chan<int> in) {
  auto out = make_chan<int>(rt);
  go(rt, [in, out]() -> task<> {
    while (auto n = co_await in.recv())
      co_await out.send(*n * *n);
    out.close();
  });
  return out;
}

recv_chan<int> merge(runtime& rt, std::initializer_list<recv_chan<int>> cs) {
  wait_group wg{rt};
  auto out = make_chan<int>(rt);
  auto output = [wg, out](recv_chan<int> c) -> task<> {
    while (auto n = co_await c.recv())
      co_await out.send(*n);
    wg.done();
  };
  wg.add(static_cast<int64_t>(cs.size()));
  for (auto& c : cs)
    go(rt, output, c);
  go(rt, [wg, out]() -> task<> {
    co_await wg.wait();
    out.close();
  });
  return out;
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  auto out = sq(rt, sq(rt, gen(rt, {2, 3})));
  while (auto n = out.recv_blocking())
    std::printf("%d\n", *n);
  auto in = gen(rt, {1, 2, 3, 4});
  auto merged = merge(rt, {sq(rt, in), sq(rt, in)});
  int sum = 0;
  while (auto n = merged.recv_blocking())
    sum += *n;
  std::printf("fan-in sum: %d\n", sum);
}
