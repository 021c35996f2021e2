// The transport gate: the handshake frames, and the attacks of
// ../shared/CAF-NOTES.md ("Failure behaviour across nodes") against a gate in
// another process. Every child is killed and reaped by its owner's destructor.
#include <boost/test/unit_test.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rotina/detail/net_frame.hpp"

using namespace rotina::detail::net;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// -- a child process, always reaped
// ---------------------------------------------

class child {
public:
  explicit child(std::vector<std::string> args) {
    int in[2], out[2], err[2];
    BOOST_REQUIRE(pipe(in) == 0 && pipe(out) == 0 && pipe(err) == 0);
    pid_ = fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]})
        close(fd);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    stderr_ = err[0];
    fcntl(stdout_, F_SETFL, O_NONBLOCK);
    fcntl(stderr_, F_SETFL, O_NONBLOCK);
  }

  ~child() {
    if (stdin_ >= 0)
      close(stdin_);
    // Give it a moment to exit by itself (stdin closed), then kill.
    auto deadline = clock_type::now() + 2s;
    while (!reaped_ && clock_type::now() < deadline) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_)
        reaped_ = true;
      else
        std::this_thread::sleep_for(10ms);
    }
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(stdout_);
    close(stderr_);
  }

  /// Reads stdout until a line starting with `prefix` arrives (or timeout).
  std::string line_starting(const std::string& prefix,
                            std::chrono::milliseconds timeout = 10s) {
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      auto pos = out_.find('\n');
      while (pos != std::string::npos) {
        auto line = out_.substr(0, pos);
        out_.erase(0, pos + 1);
        if (line.rfind(prefix, 0) == 0)
          return line;
        pos = out_.find('\n');
      }
      if (clock_type::now() >= deadline)
        return {};
      pump(stdout_, out_, 50);
    }
  }

  /// Everything on stderr so far (waits `settle` for more).
  const std::string& err(std::chrono::milliseconds settle = 100ms) {
    auto deadline = clock_type::now() + settle;
    while (clock_type::now() < deadline)
      pump(stderr_, err_, 20);
    return err_;
  }

  void say(const std::string& line) {
    auto text = line + "\n";
    [[maybe_unused]] auto n = write(stdin_, text.data(), text.size());
  }

  /// Waits for the exit status (or -1 after the timeout).
  int wait(std::chrono::milliseconds timeout = 10s) {
    auto deadline = clock_type::now() + timeout;
    int status = 0;
    while (clock_type::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  pid_t pid() const noexcept {
    return pid_;
  }

  /// The child's resident set in KiB (from /proc).
  long rss_kib() const {
    std::ifstream in{"/proc/" + std::to_string(pid_) + "/status"};
    std::string key;
    while (in >> key) {
      if (key == "VmRSS:") {
        long kib = 0;
        in >> kib;
        return kib;
      }
    }
    return -1;
  }

private:
  static void pump(int fd, std::string& into, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, ms) > 0) {
      char buf[4096];
      auto n = read(fd, buf, sizeof(buf));
      if (n > 0)
        into.append(buf, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  bool reaped_ = false;
  std::string out_;
  std::string err_;
};

std::string probe() {
  return ROTINA_GATE_PROBE;
}

/// Starts a gate server; returns its port.
uint16_t port_of(child& server) {
  auto line = server.line_starting("port ");
  BOOST_REQUIRE_MESSAGE(!line.empty(), "the server printed no port");
  return static_cast<uint16_t>(std::stoi(line.substr(5)));
}

int raw_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  return fd;
}

/// Waits until the peer closes `fd` (true) or `timeout` passes (false).
bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  char buf[256];
  while (clock_type::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) > 0) {
      auto n = recv(fd, buf, sizeof(buf), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN))
        return true;
    }
  }
  return false;
}

std::string run_client(uint16_t port, int timeout_ms = 2000) {
  child c{
    {probe(), "client", std::to_string(port), std::to_string(timeout_ms)}};
  auto line = c.line_starting("", std::chrono::milliseconds{timeout_ms + 5000});
  c.wait();
  return line;
}

/// Runs `attack(fd)` on a fresh connection to `server` and checks that the
/// server closes it and that its RSS grows by less than 4 MiB. One real peer
/// connects first, so that threads and allocator caches that any connection
/// brings are in the "before" figure.
template <class Attack>
void check_closed_and_rss_flat(child& server, uint16_t port, Attack attack) {
  BOOST_REQUIRE_EQUAL(run_client(port), "echo: ping from server");
  std::this_thread::sleep_for(200ms);
  auto before = server.rss_kib();
  int fd = raw_connect(port);
  attack(fd);
  BOOST_CHECK(closed_by_peer(fd, 2s));
  close(fd);
  std::this_thread::sleep_for(200ms);
  auto after = server.rss_kib();
  BOOST_TEST_MESSAGE("RSS before " << before << " KiB, after " << after
                                   << " KiB");
  BOOST_CHECK_LT(after - before, 4 * 1024); // well under 4 MiB
}

} // namespace

