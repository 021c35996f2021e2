// mandelbrot_wire_check (ctest app.mandelbrot.wire): the app's messages are
// CAF-serializable as they are. Round-trips a frame, a rendered row_result and faults
// through caf::binary_serializer / binary_deserializer (what CAF does when a
// message crosses nodes) and checks that the copies are equal.
#include <cstdio>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "frame.hpp"

using namespace mandelbrot;

bool failed = false;

template <class T>
T round_trip(T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  if (auto err = sink(x))
    failed = true;
  T y;
  caf::binary_deserializer source{nullptr, buf};
  if (auto err = source(y))
    failed = true;
  return y;
}

int main() {
  frame f{64, 48, 100};
  frame g = round_trip(f);
  row_result r{17, f.render_row(17)};
  row_result s = round_trip(r);
  faults fx = round_trip(faults{7, 5});
  bool ok = !failed && g.width == 64 && g.height == 48 && g.max_iter == 100 && s.y == 17
            && s.rgb == r.rgb && r.rgb.size() == 3 * 64 && fx.dup_every == 7 && fx.lose_every == 5;
  std::printf("frame, row_result and faults round trip: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
