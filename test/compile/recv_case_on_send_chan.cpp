// Go: "invalid operation: cannot receive from send-only channel".
// check: fails cannot receive from send-only channel
#include <rotina/select.hpp>

void f(rotina::send_chan<int> ch) {
  (void)rotina::recv_case(ch);
}
