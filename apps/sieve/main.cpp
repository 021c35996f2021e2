// sieve: Go's concurrent prime sieve (go.dev/doc/play/sieve.go). generate
// sends 2, 3, 4, ... down an unbuffered channel; each prime found gets its own
// filter goroutine that passes on the numbers it does not divide, so the chain
// grows by one goroutine per prime. Prints the first N primes (default 10),
// ten to a line, and the N-th prime.
//
// The Go original:
//   func Generate(ch chan<- int) {
//       for i := 2; ; i++ {
//           ch <- i // Send 'i' to channel 'ch'.
//       }
//   }
//   func Filter(in <-chan int, out chan<- int, prime int) {
//       for {
//           i := <-in // Receive value to new variable 'i'.
//           if i%prime != 0 {
//               out <- i // Send 'i' to 'out'.
//           }
//       }
//   }
//   func main() {
//       ch := make(chan int) // Create a new channel.
//       go Generate(ch)      // Launch Generate goroutine.
//       for i := 0; i < 10; i++ {
//           prime := <-ch
//           fmt.Println(prime)
//           ch1 := make(chan int)
//           go Filter(ch, ch1, prime)
//           ch = ch1
//       }
//   }
//
// When main returns, the generator and the filters are still blocked on their
// sends; the runtime sees that every goroutine is parked and shuts down.
//
// Run: sieve [N]   (build/<dir>/apps/sieve/sieve
// --config-file=config/default.ini 1000)
#include <cstdio>
#include <string>

#include <rotina/chan.hpp>
#include <rotina/goroutine.hpp>
#include <rotina/runtime.hpp>

using namespace rotina;

task<> generate(send_chan<int> ch) {
  for (int i = 2;; ++i)
    co_await ch.send(i); // Send 'i' to channel 'ch'.
}

task<> filter(recv_chan<int> in, send_chan<int> out, int prime) {
  for (;;) {
    auto i = co_await in.recv(); // Receive value to new variable 'i'.
    if (*i % prime != 0)
      co_await out.send(*i); // Send 'i' to 'out'.
  }
}

int main(int argc, char** argv) {
  runtime rt{argc, argv};
  auto& args = rt.config().remainder;
  int n = args.empty() ? 10 : std::stoi(args.front());
  auto ch = make_chan<int>(rt); // Create a new channel.
  go(rt, generate, ch);         // Launch generate goroutine.
  int prime = 0;
  for (int i = 0; i < n; ++i) {
    prime = *ch.recv_blocking();
    std::printf("%5d%c", prime, i % 10 == 9 || i == n - 1 ? '\n' : ' ');
    auto ch1 = make_chan<int>(rt);
    go(rt, filter, ch, ch1, prime);
    ch = ch1;
  }
  std::printf("prime #%d: %d\n", n, prime);
}
