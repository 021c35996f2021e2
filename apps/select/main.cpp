// select: Go's select statement in three classic programs. The Go originals:
//
// A Tour of Go, "Select" (go.dev/tour/concurrency/5):
//   func fibonacci(c, quit chan int) {
//       x, y := 0, 1
//       for {
//           select {
//           case c <- x:
//               x, y = y, x+y
//           case <-quit:
//               fmt.Println("quit")
//               return
//           }
//       }
//   }
//   func main() {
//       c := make(chan int)
//       quit := make(chan int)
//       go func() {
//           for i := 0; i < 10; i++ { fmt.Println(<-c) }
//           quit <- 0
//       }()
//       fibonacci(c, quit)
//   }
//
// Go by Example, "Timeouts" (the first timeout shortened, so that it wins by a
// wide margin even in a sanitized build on a loaded machine):
//   c1 := make(chan string, 1)
//   go func() { time.Sleep(time.Second); c1 <- "result 1" }()
//   select {
//   case res := <-c1: fmt.Println(res)
//   case <-time.After(10 * time.Millisecond): fmt.Println("timeout 1")
//   }
//   (and again with c2, "result 2" and a 5 s timeout, which the result wins)
//
// Go by Example, "Non-Blocking Channel Operations":
//   messages := make(chan string)
//   select {
//   case msg := <-messages: fmt.Println("received message", msg)
//   default: fmt.Println("no message received")
//   }
//   msg := "hi"
//   select {
//   case messages <- msg: fmt.Println("sent message", msg)
//   default: fmt.Println("no message sent")
//   }
//
// Run: select   (build/<dir>/apps/select/select
// --config-file=config/default.ini)
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>
#include <rotina/select.hpp>
#include <rotina/time.hpp>
#include <rotina/wait_group.hpp>

using namespace rotina;
using namespace std::chrono_literals;

task<> fibonacci(chan<int> c, chan<int> quit) {
  int x = 0, y = 1;
  for (;;) {
    // Handlers run on this goroutine; the returned index says which case ran.
    auto i
      = co_await select(send_case(c, x, [&] { x = std::exchange(y, x + y); }),
                        recv_case(quit, [] { std::puts("quit"); }));
    if (i == 1)
      co_return;
  }
}

task<> tour() {
  auto c = make_chan<int>(), quit = make_chan<int>();
  go([c, quit]() -> task<> {
    for (int i = 0; i < 10; ++i)
      std::printf("%d\n", *co_await c.recv());
    co_await quit.send(0);
  });
  co_await fibonacci(c, quit);
}

task<> timeouts(int n, std::chrono::milliseconds limit) {
  auto c = make_chan<std::string>(1);
  auto result = "result " + std::to_string(n);
  go([c, result]() -> task<> {
    co_await sleep(1s);
    co_await c.send(result);
  });
  co_await select(
    recv_case(c,
              [](std::optional<std::string> res) { std::puts(res->c_str()); }),
    timeout_case(limit, [&] { std::printf("timeout %d\n", n); }));
}

task<> non_blocking() {
  auto messages = make_chan<std::string>();
  co_await select(recv_case(messages,
                            [](std::optional<std::string> m) {
                              std::printf("received message %s\n", m->c_str());
                            }),
                  default_case([] { std::puts("no message received"); }));
  std::string msg = "hi";
  // Named first: g++ 12 destroys a lambda that captures a std::string by copy
  // twice when it is written inside the co_await expression.
  auto sent = [msg] { std::printf("sent message %s\n", msg.c_str()); };
  co_await select(send_case(messages, msg, sent),
                  default_case([] { std::puts("no message sent"); }));
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  wait_group wg{rt};
  wg.go([]() -> task<> { // Go's main goroutine
    co_await tour();
    co_await timeouts(1, 10ms);
    co_await timeouts(2, 5s);
    co_await non_blocking();
  });
  wg.wait_blocking();
  return wg.errors().empty() ? 0 : 1;
}
