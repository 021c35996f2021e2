// The frames of rotina's handshake: what two nodes say to each other on a new
// connection before CAF's BASP may use it (docs/design.md, "The transport
// gate"). The decoder reads untrusted bytes: every length is checked against
// the frame and against max_payload before anything is allocated, and a frame
// is refused with a message naming what was wrong.
//
// Wire format of one frame (integers big-endian):
//   magic "RTNA" (4 bytes) | type (1) | reserved, zero (3) | length (u32) |
//   payload (length bytes, at most max_payload)
// hello payload: u32 version | str name | u64 incarnation | str caf_node |
//   str host | u16 port | i64 heartbeat_interval_ns | i64 heartbeat_timeout_ns
//   | str fingerprint | str release | str types (at most max_type_list)
// A hello whose version is not protocol_version is decoded only up to its
// name (the rest may have another layout), so that the refusal can name both
// versions.
// refuse payload: str reason
// ok payload: empty
// where str is u32 length + bytes (at most max_string).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rotina::detail::net {

// -- constants ----------------------------------------------------------------

/// Version of rotina's node protocol; peers must agree on it.
inline constexpr uint32_t protocol_version = 1;

/// Bytes of a frame header.
inline constexpr size_t header_size = 12;

/// Largest payload a frame may announce: a connection that has not finished
/// the handshake can never make a node buffer more than this.
inline constexpr size_t max_payload = 64 * 1024;

/// Largest string inside a frame.
inline constexpr size_t max_string = 4096;

/// Largest list of registered type names inside a hello.
inline constexpr size_t max_type_list = 32 * 1024;

// -- frames -------------------------------------------------------------------

enum class frame_type : uint8_t {
  /// A node introduces itself.
  hello = 1,
  /// The sender refuses the connection; the payload says why.
  refuse = 2,
  /// The connecting node accepts the other's hello: BASP may start.
  ok = 3,
};

/// What a node says about itself in the handshake.
struct hello {
  uint32_t version = protocol_version;
  /// The configured node name (the identity rotina trusts).
  std::string name;
  /// Distinguishes two processes that used the same name one after the
  /// other.
  uint64_t incarnation = 0;
  /// CAF's node id of the sender, as text (to map BASP's peer to a name).
  std::string caf_node;
  /// Where the sender accepts peers (empty / 0 when it does not listen).
  std::string host;
  uint16_t port = 0;
  /// Failure-detection settings (they must be equal on both sides).
  int64_t heartbeat_interval_ns = 0;
  int64_t heartbeat_timeout_ns = 0;
  /// Fingerprint of the registered message types.
  std::string fingerprint;
  /// rotina's release ("0.3.0"), for messages only.
  std::string release;
  /// The registered type names, sorted, '\n'-separated (to name the
  /// difference when the fingerprints differ).
  std::string types;

  friend bool operator==(const hello&, const hello&) = default;
};

/// A parsed frame header.
struct frame_header {
  frame_type type = frame_type::hello;
  uint32_t length = 0;
};

// -- encoding -----------------------------------------------------------------

/// Returns the complete frame (header and payload) for `x`. Strings longer
/// than max_string are cut to it.
std::vector<uint8_t> encode_hello(const hello& x);

/// Returns a refuse frame carrying `reason` (cut to max_string bytes).
std::vector<uint8_t> encode_refuse(std::string_view reason);

/// Returns an ok frame.
std::vector<uint8_t> encode_ok();

// -- decoding -----------------------------------------------------------------

/// Parses the header_size bytes at `bytes`. Returns false and sets `error` if
/// the magic, type, reserved bytes or length are wrong (a length above
/// max_payload is refused before anything is allocated).
bool parse_header(const uint8_t* bytes, frame_header& out, std::string& error);

/// Decodes a hello payload of `size` bytes. Returns false and sets `error` on
/// a truncated, oversized or trailing-garbage payload.
bool decode_hello(const uint8_t* bytes, size_t size, hello& out,
                  std::string& error);

/// Decodes a refuse payload. Returns false and sets `error` if malformed.
bool decode_refuse(const uint8_t* bytes, size_t size, std::string& reason,
                   std::string& error);

} // namespace rotina::detail::net
