// Go: "invalid operation: cannot send to receive-only channel".
// check: fails cannot send to receive-only channel
#include <rotina/select.hpp>

void f(rotina::recv_chan<int> ch) {
  (void)rotina::send_case(ch, 1);
}
