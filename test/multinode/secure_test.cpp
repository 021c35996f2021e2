// The secure node network (issue 13) against real node processes: mutual TLS
// between nodes, peers that must be refused, the security settings checked at
// start, and the raw-socket and CAF-client attacks of ../shared/CAF-NOTES.md
// ("Failure behaviour across nodes") against a real node. Certificates come
// from test/net/make_certs.sh at test time (none are committed). Every wait
// is bounded and every process is reaped (harness.hpp, node_process).
#include <boost/test/unit_test.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.hpp"
#include "rotina/detail/net_frame.hpp"

using namespace std::chrono_literals;
using rotina::test::node_process;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size()))
    ++n;
  return n;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

/// A throwaway CA and node certificates in a fresh folder, removed after.
struct certs {
  certs() {
    char tmpl[] = "/tmp/rotina-node-certs-XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto cmd = "bash " + std::string{ROTINA_SOURCE_DIR}
               + "/test/net/make_certs.sh " + dir;
    BOOST_REQUIRE_EQUAL(std::system(cmd.c_str()), 0);
  }

  ~certs() {
    [[maybe_unused]] auto rc = std::system(("rm -rf " + dir).c_str());
  }

  /// The three TLS keys for certificate `name` and CA `ca`.
  std::vector<std::string> tls(const std::string& name,
                               const std::string& ca = "ca") const {
    return {"--tls-certificate=" + dir + "/" + name + ".crt",
            "--tls-key=" + dir + "/" + name + ".key",
            "--tls-ca-file=" + dir + "/" + ca + ".crt"};
  }

  std::string dir;
};

std::vector<std::string> args(const std::string& name,
                              std::vector<std::string> extra = {}) {
  std::vector<std::string> result{"--node-name=" + name, "--listen=true",
                                  "--scheduler.max-threads=2",
                                  "--middleman.workers=1"};
  for (auto& x : extra)
    result.push_back(x);
  return result;
}

std::vector<std::string> operator+(std::vector<std::string> xs,
                                   const std::vector<std::string>& ys) {
  xs.insert(xs.end(), ys.begin(), ys.end());
  return xs;
}

/// Starts a node that must refuse to start; returns its exit status and
/// stderr.
std::pair<int, std::string> refused_start(std::vector<std::string> xs) {
  node_process p{std::move(xs), 20s, false};
  auto status = p.wait_exit(20s);
  return {status.value_or(-1), p.stderr_text()};
}

// -- raw sockets --------------------------------------------------------------

int raw_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  return fd;
}

/// "127.0.0.1:<port>" of our end of `fd` (what the node logs as the peer).
std::string local_address(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

/// Waits until the node closes `fd` (true) or `timeout` passes (false);
/// appends whatever the node sent to `got`.
bool closed_by_peer(int fd, std::chrono::milliseconds timeout,
                    std::string* got = nullptr) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[512];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) {
      auto n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0 && got != nullptr)
        got->append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN))
        return true;
    }
  }
  return false;
}

void send_bytes(int fd, const std::vector<uint8_t>& bytes) {
  [[maybe_unused]] auto n
    = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

/// A 32-byte CAF 0.17 BASP header: operation, 2 padding bytes, flags,
/// payload length, operation data, source actor, destination actor
/// (big-endian, caf/io/basp/header.hpp).
std::vector<uint8_t> basp_header(uint8_t op, uint32_t payload_len,
                                 uint64_t op_data, uint64_t source,
                                 uint64_t dest) {
  std::vector<uint8_t> x{op, 0, 0, 0};
  for (int s = 24; s >= 0; s -= 8)
    x.push_back(static_cast<uint8_t>(payload_len >> s));
  for (auto v : {op_data, source, dest})
    for (int s = 56; s >= 0; s -= 8)
      x.push_back(static_cast<uint8_t>(v >> s));
  return x;
}

/// Whether `bytes` holds nothing but whole rotina refuse frames ("RTNA",
/// type 2, length, reason): what a node may say before a valid hello.
bool only_refusals(const std::string& bytes) {
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 12 || bytes.compare(at, 4, "RTNA") != 0
        || bytes[at + 4] != 2)
      return false;
    uint32_t n = 0;
    for (size_t i = 8; i < 12; ++i)
      n = (n << 8) | static_cast<uint8_t>(bytes[at + i]);
    at += 12 + n;
  }
  return at == bytes.size();
}

