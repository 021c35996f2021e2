// Go: "channel element type too large (>64kB)".
// check: fails channel element type too large (>64kB)
#include <rotina/chan.hpp>

struct big {
  unsigned char bytes[65537];
};

void f(rotina::runtime& rt) {
  auto ch = rotina::make_chan<big>(rt, 1);
  (void)ch;
}
