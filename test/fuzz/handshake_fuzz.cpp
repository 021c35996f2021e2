// libFuzzer target for the bytes a node reads from a stranger: a frame header
// and the hello and refuse payloads of rotina's handshake
// (rotina/detail/net_frame.hpp). The decoder must refuse or accept every
// input without a crash, an out-of-bounds read (ASan) or an allocation beyond
// the frame limit, and whatever it accepts of protocol_version must encode
// back to the same bytes.
//
// CTest runs it for ROTINA_FUZZ_SECONDS (20 s by default) from the seed corpus
// that make_seeds.cpp writes (test/CMakeLists.txt, test fuzz.handshake).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "rotina/detail/net_frame.hpp"

using namespace rotina::detail::net;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < header_size)
    return 0;
  frame_header hdr;
  std::string error;
  if (!parse_header(data, hdr, error)) {
    if (error.empty())
      std::abort(); // a refusal must say why
    return 0;
  }
  if (hdr.length > max_payload)
    std::abort();
  auto payload = data + header_size;
  auto available = size - header_size;
  auto n = hdr.length < available ? hdr.length : available;
  switch (hdr.type) {
  case frame_type::hello: {
    hello x;
    if (decode_hello(payload, n, x, error)) {
      // Another protocol version is decoded only up to its name (so that the
      // refusal can name both versions): nothing to re-encode.
      if (x.version != protocol_version) {
        if (!x.fingerprint.empty() || !x.types.empty())
          std::abort();
        break;
      }
      // Accepted: it re-encodes to exactly the bytes it came from.
      auto again = encode_hello(x);
      if (again.size() != header_size + n
          || !std::equal(again.begin() + header_size, again.end(), payload))
        std::abort();
    } else if (error.empty()) {
      std::abort();
    }
    break;
  }
  case frame_type::refuse: {
    std::string reason;
    if (!decode_refuse(payload, n, reason, error) && error.empty())
      std::abort();
    break;
  }
  case frame_type::ok:
    break;
  }
  return 0;
}
