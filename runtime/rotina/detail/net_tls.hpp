// TLS for the transport gate: mutual TLS with OpenSSL, where a peer's
// certificate must come from the configured CA, be valid now, and name the
// node that the peer claims to be in rotina's hello (docs/security.md).
//
// There is no anonymous mode: a context needs a certificate, its key and a CA.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace rotina::detail::net {

/// Which names of a peer's certificate a claimed node name is checked
/// against.
enum class name_check {
  /// The subject's common name or any DNS subjectAltName (default).
  cn_or_san,
  /// The subject's common name only.
  cn,
  /// DNS subjectAltNames only.
  san,
};

/// Parses "cn-or-san", "cn" or "san". Returns false on anything else.
bool parse_name_check(const std::string& text, name_check& out);

struct tls_settings {
  /// PEM file with this node's certificate (and chain).
  std::string certificate;
  /// PEM file with the certificate's private key.
  std::string key;
  /// PEM file with the CA certificate(s) that peers' certificates must chain
  /// to.
  std::string ca_file;
  name_check check = name_check::cn_or_san;

  /// Returns whether any of the files is set (then all must be).
  bool configured() const noexcept {
    return !certificate.empty() || !key.empty() || !ca_file.empty();
  }
};

/// An OpenSSL context for one gate: both ends verify each other.
class tls_context {
public:
  ~tls_context();

  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  /// Loads the files of `cfg`. Returns an error naming the file and OpenSSL's
  /// reason when one is missing, unreadable, or the key does not match.
  static std::variant<std::shared_ptr<tls_context>, std::string>
  make(const tls_settings& cfg);

  /// Returns a new TLS session on `fd` (accepting or connecting side).
  SSL* new_session(int fd, bool accepting) const;

  name_check check() const noexcept {
    return check_;
  }

private:
  tls_context() = default;

  SSL_CTX* ctx_ = nullptr;
  name_check check_ = name_check::cn_or_san;
};

/// Returns the names of the peer's certificate on `ssl` that `check` allows.
std::vector<std::string> peer_names(SSL* ssl, name_check check);

/// Returns "" if `claimed` is one of `names`, else the refusal: "node name
/// 'x' does not match its certificate (names: 'a', 'b')".
std::string match_name(const std::string& claimed,
                       const std::vector<std::string>& names);

/// Returns OpenSSL's reason for the last failure on `ssl` (certificate
/// verification first, then the error queue).
std::string tls_error(SSL* ssl);

/// Frees `ssl` (null is fine).
void free_session(SSL* ssl) noexcept;

} // namespace rotina::detail::net
