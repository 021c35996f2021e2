#include "rotina/detail/net_tls.hpp"

#include <algorithm>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace rotina::detail::net {

namespace {

std::string queue_error() {
  auto code = ERR_get_error();
  if (code == 0)
    return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

} // namespace

bool parse_name_check(const std::string& text, name_check& out) {
  if (text == "cn-or-san")
    out = name_check::cn_or_san;
  else if (text == "cn")
    out = name_check::cn;
  else if (text == "san")
    out = name_check::san;
  else
    return false;
  return true;
}

tls_context::~tls_context() {
  if (ctx_ != nullptr)
    SSL_CTX_free(ctx_);
}

std::variant<std::shared_ptr<tls_context>, std::string>
tls_context::make(const tls_settings& cfg) {
  if (cfg.certificate.empty() || cfg.key.empty() || cfg.ca_file.empty())
    return std::string{"TLS needs all three of certificate, key and "
                       "ca-file (set: "}
           + (cfg.certificate.empty() ? "" : "certificate ")
           + (cfg.key.empty() ? "" : "key ")
           + (cfg.ca_file.empty() ? "" : "ca-file") + ")";
  std::shared_ptr<tls_context> result{new tls_context};
  result->check_ = cfg.check;
  auto ctx = SSL_CTX_new(TLS_method());
  if (ctx == nullptr)
    return "cannot create a TLS context: " + queue_error();
  result->ctx_ = ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                          | SSL_MODE_ENABLE_PARTIAL_WRITE);
  if (SSL_CTX_use_certificate_chain_file(ctx, cfg.certificate.c_str()) != 1)
    return "cannot load the certificate '" + cfg.certificate
           + "': " + queue_error();
  if (SSL_CTX_use_PrivateKey_file(ctx, cfg.key.c_str(), SSL_FILETYPE_PEM)
      != 1)
    return "cannot load the key '" + cfg.key + "': " + queue_error();
  if (SSL_CTX_check_private_key(ctx) != 1)
    return "the key '" + cfg.key + "' does not match the certificate '"
           + cfg.certificate + "'";
  if (SSL_CTX_load_verify_locations(ctx, cfg.ca_file.c_str(), nullptr) != 1)
    return "cannot load the CA file '" + cfg.ca_file + "': " + queue_error();
  // Mutual: a peer without a certificate, or with one that does not chain to
  // the CA or is not valid now, fails the TLS handshake.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     nullptr);
  return result;
}

SSL* tls_context::new_session(int fd, bool accepting) const {
  auto ssl = SSL_new(ctx_);
  if (ssl == nullptr)
    return nullptr;
  SSL_set_fd(ssl, fd);
  if (accepting)
    SSL_set_accept_state(ssl);
  else
    SSL_set_connect_state(ssl);
  return ssl;
}

std::vector<std::string> peer_names(SSL* ssl, name_check check) {
  std::vector<std::string> result;
  auto cert = SSL_get_peer_certificate(ssl);
  if (cert == nullptr)
    return result;
  if (check != name_check::san) {
    auto subject = X509_get_subject_name(cert);
    auto idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx >= 0) {
      auto data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
      result.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                          static_cast<size_t>(ASN1_STRING_length(data)));
    }
  }
  if (check != name_check::cn) {
    auto sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (sans != nullptr) {
      for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
        auto name = sk_GENERAL_NAME_value(sans, i);
        if (name->type != GEN_DNS)
          continue;
        auto data = name->d.dNSName;
        result.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                            static_cast<size_t>(ASN1_STRING_length(data)));
      }
      GENERAL_NAMES_free(sans);
    }
  }
  X509_free(cert);
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

std::string match_name(const std::string& claimed,
                       const std::vector<std::string>& names) {
  for (auto& x : names)
    if (x == claimed)
      return {};
  std::string listed;
  for (auto& x : names)
    listed += (listed.empty() ? "'" : ", '") + x + "'";
  return "node name '" + claimed + "' does not match its certificate (names: "
         + (listed.empty() ? "none" : listed) + ")";
}

std::string tls_error(SSL* ssl) {
  if (ssl != nullptr) {
    auto verdict = SSL_get_verify_result(ssl);
    if (verdict != X509_V_OK)
      return std::string{"certificate verification failed: "}
             + X509_verify_cert_error_string(verdict);
  }
  return queue_error();
}

void free_session(SSL* ssl) noexcept {
  if (ssl != nullptr)
    SSL_free(ssl);
}

} // namespace rotina::detail::net