// -- frames
// ---------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(net_frame_suite)

BOOST_AUTO_TEST_CASE(hello_round_trips_with_extreme_values) {
  hello x;
  x.name = std::string{"node\0a", 6};
  x.incarnation = UINT64_MAX;
  x.caf_node = "ABC#42";
  x.host = "::1";
  x.port = 65535;
  x.heartbeat_interval_ns = INT64_MIN;
  x.heartbeat_timeout_ns = INT64_MAX;
  x.fingerprint = std::string(64, 'f');
  auto bytes = encode_hello(x);
  frame_header hdr;
  std::string error;
  BOOST_REQUIRE(parse_header(bytes.data(), hdr, error));
  BOOST_CHECK(hdr.type == frame_type::hello);
  BOOST_REQUIRE_EQUAL(hdr.length, bytes.size() - header_size);
  hello y;
  BOOST_REQUIRE(decode_hello(bytes.data() + header_size, hdr.length, y, error));
  BOOST_CHECK(x == y);
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_hello_is_refused) {
  hello x;
  x.name = "n";
  x.fingerprint = "fp";
  auto bytes = encode_hello(x);
  auto payload = bytes.size() - header_size;
  for (size_t n = 0; n < payload; ++n) {
    hello y;
    std::string error;
    BOOST_CHECK(!decode_hello(bytes.data() + header_size, n, y, error));
    BOOST_CHECK(error.find("truncated") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(trailing_garbage_is_refused) {
  auto bytes = encode_hello(hello{});
  bytes.push_back(0);
  hello y;
  std::string error;
  BOOST_CHECK(!decode_hello(bytes.data() + header_size,
                            bytes.size() - header_size, y, error));
  BOOST_CHECK(error.find("trailing garbage") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_huge_length_is_refused_before_allocation) {
  // The 4 GiB announcement that makes CAF 0.17's BASP allocate it.
  std::array<uint8_t, header_size> raw{'R', 'T', 'N',  'A',  1,    0,
                                       0,   0,   0xff, 0xff, 0xff, 0xff};
  frame_header hdr;
  std::string error;
  BOOST_CHECK(!parse_header(raw.data(), hdr, error));
  BOOST_CHECK_MESSAGE(error.find("4294967295 bytes") != std::string::npos,
                      error);
}

BOOST_AUTO_TEST_CASE(bad_magic_type_and_reserved_bytes_are_refused) {
  std::string error;
  frame_header hdr;
  std::array<uint8_t, header_size> raw{'R', 'T', 'N', 'B', 1, 0,
                                       0,   0,   0,   0,   0, 0};
  BOOST_CHECK(!parse_header(raw.data(), hdr, error));
  BOOST_CHECK(error.find("magic") != std::string::npos);
  raw[3] = 'A';
  raw[4] = 9;
  BOOST_CHECK(!parse_header(raw.data(), hdr, error));
  BOOST_CHECK(error.find("frame type 9") != std::string::npos);
  raw[4] = 1;
  raw[6] = 1;
  BOOST_CHECK(!parse_header(raw.data(), hdr, error));
  BOOST_CHECK(error.find("reserved") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_oversized_string_is_refused) {
  // name announces max_string + 1 bytes.
  std::vector<uint8_t> payload{0, 0, 0, 1};
  auto n = static_cast<uint32_t>(max_string + 1);
  for (int shift = 24; shift >= 0; shift -= 8)
    payload.push_back(static_cast<uint8_t>(n >> shift));
  hello y;
  std::string error;
  BOOST_CHECK(!decode_hello(payload.data(), payload.size(), y, error));
  BOOST_CHECK_MESSAGE(
    error.find("name: string of 4097 bytes") != std::string::npos, error);
}

BOOST_AUTO_TEST_SUITE_END()

// -- the gate against real peers and attackers
// ------------------------------------

BOOST_AUTO_TEST_SUITE(net_gate_suite)

BOOST_AUTO_TEST_CASE(a_peer_connects_and_reaches_the_published_agent) {
  child server{{probe(), "server", "2000"}};
  auto port = port_of(server);
  BOOST_CHECK_EQUAL(run_client(port), "echo: ping from server");
}

BOOST_AUTO_TEST_CASE(connect_where_nothing_listens_is_refused_at_once) {
  // Bind a port and close it again: nothing listens there.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  auto start = clock_type::now();
  auto line = run_client(ntohs(a.sin_port));
  BOOST_CHECK_MESSAGE(line.rfind("error refused:", 0) == 0, line);
  BOOST_CHECK(clock_type::now() - start < 3s);
}

BOOST_AUTO_TEST_CASE(connect_to_a_frozen_node_times_out_within_its_bound) {
  child server{{probe(), "server", "2000"}};
  auto port = port_of(server);
  kill(server.pid(), SIGSTOP);
  auto start = clock_type::now();
  auto line = run_client(port, 500);
  auto took = clock_type::now() - start;
  kill(server.pid(), SIGCONT);
  BOOST_CHECK_MESSAGE(line.rfind("error timed out:", 0) == 0, line);
  // The client's own timeout is 500 ms; the rest is process start-up.
  BOOST_CHECK_MESSAGE(
    took < 4000ms,
    "took "
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms");
}

BOOST_AUTO_TEST_CASE(a_refusing_node_says_why_on_both_sides) {
  child server{{probe(), "server", "2000", "node name 'client' is taken"}};
  auto port = port_of(server);
  auto line = run_client(port);
  BOOST_CHECK_MESSAGE(line.find("rejected by the peer") != std::string::npos
                        && line.find("node name 'client' is taken")
                             != std::string::npos,
                      line);
  BOOST_CHECK_MESSAGE(server.err(300ms).find("refused peer 'client' (:0) "
                                             "from 127.0.0.1:")
                        != std::string::npos,
                      server.err());
}

BOOST_AUTO_TEST_CASE(garbage_closes_the_connection_and_the_node_survives) {
  child server{{probe(), "server", "2000"}};
  auto port = port_of(server);
  int fd = raw_connect(port);
  std::string junk = "GET / HTTP/1.0\r\n\r\n";
  send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
  BOOST_CHECK(closed_by_peer(fd, 2s));
  close(fd);
  BOOST_CHECK_MESSAGE(
    server.err().find("not a rotina node") != std::string::npos, server.err());
  BOOST_CHECK_EQUAL(run_client(port), "echo: ping from server");
}

BOOST_AUTO_TEST_CASE(a_basp_kill_frame_before_any_handshake_reaches_nothing) {
  // A BASP header (32 bytes: direct_message to actor 1) and garbage payload
  // bytes, as the CAF-NOTES attack sent them: the gate refuses the magic and
  // the published agent keeps answering.
  child server{{probe(), "server", "2000"}};
  auto port = port_of(server);
  int fd = raw_connect(port);
  std::vector<uint8_t> frame(76, 0);
  frame[0] = 0x01; // operation: direct_message
  frame[7] = 44;   // payload length
  frame[31] = 1;   // dest actor 1
  send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
  BOOST_CHECK(closed_by_peer(fd, 2s));
  close(fd);
  BOOST_CHECK_EQUAL(run_client(port), "echo: ping from server");
}

BOOST_AUTO_TEST_CASE(a_four_gib_announcement_does_not_grow_the_node) {
  child server{{probe(), "server", "2000"}};
  auto port = port_of(server);
  check_closed_and_rss_flat(server, port, [](int fd) {
    std::array<uint8_t, header_size> raw{'R', 'T', 'N',  'A',  1,    0,
                                         0,   0,   0xff, 0xff, 0xff, 0xff};
    send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  });
  BOOST_CHECK(server.err().find("4294967295 bytes") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(after_the_handshake_an_oversized_message_closes_the_link) {
  // A peer that passes rotina's handshake and then announces a 1 GiB BASP
  // message (a client_handshake header): the node closes the connection
  // instead of allocating (RSS stays flat) and logs why.
  child server{{probe(), "server", "2000"}};
  auto port = port_of(server);
  check_closed_and_rss_flat(server, port, [](int fd) {
    hello me;
    me.name = "raw-peer";
    auto frame = encode_hello(me);
    send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
    // The server's hello: header, then payload.
    std::vector<uint8_t> buf(header_size);
    BOOST_REQUIRE_EQUAL(recv(fd, buf.data(), header_size, MSG_WAITALL),
                        static_cast<ssize_t>(header_size));
    frame_header hdr;
    std::string error;
    BOOST_REQUIRE(parse_header(buf.data(), hdr, error));
    buf.resize(hdr.length);
    BOOST_REQUIRE_EQUAL(recv(fd, buf.data(), hdr.length, MSG_WAITALL),
                        static_cast<ssize_t>(hdr.length));
    auto ok = encode_ok();
    send(fd, ok.data(), ok.size(), MSG_NOSIGNAL);
    // BASP header: client_handshake (1), pads, flags, payload_len 1 GiB, ...
    std::array<uint8_t, 32> basp{};
    basp[0] = 0x01;
    basp[4] = 0x40;
    send(fd, basp.data(), basp.size(), MSG_NOSIGNAL);
  });
  BOOST_CHECK_MESSAGE(server.err().find("1073741824-byte message")
                        != std::string::npos,
                      server.err());
  BOOST_CHECK_EQUAL(run_client(port), "echo: ping from server");
}

BOOST_AUTO_TEST_CASE(a_slowloris_client_is_cut_at_the_handshake_timeout) {
  child server{{probe(), "server", "400"}};
  auto port = port_of(server);
  int fd = raw_connect(port);
  auto start = clock_type::now();
  // One byte every 100 ms of a valid header: never completes in time.
  auto frame = encode_hello(hello{});
  bool closed = false;
  for (size_t i = 0; i < frame.size() && !closed; ++i) {
    if (send(fd, &frame[i], 1, MSG_NOSIGNAL) < 0)
      break;
    closed = closed_by_peer(fd, 100ms);
  }
  auto took = clock_type::now() - start;
  close(fd);
  BOOST_CHECK(closed);
  BOOST_CHECK_MESSAGE(
    took < 2500ms,
    "cut after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms");
  BOOST_CHECK(server.err().find("no complete handshake within 400 ms")
              != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_flood_of_silent_connects_is_bounded_and_then_served) {
  child server{{probe(), "server", "300"}};
  auto port = port_of(server);
  std::vector<int> fds;
  for (int i = 0; i < 150; ++i)
    fds.push_back(raw_connect(port));
  std::this_thread::sleep_for(100ms);
  server.say("pending");
  auto line = server.line_starting("pending ");
  BOOST_REQUIRE(!line.empty());
  BOOST_CHECK_LE(std::stoi(line.substr(8)), 64);
  for (auto fd : fds)
    close(fd);
  std::this_thread::sleep_for(500ms); // the silent ones time out
  BOOST_CHECK_EQUAL(run_client(port), "echo: ping from server");
  BOOST_CHECK(server.err().find("handshakes already in progress")
              != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_half_open_connection_is_closed_and_nothing_leaks) {
  child server{{probe(), "server", "300"}};
  auto port = port_of(server);
  int fd = raw_connect(port);
  shutdown(fd, SHUT_WR); // half-open: we never send anything
  BOOST_CHECK(closed_by_peer(fd, 2s));
  close(fd);
  server.say("pending");
  BOOST_CHECK_EQUAL(server.line_starting("pending "), "pending 0");
}

BOOST_AUTO_TEST_SUITE_END()

// -- mutual TLS
// -----------------------------------------------------------------

namespace {

/// A throwaway CA and certificates (test/net/make_certs.sh), made once per
/// test run in a fresh temporary folder and removed afterwards.
struct certs {
  certs() {
    char tmpl[] = "/tmp/rotina-certs-XXXXXX";
    dir = mkdtemp(tmpl);
    auto cmd = "bash " + std::string{ROTINA_SOURCE_DIR}
               + "/test/net/make_certs.sh " + dir;
    BOOST_REQUIRE_EQUAL(std::system(cmd.c_str()), 0);
  }

  ~certs() {
    std::system(("rm -rf " + dir).c_str());
  }

  /// "CERT,KEY,CA" for ROTINA_PROBE_TLS.
  std::string spec(const std::string& name, const std::string& ca = "ca") {
    return dir + "/" + name + ".crt," + dir + "/" + name + ".key," + dir + "/"
           + ca + ".crt";
  }

  std::string dir;
};

/// Starts a child with ROTINA_PROBE_TLS set to `tls` (empty: plain).
std::unique_ptr<child> start_with_tls(const std::string& tls,
                                      std::vector<std::string> args) {
  if (tls.empty())
    unsetenv("ROTINA_PROBE_TLS");
  else
    setenv("ROTINA_PROBE_TLS", tls.c_str(), 1);
  auto result = std::make_unique<child>(std::move(args));
  unsetenv("ROTINA_PROBE_TLS");
  return result;
}

std::string tls_client(const std::string& tls, uint16_t port,
                       const std::string& name = "client") {
  auto c = start_with_tls(
    tls, {probe(), "client", std::to_string(port), "3000", name});
  auto line = c->line_starting("", 8s);
  c->wait();
  return line;
}

} // namespace

BOOST_AUTO_TEST_SUITE(net_tls_suite)

BOOST_AUTO_TEST_CASE(tls_peers_connect_and_reach_the_agent) {
  certs ca;
  auto server = start_with_tls(ca.spec("server"), {probe(), "server", "3000"});
  auto port = port_of(*server);
  BOOST_CHECK_EQUAL(tls_client(ca.spec("client"), port),
                    "echo: ping from server");
}

BOOST_AUTO_TEST_CASE(a_plain_peer_cannot_reach_a_tls_node) {
  certs ca;
  auto server = start_with_tls(ca.spec("server"), {probe(), "server", "3000"});
  auto port = port_of(*server);
  auto line = tls_client("", port);
  BOOST_CHECK_MESSAGE(line.rfind("error ", 0) == 0, line);
  BOOST_CHECK_MESSAGE(server->err(300ms).find("TLS handshake failed")
                        != std::string::npos,
                      server->err());
}

BOOST_AUTO_TEST_CASE(a_tls_client_without_a_certificate_is_refused) {
  certs ca;
  auto server = start_with_tls(ca.spec("server"), {probe(), "server", "3000"});
  auto port = port_of(*server);
  auto cmd
    = "timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port)
      + " -CAfile " + ca.dir + "/ca.crt </dev/null >/dev/null 2>&1";
  [[maybe_unused]] auto rc = std::system(cmd.c_str());
  auto& err = server->err(300ms);
  BOOST_CHECK_MESSAGE(err.find("TLS handshake failed") != std::string::npos
                        && err.find("certificate") != std::string::npos,
                      err);
  BOOST_CHECK_EQUAL(tls_client(ca.spec("client"), port),
                    "echo: ping from server");
}

BOOST_AUTO_TEST_CASE(a_certificate_from_another_ca_is_refused) {
  certs ca;
  auto server = start_with_tls(ca.spec("server"), {probe(), "server", "3000"});
  auto port = port_of(*server);
  auto line = tls_client(ca.spec("client-other", "ca"), port);
  BOOST_CHECK_MESSAGE(line.rfind("error handshake failed:", 0) == 0, line);
  BOOST_CHECK_MESSAGE(server->err(300ms).find("certificate verification "
                                              "failed")
                        != std::string::npos,
                      server->err());
}

BOOST_AUTO_TEST_CASE(an_expired_certificate_is_refused) {
  certs ca;
  std::this_thread::sleep_for(1100ms); // client-expired's notAfter is now
  auto server = start_with_tls(ca.spec("server"), {probe(), "server", "3000"});
  auto port = port_of(*server);
  auto line = tls_client(ca.spec("client-expired"), port);
  BOOST_CHECK_MESSAGE(line.rfind("error handshake failed:", 0) == 0, line);
  BOOST_CHECK_MESSAGE(server->err(300ms).find("certificate has expired")
                        != std::string::npos,
                      server->err());
}

BOOST_AUTO_TEST_CASE(a_name_that_does_not_match_the_certificate_is_refused) {
  // mallory holds a valid certificate of the CA, for the name "mallory", and
  // claims to be node "client".
  certs ca;
  auto server = start_with_tls(ca.spec("server"), {probe(), "server", "3000"});
  auto port = port_of(*server);
  auto line = tls_client(ca.spec("mallory"), port, "client");
  BOOST_CHECK_MESSAGE(line.find("rejected by the peer") != std::string::npos
                        && line.find("node name 'client' does not match its "
                                     "certificate (names: 'mallory')")
                             != std::string::npos,
                      line);
  BOOST_CHECK(server->err(300ms).find("does not match its certificate")
              != std::string::npos);
  // The same certificate with its own name is fine.
  BOOST_CHECK_EQUAL(tls_client(ca.spec("mallory"), port, "mallory"),
                    "echo: ping from server");
}

BOOST_AUTO_TEST_CASE(
  a_server_whose_name_does_not_match_is_refused_by_the_client) {
  certs ca;
  // The server presents mallory's certificate but says it is "server".
  auto server = start_with_tls(ca.spec("mallory"), {probe(), "server", "3000"});
  auto port = port_of(*server);
  auto line = tls_client(ca.spec("client"), port);
  BOOST_CHECK_MESSAGE(
    line.find("peer refused by this node") != std::string::npos
      && line.find("node name 'server' does not match") != std::string::npos,
    line);
}

BOOST_AUTO_TEST_SUITE_END()