/// The node's resident set in KiB (/proc/<pid>/status).
long rss_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string key;
  while (in >> key)
    if (key == "VmRSS:") {
      long kib = 0;
      in >> kib;
      return kib;
    }
  return -1;
}

/// A fresh node connects to `a` and both agents answer: `a` still serves.
void check_serving(node_process& a, const std::string& name = "b") {
  node_process b{args(name)};
  auto res = b.ask(a.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect ok"), res);
  BOOST_TEST(b.ask("ping a", "ping") == "ping ok");
  BOOST_TEST(a.ask("ping " + name, "ping") == "ping ok");
}

} // namespace

// -- mutual TLS between nodes -------------------------------------------------

BOOST_AUTO_TEST_SUITE(secure_node_suite)

BOOST_AUTO_TEST_CASE(tls_nodes_connect_talk_and_see_each_others_death) {
  certs ca;
  node_process s{args("server") + ca.tls("server")};
  node_process c{args("client") + ca.tls("client")};
  auto res = c.ask(s.connect_cmd(), "connect");
  BOOST_REQUIRE_MESSAGE(contains(res, "connect ok"), res);
  BOOST_TEST(c.ask("nodes", "nodes") == "nodes server");
  BOOST_TEST(
    eventually([&] { return s.ask("nodes", "nodes") == "nodes client"; }, 5s));
  BOOST_TEST(c.ask("ping server", "ping") == "ping ok");
  BOOST_TEST(s.ask("ping client", "ping") == "ping ok");
  // The port speaks TLS and accepts the CA's client certificate (openssl's
  // own client, so this fails if the node spoke plain TCP).
  auto cmd = "timeout 10 openssl s_client -connect " + s.address() + " -CAfile "
             + ca.dir + "/ca.crt -cert " + ca.dir + "/client.crt -key " + ca.dir
             + "/client.key </dev/null 2>&1";
  std::string out;
  if (auto p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (::fgets(buf, sizeof(buf), p) != nullptr)
      out += buf;
    ::pclose(p);
  }
  BOOST_TEST(contains(out, "Verify return code: 0 (ok)"), out);
  BOOST_TEST(contains(out, "CN = server"), out);
  BOOST_TEST(s.ask("watch client", "watch") == "watch ok");
  c.kill_now();
  auto down = s.expect("down client", 10s);
  BOOST_TEST(contains(down, "is down"), down);
}

