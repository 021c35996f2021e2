// Writes the seed corpus of handshake_fuzz into the folder given as argv[1]:
// a valid hello, one of another protocol version, a refuse, an ok, and a
// truncated hello.
#include <cstdio>
#include <string>
#include <vector>

#include "rotina/detail/net_frame.hpp"

using namespace rotina::detail::net;

namespace {

void put(const std::string& dir, const char* name,
         const std::vector<uint8_t>& bytes) {
  auto path = dir + "/" + name;
  auto f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    return 2;
  hello x;
  x.name = "node-a";
  x.incarnation = 42;
  x.caf_node = "0123456789ABCDEF#77";
  x.host = "127.0.0.1";
  x.port = 4301;
  x.heartbeat_interval_ns = 500'000'000;
  x.heartbeat_timeout_ns = 2'000'000'000;
  x.fingerprint = std::string(64, 'a');
  x.release = "0.1.0";
  x.types = "test.blob\ntest.point\n";
  auto h = encode_hello(x);
  put(argv[1], "hello", h);
  auto other = x;
  other.version = protocol_version + 1;
  put(argv[1], "hello-other-version", encode_hello(other));
  put(argv[1], "refuse", encode_refuse("node name 'node-a' is taken"));
  put(argv[1], "ok", encode_ok());
  h.resize(h.size() / 2);
  put(argv[1], "hello-truncated", h);
  return 0;
}
