// The node layer's use of the transport gate (see
// rotina/detail/node_transport.hpp).

#include "rotina/detail/node_transport.hpp"

#include <arpa/inet.h>

#include "rotina/detail/net_tls.hpp"

namespace rotina::detail {

bool is_loopback(const std::string& host) {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  auto h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::variant<transport_plan, std::string>
check_transport(const transport_settings& cfg, const std::string& name,
                bool listen, const std::string& listen_host) {
  transport_plan result;
  auto& gs = result.gate;
  gs.handshake_timeout = cfg.handshake_timeout;
  gs.max_pending = cfg.max_pending_handshakes;
  gs.max_message_size = cfg.max_message_size;
  auto who = "node '" + name + "'";
  net::tls_settings ts{cfg.tls_certificate, cfg.tls_key, cfg.tls_ca_file,
                       net::name_check::cn_or_san};
  if (!net::parse_name_check(cfg.tls_name_check, ts.check))
    return who
           + ": rotina.tls-name-check must be \"cn-or-san\", \"cn\" or "
             "\"san\", not \""
           + cfg.tls_name_check + "\"";
  if (ts.configured()) {
    std::string missing;
    auto need = [&](const std::string& value, const char* key) {
      if (value.empty())
        missing += std::string{missing.empty() ? "" : " and "} + key;
    };
    need(ts.certificate, "rotina.tls-certificate");
    need(ts.key, "rotina.tls-key");
    need(ts.ca_file, "rotina.tls-ca-file");
    if (!missing.empty())
      return who
             + ": TLS needs rotina.tls-certificate, rotina.tls-key and "
               "rotina.tls-ca-file together; "
             + missing + " is not set";
    auto ctx = net::tls_context::make(ts);
    if (auto err = std::get_if<std::string>(&ctx))
      return who + ": " + *err;
    gs.tls = std::get<std::shared_ptr<net::tls_context>>(ctx);
    return result;
  }
  if (!listen || is_loopback(listen_host))
    return result;
  auto where = "'" + listen_host + "'";
  if (!cfg.insecure)
    return who + " refuses to listen on " + where
           + " without TLS: that address is reachable from other machines, "
             "and without TLS anyone who reaches the port can act as a peer. "
             "Set rotina.tls-certificate, rotina.tls-key and "
             "rotina.tls-ca-file (docs/security.md), listen on a loopback "
             "address (rotina.listen-host = \"127.0.0.1\"), or set "
             "rotina.insecure = true to accept unauthenticated peers";
  result.warning = "WARNING: rotina.insecure = true: " + who + " listens on "
                   + where
                   + " WITHOUT TLS; anyone who reaches the port can connect as "
                     "a peer, read and send messages, and spawn work "
                     "(docs/security.md)";
  return result;
}

std::string refusal_text(const connect_error& err) {
  return err.to_string();
}

connect_error to_connect_error(const net::connect_error& err) {
  using net::connect_failure;
  switch (err.kind) {
  case connect_failure::bad_address:
  case connect_failure::handshake_failed:
    return {connect_errc::handshake_failed, err.message};
  case connect_failure::refused:
    return {connect_errc::refused, err.message};
  case connect_failure::timed_out:
    return {connect_errc::timed_out, err.message};
  case connect_failure::rejected:
  case connect_failure::mismatch:
    break;
  }
  // A refusal: "connect to HOST:PORT: <code text>: <message>".
  auto text = err.message;
  if (auto colon = text.find(": "); colon != std::string::npos)
    text = text.substr(colon + 2);
  for (auto code :
       {connect_errc::name_taken, connect_errc::version_mismatch,
        connect_errc::settings_mismatch, connect_errc::fingerprint_mismatch,
        connect_errc::handshake_failed, connect_errc::not_configured}) {
    std::string prefix = to_string(code);
    prefix += ": ";
    if (text.rfind(prefix, 0) == 0)
      return {code, text.substr(prefix.size())};
  }
  // A refusal by the gate itself (a certificate name, a malformed frame).
  return {connect_errc::handshake_failed,
          err.kind == connect_failure::rejected
            ? "the peer refused: " + text
            : "this node refused the peer: " + text};
}

} // namespace rotina::detail