BOOST_AUTO_TEST_CASE(a_node_without_tls_and_a_tls_node_cannot_connect) {
  certs ca;
  node_process s{args("server") + ca.tls("server")};
  node_process plain{args("client")};
  auto res = plain.ask(s.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err handshake failed"), res);
  BOOST_TEST(eventually(
    [&] { return contains(s.stderr_text(), "TLS handshake failed"); }));
  // The other way round: the TLS node does not talk to a plain one.
  node_process c{args("client2") + ca.tls("client")};
  res = c.ask(plain.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err handshake failed"), res);
  BOOST_TEST(s.ask("nodes", "nodes") == "nodes ");
  BOOST_TEST(plain.ask("nodes", "nodes") == "nodes ");
}

BOOST_AUTO_TEST_CASE(a_certificate_from_another_ca_is_refused) {
  certs ca;
  node_process s{args("server") + ca.tls("server")};
  node_process c{args("client") + ca.tls("client-other")};
  auto res = c.ask(s.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err handshake failed"), res);
  BOOST_TEST(contains(res, "certificate"), res);
  BOOST_TEST(eventually([&] {
    return contains(s.stderr_text(), "certificate verification failed");
  }));
  BOOST_TEST(s.ask("nodes", "nodes") == "nodes ");
}

BOOST_AUTO_TEST_CASE(an_expired_certificate_is_refused) {
  certs ca;
  std::this_thread::sleep_for(1100ms); // client-expired's notAfter is now
  node_process s{args("server") + ca.tls("server")};
  node_process c{args("client") + ca.tls("client-expired")};
  auto res = c.ask(s.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err handshake failed"), res);
  BOOST_TEST(eventually(
    [&] { return contains(s.stderr_text(), "certificate has expired"); }));
  BOOST_TEST(s.ask("nodes", "nodes") == "nodes ");
}

BOOST_AUTO_TEST_CASE(a_name_that_does_not_match_its_certificate_is_refused) {
  // mallory holds a valid certificate of the CA for the name "mallory" and
  // claims to be node "client".
  certs ca;
  node_process s{args("server") + ca.tls("server")};
  node_process m{args("client") + ca.tls("mallory")};
  auto res = m.ask(s.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err handshake failed"), res);
  BOOST_TEST(contains(res, "node name 'client' does not match its "
                           "certificate (names: 'mallory')"),
             res);
  BOOST_TEST(eventually([&] {
    return contains(s.stderr_text(), "refused peer 'client'")
           && contains(s.stderr_text(), "does not match its certificate");
  }));
  BOOST_TEST(s.ask("nodes", "nodes") == "nodes ");
  // A listening node whose name does not match its certificate is refused by
  // the connecting node, with both names.
  node_process fake{args("server2") + ca.tls("mallory")};
  node_process c{args("client") + ca.tls("client")};
  res = c.ask(fake.connect_cmd(), "connect");
  BOOST_TEST(contains(res, "connect err handshake failed"), res);
  BOOST_TEST(contains(res, "node name 'server2' does not match its "
                           "certificate (names: 'mallory')"),
             res);
  // With tls-name-check = cn only the CN counts (make_certs.sh sets both).
  node_process s2{args("server3", {"--tls-name-check=cn"}) + ca.tls("server")};
  BOOST_TEST(contains(c.ask(s.connect_cmd(), "connect"), "connect ok"));
}

BOOST_AUTO_TEST_CASE(tls_files_are_checked_at_start_and_named) {
  certs ca;
  auto [status, err]
    = refused_start(args("a", {"--tls-certificate=" + ca.dir + "/server.crt"}));
  BOOST_TEST(status == 2);
  BOOST_TEST(contains(err, "rotina.tls-key and rotina.tls-ca-file is not set"),
             err);
  auto tls = ca.tls("server");
  tls[0] = "--tls-certificate=" + ca.dir + "/nope.crt";
  std::tie(status, err) = refused_start(args("a") + tls);
  BOOST_TEST(status == 2);
  BOOST_TEST(
    contains(err, "cannot load the certificate '" + ca.dir + "/nope.crt'"),
    err);
  tls = ca.tls("server");
  tls[1] = "--tls-key=" + ca.dir + "/client.key";
  std::tie(status, err) = refused_start(args("a") + tls);
  BOOST_TEST(status == 2);
  BOOST_TEST(contains(err, "the key '" + ca.dir + "/client.key'"), err);
  BOOST_TEST(contains(err, "mismatch"), err);
  tls = ca.tls("server");
  tls[2] = "--tls-ca-file=" + ca.dir + "/missing-ca.crt";
  std::tie(status, err) = refused_start(args("a") + tls);
  BOOST_TEST(status == 2);
  BOOST_TEST(contains(err, "missing-ca.crt"), err);
  std::tie(status, err)
    = refused_start(args("a", {"--tls-name-check=subject"}) + ca.tls("server"));
  BOOST_TEST(status == 2);
  BOOST_TEST(contains(err, "tls-name-check"), err);
}

BOOST_AUTO_TEST_CASE(a_non_loopback_listen_without_tls_is_refused) {
  auto [status, err] = refused_start(args("a", {"--listen-host=0.0.0.0"}));
  BOOST_TEST(status == 2);
  BOOST_TEST(contains(err, "refuses to listen on '0.0.0.0' without TLS"), err);
  BOOST_TEST(contains(err, "rotina.tls-certificate"), err);
  BOOST_TEST(contains(err, "rotina.insecure = true"), err);
  // Loopback needs nothing.
  for (auto host : {"127.0.0.2", "localhost", "::1"}) {
    node_process ok{args("lo", {std::string{"--listen-host="} + host})};
    BOOST_TEST(ok.port != 0);
    BOOST_TEST(!contains(ok.stderr_text(), "WARNING"), ok.stderr_text());
  }
  // insecure = true: it starts, and says so loudly.
  node_process loud{args("a", {"--listen-host=0.0.0.0", "--insecure=true"})};
  BOOST_TEST(eventually([&] {
    return contains(loud.stderr_text(), "WARNING: rotina.insecure = true")
           && contains(loud.stderr_text(), "WITHOUT TLS");
  }));
  check_serving(loud);
  // --dump-config marks it.
  node_process dump{{"--insecure=true", "--dump-config"}, 20s, false};
  auto line = dump.expect("insecure = true", 20s);
  BOOST_TEST(contains(line, "INSECURE"), line);
  // With TLS a non-loopback listen is fine and not warned about.
  certs ca;
  node_process tls{args("server", {"--listen-host=0.0.0.0"})
                   + ca.tls("server")};
  BOOST_TEST(tls.port != 0);
  BOOST_TEST(!contains(tls.stderr_text(), "WARNING"), tls.stderr_text());
}

BOOST_AUTO_TEST_CASE(shutdown_does_not_wait_for_a_connect_to_a_frozen_peer) {
  // The connector blocks in the gate's connect on its own thread; stopping
  // the node must cut that connect short instead of waiting for its timeout.
  node_process a{args("a")};
  BOOST_REQUIRE(a.stop_and_wait());
  node_process b{
    args("b", {"--peers=[\"" + a.address() + "\"]", "--connect-timeout=20s"})};
  std::this_thread::sleep_for(500ms); // the connect is under way
  auto t0 = std::chrono::steady_clock::now();
  BOOST_TEST(b.quit(15s) == 0);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - t0);
  BOOST_TEST(took < 3000ms, "shutdown took " << took.count() << " ms");
  a.signal(SIGCONT);
}

BOOST_AUTO_TEST_SUITE_END()

// -- attacks against a real node ----------------------------------------------

BOOST_AUTO_TEST_SUITE(node_attack_suite)

BOOST_AUTO_TEST_CASE(a_raw_client_learns_nothing_and_reaches_nothing) {
  // CAF's BASP server sends its handshake (node id, published actor id) to
  // any client unasked; a rotina node sends nothing before a valid hello.
  node_process a{args("a")};
  int fd = raw_connect(a.port);
  std::string got;
  BOOST_TEST(!closed_by_peer(fd, 300ms, &got));
  BOOST_TEST(got.empty(), got.size() << " bytes arrived unasked");
  // A client_handshake with a forged node id, then messages to guessed actor
  // ids (the published agent is among 1..64) and an exit(kill)-sized
  // direct_message before any handshake.
  std::vector<uint8_t> forged = basp_header(0x01, 28, 0, 0, 0);
  for (int i = 0; i < 28; ++i)
    forged.push_back(static_cast<uint8_t>(0xA0 + i));
  send_bytes(fd, forged);
  BOOST_TEST(closed_by_peer(fd, 2s, &got));
  ::close(fd);
  for (uint64_t id = 1; id <= 64; ++id) {
    int g = raw_connect(a.port);
    auto frame = basp_header(0x02, 44, 0, 0, id);
    frame.resize(76, 0);
    send_bytes(g, frame);
    BOOST_TEST(closed_by_peer(g, 2s, &got));
    ::close(g);
  }
  // Only refusals came back (no node id, no actor id).
  BOOST_TEST(only_refusals(got), got);
  BOOST_TEST(contains(got, "not a rotina node (bad magic bytes)"));
  BOOST_TEST(a.alive());
  check_serving(a);
}

BOOST_AUTO_TEST_CASE(a_caf_client_cannot_connect_or_kill_the_agent) {
  // A plain CAF program: BASP's own handshake, then exit(kill) to the
  // published actor and to SpawnServ / ConfigServ (what CAF-NOTES measured
  // against a CAF doorman). The gate never answers BASP's handshake and
  // closes the connection at the handshake timeout.
  node_process a{args("a", {"--handshake-timeout=1s"})};
  auto cmd = std::string{ROTINA_CAF_ATTACKER} + " 127.0.0.1 "
             + std::to_string(a.port) + " 2>/dev/null";
  std::string out;
  if (auto p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (::fgets(buf, sizeof(buf), p) != nullptr)
      out += buf;
    ::pclose(p);
  }
  BOOST_TEST(contains(out, "attack refused"), out);
  BOOST_TEST(eventually([&] {
    return contains(a.stderr_text(), "no complete handshake within 1000 ms")
           || contains(a.stderr_text(), "not a rotina node");
  }));
  BOOST_TEST(a.alive());
  check_serving(a);
}

BOOST_AUTO_TEST_CASE(a_four_gib_header_does_not_grow_the_node) {
  node_process a{args("a")};
  check_serving(a, "warm"); // threads and caches of a connection counted
  std::this_thread::sleep_for(300ms);
  auto before = rss_kib(a.pid());
  // CAF-NOTES: one 32-byte BASP header announcing 4 GiB made CAF allocate
  // it (RSS +2.5 GiB). Also rotina's own frame header announcing 4 GiB.
  int fd = raw_connect(a.port);
  send_bytes(fd, basp_header(0x01, 0xffffffffu, 0, 0, 0));
  BOOST_TEST(closed_by_peer(fd, 2s));
  ::close(fd);
  fd = raw_connect(a.port);
  send_bytes(fd, {'R', 'T', 'N', 'A', 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff});
  BOOST_TEST(closed_by_peer(fd, 2s));
  ::close(fd);
  std::this_thread::sleep_for(500ms);
  auto after = rss_kib(a.pid());
  BOOST_TEST_MESSAGE("RSS before " << before << " KiB, after " << after
                                   << " KiB");
  std::cout << "4 GiB headers: node RSS " << before << " KiB before, " << after
            << " KiB after" << std::endl;
  BOOST_TEST(after - before < 4 * 1024);
  BOOST_TEST(contains(a.stderr_text(), "frame announces 4294967295 bytes"),
             a.stderr_text());
  BOOST_TEST(a.alive());
  check_serving(a);
}

BOOST_AUTO_TEST_CASE(a_peer_of_another_protocol_version_is_told_both) {
  // A hello of protocol version 2 (whose layout after the name may differ):
  // refused with both versions, logged once with the address.
  node_process a{args("a")};
  int fd = raw_connect(a.port);
  auto who = local_address(fd);
  rotina::detail::net::hello old;
  old.version = rotina::detail::net::protocol_version + 1;
  old.name = "old";
  send_bytes(fd, rotina::detail::net::encode_hello(old));
  std::string got;
  BOOST_TEST(closed_by_peer(fd, 3s, &got));
  ::close(fd);
  BOOST_REQUIRE(only_refusals(got) && got.size() > 12);
  std::string reason;
  std::string error;
  BOOST_REQUIRE(rotina::detail::net::decode_refuse(
    reinterpret_cast<const uint8_t*>(got.data()) + 12, got.size() - 12, reason,
    error));
  BOOST_TEST(contains(reason, "protocol version mismatch: rotina protocol "
                              "versions differ: 'a' (127.0.0.1:"
                                + std::to_string(a.port) + ") speaks 1"),
             reason);
  BOOST_TEST(contains(reason, "the peer 'old' speaks 2"), reason);
  BOOST_TEST(eventually([&] { return contains(a.stderr_text(), who); }));
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(count(a.stderr_text(), who) == 1u, a.stderr_text());
  BOOST_TEST(contains(a.stderr_text(), "protocol version mismatch"));
  check_serving(a);
}

BOOST_AUTO_TEST_CASE(a_message_above_max_message_size_closes_the_link) {
  // rotina.max-message-size reaches the gate: a peer that passed the
  // handshake and sends a 100,000-byte message to a node that accepts at
  // most 4096 bytes loses the connection (the node logs why and allocates
  // nothing); both see each other down, and the node keeps serving.
  node_process a{args("a", {"--max-message-size=4096"})};
  node_process b{args("b")};
  BOOST_REQUIRE(contains(b.ask(a.connect_cmd(), "connect"), "connect ok"));
  BOOST_TEST(b.ask("big a 100", "big") == "big answered");
  BOOST_TEST(b.ask("watch a", "watch") == "watch ok");
  b.send("big a 100000");
  auto down = b.expect("down a", 10s);
  BOOST_TEST(contains(down, "is down"), down);
  BOOST_TEST(eventually([&] {
    return contains(a.stderr_text(), "-byte message (at most 4096, "
                                     "rotina.max-message-size)");
  }));
  BOOST_TEST(eventually([&] { return a.ask("nodes", "nodes") == "nodes "; }));
  check_serving(a, "c");
}

BOOST_AUTO_TEST_CASE(garbage_is_logged_once_with_the_address) {
  node_process a{args("a")};
  int fd = raw_connect(a.port);
  auto who = local_address(fd);
  std::string junk = "GET / HTTP/1.0\r\n\r\n";
  ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
  BOOST_TEST(closed_by_peer(fd, 2s));
  ::close(fd);
  BOOST_TEST(eventually([&] { return contains(a.stderr_text(), who); }));
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(count(a.stderr_text(), who) == 1u, a.stderr_text());
  BOOST_TEST(
    contains(a.stderr_text(), "refused peer " + who + ": not a rotina node"),
    a.stderr_text());
  check_serving(a);
}

BOOST_AUTO_TEST_CASE(a_half_open_connection_is_logged_once_and_closed) {
  node_process a{args("a", {"--handshake-timeout=1s"})};
  int fd = raw_connect(a.port);
  auto who = local_address(fd);
  ::shutdown(fd, SHUT_WR); // we never send anything
  BOOST_TEST(closed_by_peer(fd, 3s));
  ::close(fd);
  BOOST_TEST(eventually([&] { return contains(a.stderr_text(), who); }));
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(count(a.stderr_text(), who) == 1u, a.stderr_text());
  check_serving(a);
}

BOOST_AUTO_TEST_CASE(a_slowloris_client_is_cut_and_logged_once) {
  node_process a{args("a", {"--handshake-timeout=1s"})};
  int fd = raw_connect(a.port);
  auto who = local_address(fd);
  auto start = std::chrono::steady_clock::now();
  // A valid frame header, one byte every 250 ms: never done in time.
  const uint8_t hdr[] = {'R', 'T', 'N', 'A', 1, 0, 0, 0, 0, 0, 0, 64};
  bool closed = false;
  for (size_t i = 0; i < sizeof(hdr) && !closed; ++i) {
    if (::send(fd, &hdr[i], 1, MSG_NOSIGNAL) < 0)
      break;
    closed = closed_by_peer(fd, 250ms);
  }
  if (!closed)
    closed = closed_by_peer(fd, 2s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - start);
  ::close(fd);
  BOOST_TEST(closed);
  BOOST_TEST(took < 2500ms, "cut after " << took.count() << " ms");
  BOOST_TEST(eventually([&] { return contains(a.stderr_text(), who); }));
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(count(a.stderr_text(), who) == 1u, a.stderr_text());
  BOOST_TEST(contains(a.stderr_text(), "refused peer " + who
                                         + ": no complete handshake within "
                                           "1000 ms"),
             a.stderr_text());
  check_serving(a);
}

BOOST_AUTO_TEST_CASE(a_connect_flood_is_bounded_logged_and_then_served) {
  node_process a{
    args("a", {"--handshake-timeout=1s", "--max-pending-handshakes=8"})};
  std::vector<int> fds;
  for (int i = 0; i < 100; ++i)
    fds.push_back(raw_connect(a.port));
  BOOST_TEST(eventually([&] {
    return contains(a.stderr_text(), "8 handshakes already in progress");
  }));
  for (auto fd : fds)
    ::close(fd);
  std::this_thread::sleep_for(1500ms); // the silent ones time out
  // At most one flood line per second (with a count), not one per connect.
  BOOST_TEST(count(a.stderr_text(), "handshakes already in progress") <= 3u,
             a.stderr_text());
  check_serving(a);
}

BOOST_AUTO_TEST_SUITE_END()
