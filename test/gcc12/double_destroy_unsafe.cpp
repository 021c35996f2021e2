// The unsafe spellings of docs/gcc12.md, kept out of every other test: a
// braced aggregate and a capturing lambda written inside the co_await
// expression. Built only for g++ < 13 and registered as a test that must FAIL
// there (g++ 12 destroys each temporary twice, so the live counter ends below
// zero): it shows that double_destroy_test.cpp's counter can see the defect.
// Its members are trivially destructible apart from the counter, so the
// second destruction corrupts nothing (no std::string here).
#include <cstdio>

#include "double_destroy_types.hpp"
#include "rotina/chan.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/select.hpp"

using namespace rotina;
using namespace rotina::gcc12_test;

struct counted {
  tracked t;
  int n;
};

int main() {
  int received = 0;
  {
    runtime rt{opts()};
    auto ch = make_chan<counted>(rt, 8);
    auto done = make_chan<int>(rt, 1);
    auto producer = [ch, done]() -> task<> {
      int handled = 0;
      for (int i = 0; i < 3; ++i) {
        co_await ch.send(counted{tracked{}, i});             // UNSAFE on g++ 12
        co_await select(send_case(ch, counted{tracked{}, i}, // UNSAFE
                                  [t = tracked{}, &handled] { ++handled; }));
      }
      co_await done.send(handled);
    };
    go(rt, producer);
    int handled = done.recv_blocking().value_or(-1);
    while (auto v = ch.try_recv().value)
      ++received;
    std::printf("handled=%d received=%d\n", handled, received);
  }
  std::printf("live=%d (0 is correct)\n", live.load());
  return live.load() == 0 && received == 6 ? 0 : 1;
}
