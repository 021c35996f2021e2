#include "rotina/detail/net_frame.hpp"

#include <cstring>

// g++ 12 at -O3 reports std::vector<uint8_t>::resize/insert on a buffer that
// grew from empty as a write "into a region of size 0" (a known false positive
// of -Wstringop-overflow, GCC bugs 106199 and 107852); every write below is
// bounds-checked by the vector itself.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#  pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif

namespace rotina::detail::net {

namespace {

constexpr uint8_t magic[4] = {'R', 'T', 'N', 'A'};

// -- writing ------------------------------------------------------------------

class writer {
public:
  void u8(uint8_t x) {
    buf_.push_back(x);
  }

  void u16(uint16_t x) {
    u8(static_cast<uint8_t>(x >> 8));
    u8(static_cast<uint8_t>(x));
  }

  void u32(uint32_t x) {
    for (int shift = 24; shift >= 0; shift -= 8)
      u8(static_cast<uint8_t>(x >> shift));
  }

  void u64(uint64_t x) {
    for (int shift = 56; shift >= 0; shift -= 8)
      u8(static_cast<uint8_t>(x >> shift));
  }

  void str(std::string_view x, size_t limit = max_string) {
    if (x.size() > limit)
      x = x.substr(0, limit);
    u32(static_cast<uint32_t>(x.size()));
    auto at = buf_.size();
    buf_.resize(at + x.size());
    if (!x.empty())
      std::memcpy(buf_.data() + at, x.data(), x.size());
  }

  /// Returns header + payload.
  std::vector<uint8_t> frame(frame_type type) && {
    std::vector<uint8_t> result(header_size + buf_.size(), 0);
    std::memcpy(result.data(), magic, 4);
    result[4] = static_cast<uint8_t>(type);
    auto n = static_cast<uint32_t>(buf_.size());
    for (int i = 0; i < 4; ++i)
      result[8 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
    if (!buf_.empty())
      std::memcpy(result.data() + header_size, buf_.data(), buf_.size());
    return result;
  }

private:
  std::vector<uint8_t> buf_;
};

// -- reading ------------------------------------------------------------------

/// Reads fields from an untrusted payload; the first failure sticks and names
/// the field.
class reader {
public:
  reader(const uint8_t* bytes, size_t size) : pos_(bytes), end_(bytes + size) {
    // nop
  }

  bool u16(uint16_t& x, const char* field) {
    uint64_t tmp = 0;
    if (!take(2, tmp, field))
      return false;
    x = static_cast<uint16_t>(tmp);
    return true;
  }

  bool u32(uint32_t& x, const char* field) {
    uint64_t tmp = 0;
    if (!take(4, tmp, field))
      return false;
    x = static_cast<uint32_t>(tmp);
    return true;
  }

  bool u64(uint64_t& x, const char* field) {
    return take(8, x, field);
  }

  bool i64(int64_t& x, const char* field) {
    uint64_t tmp = 0;
    if (!take(8, tmp, field))
      return false;
    std::memcpy(&x, &tmp, sizeof(x));
    return true;
  }

  bool str(std::string& x, const char* field, size_t limit = max_string) {
    uint32_t n = 0;
    if (!u32(n, field))
      return false;
    if (n > limit)
      return fail(field, "string of " + std::to_string(n) + " bytes (at most "
                           + std::to_string(limit) + ")");
    if (static_cast<size_t>(end_ - pos_) < n)
      return fail(field, "truncated");
    x.assign(reinterpret_cast<const char*>(pos_), n);
    pos_ += n;
    return true;
  }

  bool at_end() {
    if (pos_ != end_)
      return fail("payload",
                  std::to_string(end_ - pos_) + " bytes of trailing garbage");
    return true;
  }

  const std::string& error() const noexcept {
    return error_;
  }

private:
  bool take(size_t n, uint64_t& x, const char* field) {
    if (static_cast<size_t>(end_ - pos_) < n)
      return fail(field, "truncated");
    x = 0;
    for (size_t i = 0; i < n; ++i)
      x = (x << 8) | pos_[i];
    pos_ += n;
    return true;
  }

  bool fail(const char* field, const std::string& what) {
    if (error_.empty())
      error_ = std::string{field} + ": " + what;
    return false;
  }

  const uint8_t* pos_;
  const uint8_t* end_;
  std::string error_;
};

} // namespace

// -- encoding -----------------------------------------------------------------

std::vector<uint8_t> encode_hello(const hello& x) {
  writer w;
  w.u32(x.version);
  w.str(x.name);
  w.u64(x.incarnation);
  w.str(x.caf_node);
  w.str(x.host);
  w.u16(x.port);
  w.u64(static_cast<uint64_t>(x.heartbeat_interval_ns));
  w.u64(static_cast<uint64_t>(x.heartbeat_timeout_ns));
  w.str(x.fingerprint);
  w.str(x.release);
  w.str(x.types, max_type_list);
  return std::move(w).frame(frame_type::hello);
}

std::vector<uint8_t> encode_refuse(std::string_view reason) {
  writer w;
  w.str(reason);
  return std::move(w).frame(frame_type::refuse);
}

std::vector<uint8_t> encode_ok() {
  return writer{}.frame(frame_type::ok);
}

// -- decoding -----------------------------------------------------------------

bool parse_header(const uint8_t* bytes, frame_header& out, std::string& error) {
  if (std::memcmp(bytes, magic, 4) != 0) {
    error = "not a rotina node (bad magic bytes)";
    return false;
  }
  auto type = bytes[4];
  if (type < 1 || type > 3) {
    error = "unknown frame type " + std::to_string(type);
    return false;
  }
  if (bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 0) {
    error = "reserved header bytes are not zero";
    return false;
  }
  uint32_t length = 0;
  for (int i = 8; i < 12; ++i)
    length = (length << 8) | bytes[i];
  if (length > max_payload) {
    error = "frame announces " + std::to_string(length) + " bytes (at most "
            + std::to_string(max_payload) + " before the handshake)";
    return false;
  }
  out.type = static_cast<frame_type>(type);
  out.length = length;
  return true;
}

bool decode_hello(const uint8_t* bytes, size_t size, hello& out,
                  std::string& error) {
  reader r{bytes, size};
  hello x;
  if (!r.u32(x.version, "version")) {
    error = "malformed hello: " + r.error();
    return false;
  }
  if (x.version != protocol_version) {
    // Another protocol: its layout may differ. Keep the version (and the
    // name when readable) so that the refusal can name both versions.
    if (!r.str(x.name, "name"))
      x.name.clear();
    out = std::move(x);
    return true;
  }
  auto ok = r.str(x.name, "name") && r.u64(x.incarnation, "incarnation")
            && r.str(x.caf_node, "caf node id") && r.str(x.host, "host")
            && r.u16(x.port, "port")
            && r.i64(x.heartbeat_interval_ns, "heartbeat interval")
            && r.i64(x.heartbeat_timeout_ns, "heartbeat timeout")
            && r.str(x.fingerprint, "fingerprint")
            && r.str(x.release, "release")
            && r.str(x.types, "types", max_type_list) && r.at_end();
  if (!ok) {
    error = "malformed hello: " + r.error();
    return false;
  }
  out = std::move(x);
  return true;
}

bool decode_refuse(const uint8_t* bytes, size_t size, std::string& reason,
                   std::string& error) {
  reader r{bytes, size};
  if (!r.str(reason, "reason") || !r.at_end()) {
    error = "malformed refusal: " + r.error();
    return false;
  }
  return true;
}

} // namespace rotina::detail::net
