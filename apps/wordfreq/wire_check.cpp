// wordfreq_wire_check (ctest app.wordfreq.wire): the app's messages are
// CAF-serializable as they are. Round-trips a document and a word_counts
// through caf::binary_serializer / binary_deserializer (what CAF does when a
// message crosses nodes) and checks that the copies are equal.
#include <cstdio>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "counts.hpp"

using namespace wordfreq;

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
  document d{"cookie", "Hello, hello world\n\xc3\xa9t\xc3\xa9 7 up"};
  document e = round_trip(d);
  word_counts c = count_words(d.text);
  word_counts t = round_trip(c);
  bool ok = !failed && e.name == d.name && e.text == d.text && t.counts == c.counts
            && t.words == 5 && c.counts.size() == 4 && c.counts.at("hello") == 2;
  std::printf("document and word_counts round trip: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
