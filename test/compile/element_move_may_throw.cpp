// A move that throws inside the core would lose a parked receiver: refused.
// check: fails must be nothrow move constructible
#include <rotina/chan.hpp>

struct throwing {
  throwing() = default;
  throwing(throwing&&) noexcept(false) {
  }
};

void f(rotina::runtime& rt) {
  auto ch = rotina::make_chan<throwing>(rt, 1);
  (void)ch;
}
