// The transport gate (see rotina/detail/net_gate.hpp for its invariants).

#include "rotina/detail/net_gate.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <future>
#include <list>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/scribe_impl.hpp>
#include <caf/io/network/stream_impl.hpp>
#include <caf/io/receive_policy.hpp>
#include <caf/policy/tcp.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "rotina/detail/net_tls.hpp"
#include <caf/send.hpp>

namespace rotina::detail::net {

namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// -- sockets ------------------------------------------------------------------

void set_nonblocking(int fd, bool on) {
  auto flags = fcntl(fd, F_GETFL, 0);
  if (flags >= 0)
    fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string address_of(const sockaddr_storage& sa) {
  char host[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (sa.ss_family == AF_INET) {
    auto in = reinterpret_cast<const sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    return std::string{host} + ":" + std::to_string(port);
  }
  if (sa.ss_family == AF_INET6) {
    auto in = reinterpret_cast<const sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof(host));
    port = ntohs(in->sin6_port);
    return "[" + std::string{host} + "]:" + std::to_string(port);
  }
  return "unknown address";
}

/// Resolves host:port to socket addresses (numeric or by name).
bool resolve(const std::string& host, uint16_t port, bool passive,
             std::vector<sockaddr_storage>& out, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive)
    hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  auto rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(),
                        &hints, &res);
  if (rc != 0) {
    error = "cannot resolve '" + host + "': " + gai_strerror(rc);
    return false;
  }
  for (auto i = res; i != nullptr; i = i->ai_next) {
    sockaddr_storage sa{};
    std::memcpy(&sa, i->ai_addr, i->ai_addrlen);
    out.push_back(sa);
  }
  freeaddrinfo(res);
  if (out.empty()) {
    error = "cannot resolve '" + host + "': no address";
    return false;
  }
  return true;
}

socklen_t length_of(const sockaddr_storage& sa) {
  return sa.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

// -- plain or TLS I/O on one connection
// ----------------------------------------

/// A connection's byte stream: the socket, or a TLS session on it.
struct link {
  int fd = -1;
  SSL* ssl = nullptr;
  /// What the last call that would block waits for (POLLIN or POLLOUT).
  short wants = POLLIN;
};

/// Outcome of one read or write attempt.
enum class io_result { progress, would_block, closed, failed };

/// Maps the result `n` of a socket call (`is_plain`) or of an OpenSSL call to
/// an io_result, counting `n` bytes into `done` on progress and remembering
/// what a blocked call waits for.
io_result outcome(link& l, ssize_t n, bool is_plain, bool zero_is_eof,
                  short plain_wants, size_t& done) {
  done = 0;
  if (n > 0 || (is_plain && n == 0 && !zero_is_eof)) {
    done = static_cast<size_t>(n);
    return io_result::progress;
  }
  if (is_plain) {
    if (n == 0)
      return io_result::closed;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      l.wants = plain_wants;
      return io_result::would_block;
    }
    return io_result::failed;
  }
  switch (SSL_get_error(l.ssl, static_cast<int>(n))) {
  case SSL_ERROR_WANT_READ:
    l.wants = POLLIN;
    return io_result::would_block;
  case SSL_ERROR_WANT_WRITE:
    l.wants = POLLOUT;
    return io_result::would_block;
  case SSL_ERROR_ZERO_RETURN:
    return io_result::closed;
  default:
    return io_result::failed;
  }
}

io_result link_read(link& l, uint8_t* buf, size_t size, size_t& got) {
  if (l.ssl == nullptr)
    return outcome(l, ::recv(l.fd, buf, size, 0), true, true, POLLIN, got);
  ERR_clear_error();
  return outcome(l, SSL_read(l.ssl, buf, static_cast<int>(size)), false, true,
                 POLLIN, got);
}

io_result link_write(link& l, const uint8_t* buf, size_t size, size_t& put) {
  if (l.ssl == nullptr)
    return outcome(l, ::send(l.fd, buf, size, MSG_NOSIGNAL), true, false,
                   POLLOUT, put);
  ERR_clear_error();
  return outcome(l, SSL_write(l.ssl, buf, static_cast<int>(size)), false, false,
                 POLLOUT, put);
}

/// One step of the TLS handshake: progress when done.
io_result link_tls_step(link& l) {
  ERR_clear_error();
  auto n = SSL_do_handshake(l.ssl);
  if (n == 1)
    return io_result::progress;
  size_t ignored = 0;
  return outcome(l, n, false, true, POLLIN, ignored);
}

/// Waits until `fd` is ready for `events` or `deadline` passed.
bool wait_for(int fd, short events, clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, events, 0};
    auto rc
      = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (rc > 0)
      return true;
    if (rc < 0 && errno != EINTR)
      return false;
  }
}

/// Blocking outcomes of the connecting side (reads and writes).
enum class read_result { ok, timed_out, closed, malformed };

/// Moves `size` bytes with `step(offset, count, moved)` (a link_read or
/// link_write) before `deadline`, waiting whenever the link would block.
template <class Step>
read_result transfer_all(link& l, size_t size, clock::time_point deadline,
                         Step step) {
  size_t done = 0;
  while (done < size) {
    size_t moved = 0;
    switch (step(done, size - done, moved)) {
    case io_result::progress:
      done += moved;
      break;
    case io_result::would_block:
      if (!wait_for(l.fd, l.wants, deadline))
        return read_result::timed_out;
      break;
    default:
      return read_result::closed;
    }
  }
  return read_result::ok;
}

/// Writes all of `bytes` before `deadline`.
read_result write_all(link& l, const std::vector<uint8_t>& bytes,
                      clock::time_point deadline) {
  return transfer_all(l, bytes.size(), deadline,
                      [&](size_t at, size_t n, size_t& put) {
                        return link_write(l, bytes.data() + at, n, put);
                      });
}

/// Reads exactly `size` bytes before `deadline`.
read_result read_exactly(link& l, uint8_t* buf, size_t size,
                         clock::time_point deadline) {
  return transfer_all(l, size, deadline, [&](size_t at, size_t n, size_t& got) {
    return link_read(l, buf + at, n, got);
  });
}

/// Reads one frame before `deadline`.
read_result read_frame(link& l, clock::time_point deadline, frame_header& hdr,
                       std::vector<uint8_t>& payload, std::string& error) {
  uint8_t raw[header_size];
  if (auto res = read_exactly(l, raw, header_size, deadline);
      res != read_result::ok)
    return res;
  if (!parse_header(raw, hdr, error))
    return read_result::malformed;
  payload.resize(hdr.length);
  if (hdr.length > 0)
    return read_exactly(l, payload.data(), hdr.length, deadline);
  return read_result::ok;
}

// -- hand-off to BASP
// ----------------------------------------------------------

caf::actor basp_of(caf::actor_system& sys) {
  return sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
}

/// The stream policy of a TLS link (CAF's stream_impl calls it).
class tls_policy {
public:
  explicit tls_policy(SSL* ssl) noexcept : ssl_(ssl) {
    // nop
  }

  tls_policy(tls_policy&& other) noexcept : ssl_(other.ssl_) {
    other.ssl_ = nullptr;
  }

  tls_policy& operator=(tls_policy&&) = delete;

  ~tls_policy() {
    free_session(ssl_);
  }

  caf::io::network::rw_state read_some(size_t& result, int, void* buf,
                                       size_t len) {
    return convert(SSL_read(ssl_, buf, static_cast<int>(len)), result);
  }

  caf::io::network::rw_state write_some(size_t& result, int, const void* buf,
                                        size_t len) {
    return convert(SSL_write(ssl_, buf, static_cast<int>(len)), result);
  }

  bool must_read_more(int, size_t) {
    return SSL_pending(ssl_) > 0;
  }

private:
  caf::io::network::rw_state convert(int n, size_t& result) {
    using caf::io::network::rw_state;
    result = 0;
    if (n > 0) {
      result = static_cast<size_t>(n);
      return rw_state::success;
    }
    auto err = SSL_get_error(ssl_, n);
    ERR_clear_error();
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
      return rw_state::success;
    return rw_state::failure;
  }

  SSL* ssl_;
};

/// The scribe BASP gets from the gate: CAF's stream over the socket (plain,
/// or TLS with the session of the handshake), except that a read larger than
/// the limit is never configured. CAF 0.17's BASP sizes its read buffer from
/// the length a header announces (up to 4 GiB); here such a header closes the
/// connection instead (the broker then sees an ordinary connection loss, so
/// the peer counts as down) and is logged once.
template <class Policy>
class gate_scribe final : public caf::io::scribe {
public:
  template <class... Ts>
  gate_scribe(caf::io::network::default_multiplexer& mpx, int fd, size_t limit,
              std::string peer, log_fn log, Ts&&... xs)
    : scribe(caf::io::network::conn_hdl_from_socket(fd)),
      stream_(mpx, fd, std::forward<Ts>(xs)...), limit_(limit),
      peer_(std::move(peer)), log_(std::move(log)) {
    // nop
  }

  void configure_read(caf::io::receive_policy::config config) override {
    if (config.second > limit_ && !refused_) {
      refused_ = true;
      if (log_)
        log_("rotina: closed the connection to " + peer_ + ": it announced a "
             + std::to_string(config.second) + "-byte message (at most "
             + std::to_string(limit_) + ", rotina.max-message-size)");
      // EOF on our side: the multiplexer reports the connection as closed to
      // the broker, which cleans up as for any lost peer.
      ::shutdown(stream_.fd(), SHUT_RDWR);
      config = caf::io::receive_policy::at_most(1);
    }
    stream_.configure_read(config);
    if (!launched_) {
      launched_ = true;
      stream_.start(this);
    }
  }

  void ack_writes(bool enable) override {
    stream_.ack_writes(enable);
  }

  std::vector<char>& wr_buf() override {
    return stream_.wr_buf();
  }

  std::vector<char>& rd_buf() override {
    return stream_.rd_buf();
  }

  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }

  void flush() override {
    stream_.flush(this);
  }

  std::string addr() const override {
    auto x = caf::io::network::remote_addr_of_fd(stream_.fd());
    return x ? *x : std::string{};
  }

  uint16_t port() const override {
    auto x = caf::io::network::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }

  void add_to_loop() override {
    stream_.activate(this);
  }

  void remove_from_loop() override {
    stream_.passivate();
  }

private:
  caf::io::network::stream_impl<Policy> stream_;
  size_t limit_;
  std::string peer_;
  log_fn log_;
  bool launched_ = false;
  bool refused_ = false;
};

/// Wraps the handshaken link `l` as BASP's scribe (taking its TLS session).
caf::io::scribe_ptr make_scribe(caf::actor_system& sys, link& l, size_t limit,
                                std::string peer, log_fn log) {
  set_nonblocking(l.fd, true);
  caf::io::network::keepalive(l.fd, true);
  auto& mpx = static_cast<caf::io::network::default_multiplexer&>(
    sys.middleman().backend());
  auto fd = l.fd;
  auto ssl = l.ssl;
  l.fd = -1;
  l.ssl = nullptr;
  if (ssl == nullptr)
    return caf::make_counted<gate_scribe<caf::policy::tcp>>(
      mpx, fd, limit, std::move(peer), std::move(log));
  return caf::make_counted<gate_scribe<tls_policy>>(
    mpx, fd, limit, std::move(peer), std::move(log), tls_policy{ssl});
}

} // namespace

const char* to_string(connect_failure x) noexcept {
  switch (x) {
  case connect_failure::bad_address:
    return "bad address";
  case connect_failure::refused:
    return "refused";
  case connect_failure::timed_out:
    return "timed out";
  case connect_failure::handshake_failed:
    return "handshake failed";
  case connect_failure::rejected:
    return "rejected by the peer";
  case connect_failure::mismatch:
    return "peer refused by this node";
  }
  return "unknown";
}

// -- the gate thread
// ------------------------------------------------------------

struct gate::impl {
  /// One incoming connection during its handshake.
  struct pending_conn {
    enum stage_t {
      /// TLS handshake (only with TLS).
      tls_handshake,
      /// Waiting for the peer's hello.
      read_hello,
      /// Writing our hello or a refusal.
      write_reply,
      /// Waiting for the peer's ok (or refusal).
      read_answer,
    } stage
      = read_hello;
    link io;
    std::string address;
    clock::time_point deadline;
    /// The current frame: header, then payload (never more than one frame).
    std::vector<uint8_t> in;
    /// Bytes of `in` read so far.
    size_t filled = 0;
    bool have_header = false;
    frame_header hdr;
    /// Output still to write.
    std::vector<uint8_t> out;
    size_t out_done = 0;
    /// Close after writing `out` (a refusal) instead of waiting for ok.
    bool close_after_write = false;
    /// The names of the peer's certificate (with TLS).
    std::vector<std::string> cert_names;
    hello peer;
  };

  impl(caf::actor_system& sys, settings cfg) : sys(sys), cfg(std::move(cfg)) {
    // nop
  }

  caf::actor_system& sys;
  settings cfg;
  listener how;
  int listen_fd = -1;
  uint16_t port = 0;
  int wake[2] = {-1, -1};
  std::thread thread;
  std::atomic<bool> running{false};
  std::atomic<size_t> npending{0};
  std::list<pending_conn> conns;
  clock::time_point last_flood_log;
  size_t flood_refused = 0;
  /// Sockets of connect() calls in progress; stop() shuts them down so that
  /// no connect outlives the gate's owner by more than a moment.
  std::mutex connecting_mtx;
  std::set<int> connecting;
  bool closing = false;

  /// Enters `fd` into `connecting`; false if the gate stopped.
  bool enter_connecting(int fd) {
    std::lock_guard<std::mutex> guard{connecting_mtx};
    if (closing)
      return false;
    connecting.insert(fd);
    return true;
  }

  void leave_connecting(int fd) {
    std::lock_guard<std::mutex> guard{connecting_mtx};
    connecting.erase(fd);
  }

  bool is_closing() {
    std::lock_guard<std::mutex> guard{connecting_mtx};
    return closing;
  }

  void log(const std::string& line) {
    if (how.log)
      how.log(line);
  }

  static void close_link(link& l) {
    free_session(l.ssl);
    l.ssl = nullptr;
    if (l.fd >= 0)
      ::close(l.fd);
    l.fd = -1;
  }

  void accept_all() {
    for (;;) {
      sockaddr_storage sa{};
      socklen_t len = sizeof(sa);
      int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return; // EAGAIN or a transient error: the next poll retries
      if (conns.size() >= cfg.max_pending) {
        ::close(fd);
        ++flood_refused;
        auto now = clock::now();
        if (now - last_flood_log >= 1s) {
          log("rotina: refused " + std::to_string(flood_refused)
              + " connection(s) from " + address_of(sa)
              + " and others: " + std::to_string(cfg.max_pending)
              + " handshakes already in progress");
          flood_refused = 0;
          last_flood_log = now;
        }
        continue;
      }
      set_nodelay(fd);
      pending_conn c;
      c.io.fd = fd;
      c.address = address_of(sa);
      c.deadline = clock::now() + cfg.handshake_timeout;
      c.in.resize(header_size);
      if (cfg.tls) {
        c.io.ssl = cfg.tls->new_session(fd, true);
        c.stage = pending_conn::tls_handshake;
      }
      conns.push_back(std::move(c));
      npending = conns.size();
    }
  }

  /// Queues `bytes` for writing on `c`.
  void reply(pending_conn& c, std::vector<uint8_t> bytes, bool then_close) {
    c.out = std::move(bytes);
    c.out_done = 0;
    c.close_after_write = then_close;
    c.stage = pending_conn::write_reply;
    c.io.wants = POLLOUT;
  }

  /// Refuses `c`: logs once, sends the reason, closes after writing.
  void refuse(pending_conn& c, const std::string& reason) {
    if (c.peer.name.empty())
      log("rotina: refused peer " + c.address + ": " + reason);
    else // the hello was readable: name the peer as it calls itself
      log("rotina: refused peer '" + c.peer.name + "' (" + c.peer.host + ":"
          + std::to_string(c.peer.port) + ") from " + c.address + ": "
          + reason);
    reply(c, encode_refuse(reason), true);
  }

  /// Handles a complete frame on `c`. Returns false to close `c` now.
  bool on_frame(pending_conn& c) {
    auto payload = c.in.data() + header_size;
    std::string error;
    if (c.stage == pending_conn::read_hello) {
      if (c.hdr.type != frame_type::hello) {
        refuse(c, "expected a hello frame first");
        return true;
      }
      if (!decode_hello(payload, c.hdr.length, c.peer, error)) {
        refuse(c, error);
        return true;
      }
      if (cfg.tls) {
        if (auto reason = match_name(c.peer.name, c.cert_names);
            !reason.empty()) {
          refuse(c, reason);
          return true;
        }
      }
      auto reason = how.check ? how.check(c.peer, c.address) : std::string{};
      if (!reason.empty()) {
        refuse(c, reason);
        return true;
      }
      reply(c, encode_hello(how.self), false);
      return true;
    }
    // read_answer: the connecting node's verdict on our hello.
    if (c.hdr.type == frame_type::refuse) {
      std::string reason;
      if (!decode_refuse(payload, c.hdr.length, reason, error))
        reason = error;
      log("rotina: peer " + c.address + " (" + c.peer.name
          + ") refused this node: " + reason);
      return false;
    }
    if (c.hdr.type != frame_type::ok || c.hdr.length != 0) {
      log("rotina: refused peer " + c.address
          + ": expected ok or refuse after the hellos");
      return false;
    }
    hand_off(c);
    return false;
  }

  /// Gives the connection of `c` to BASP (the gate forgets it).
  void hand_off(pending_conn& c) {
    auto sp = make_scribe(sys, c.io, cfg.max_message_size,
                          c.address + " (" + c.peer.name + ")", how.log);
    caf::anon_send(basp_of(sys), caf::publish_atom::value, std::move(sp), port,
                   how.agent, std::set<std::string>{});
    if (how.joined)
      how.joined(c.peer, c.address);
  }

  /// Advances the TLS handshake of `c`. Returns false to close `c`.
  bool on_tls(pending_conn& c) {
    switch (link_tls_step(c.io)) {
    case io_result::progress:
      c.cert_names = peer_names(c.io.ssl, cfg.tls->check());
      c.stage = pending_conn::read_hello;
      c.io.wants = POLLIN;
      return true;
    case io_result::would_block:
      return true;
    default:
      log("rotina: refused peer " + c.address
          + ": TLS handshake failed: " + tls_error(c.io.ssl));
      return false;
    }
  }

  /// Reads what is available on `c` (never past the current frame). Returns
  /// false to close `c`.
  bool on_readable(pending_conn& c) {
    for (;;) {
      size_t got = 0;
      switch (
        link_read(c.io, c.in.data() + c.filled, c.in.size() - c.filled, got)) {
      case io_result::progress:
        break;
      case io_result::would_block:
        return true;
      case io_result::closed:
        log("rotina: peer " + c.address
            + " closed the connection during the handshake");
        return false;
      case io_result::failed:
        log("rotina: refused peer " + c.address + ": read failed"
            + (c.io.ssl != nullptr ? ": " + tls_error(c.io.ssl)
                                   : ": " + errno_text(errno)));
        return false;
      }
      c.filled += got;
      if (c.filled < c.in.size())
        continue;
      if (!c.have_header) {
        std::string error;
        if (!parse_header(c.in.data(), c.hdr, error)) {
          refuse(c, error);
          return true;
        }
        c.have_header = true;
        c.in.resize(header_size + c.hdr.length);
        if (c.filled < c.in.size())
          continue;
      }
      // A complete frame.
      auto keep = on_frame(c);
      if (c.io.fd < 0)
        return false; // handed off
      c.have_header = false;
      c.in.assign(header_size, 0);
      c.filled = 0;
      return keep;
    }
  }

  /// Writes what it can of `c.out`. Returns false to close `c`.
  bool on_writable(pending_conn& c) {
    while (c.out_done < c.out.size()) {
      size_t put = 0;
      switch (link_write(c.io, c.out.data() + c.out_done,
                         c.out.size() - c.out_done, put)) {
      case io_result::progress:
        c.out_done += put;
        break;
      case io_result::would_block:
        return true;
      default:
        return false;
      }
    }
    if (c.close_after_write)
      return false;
    c.stage = pending_conn::read_answer;
    c.io.wants = POLLIN;
    return true;
  }

  /// Serves one poll event of `c`. Returns false to close `c`.
  bool serve(pending_conn& c, short revents) {
    if (revents & (POLLERR | POLLNVAL))
      return false;
    if (revents == 0)
      return true;
    switch (c.stage) {
    case pending_conn::tls_handshake:
      if (!on_tls(c))
        return false;
      if (c.stage == pending_conn::tls_handshake)
        return true; // still in progress
      // The peer's hello may already be buffered in the TLS session.
      return on_readable(c);
    case pending_conn::write_reply:
      return on_writable(c);
    default: {
      auto keep = on_readable(c);
      if (keep && c.io.fd >= 0 && c.stage == pending_conn::write_reply)
        keep = on_writable(c);
      return keep;
    }
    }
  }

  void run() {
    std::vector<pollfd> fds;
    while (running.load()) {
      fds.clear();
      fds.push_back({wake[0], POLLIN, 0});
      fds.push_back({listen_fd, POLLIN, 0});
      auto now = clock::now();
      auto next = now + 1s;
      for (auto& c : conns) {
        fds.push_back({c.io.fd, c.io.wants, 0});
        next = std::min(next, c.deadline);
      }
      auto ms
        = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
      auto rc = ::poll(fds.data(), fds.size(),
                       static_cast<int>(std::max<int64_t>(ms.count(), 0)));
      if (rc < 0 && errno != EINTR)
        break;
      if (fds[0].revents != 0) {
        char buf[64];
        while (::read(wake[0], buf, sizeof(buf)) > 0) {
          // drain
        }
      }
      if (!running.load())
        break;
      // Serve the pending connections polled this round (in order).
      auto i = conns.begin();
      for (size_t k = 2; k < fds.size() && i != conns.end(); ++k) {
        auto& c = *i;
        auto keep = serve(c, fds[k].revents);
        if (keep && c.io.fd >= 0 && clock::now() >= c.deadline) {
          log("rotina: refused peer " + c.address
              + ": no complete handshake within "
              + std::to_string(cfg.handshake_timeout.count()) + " ms");
          keep = false;
        }
        auto cur = i++;
        if (!keep || cur->io.fd < 0) {
          // Count it out before the peer can see the close.
          auto io = cur->io;
          conns.erase(cur);
          npending = conns.size();
          close_link(io);
        }
      }
      npending = conns.size();
      if (fds[1].revents & POLLIN)
        accept_all();
    }
    for (auto& c : conns)
      close_link(c.io);
    conns.clear();
    npending = 0;
  }
};

// -- constructors, destructors, and assignment operators
// ------------------------

gate::gate(caf::actor_system& sys, settings cfg)
  : impl_(std::make_unique<impl>(sys, std::move(cfg))) {
  // nop
}

gate::~gate() {
  stop();
}

// -- operations
// -------------------------------------------------------------------

std::variant<uint16_t, std::string> gate::listen(const std::string& host,
                                                 uint16_t port, listener how) {
  auto& d = *impl_;
  if (d.listen_fd >= 0)
    return std::string{"this node already listens on port "}
           + std::to_string(d.port);
  std::vector<sockaddr_storage> addrs;
  std::string error;
  if (!resolve(host, port, true, addrs, error))
    return error;
  auto where = host + ":" + std::to_string(port);
  int fd = -1;
  for (auto& sa : addrs) {
    fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
      continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), length_of(sa)) == 0
        && ::listen(fd, 128) == 0)
      break;
    error = "cannot listen on " + where + ": " + errno_text(errno);
    ::close(fd);
    fd = -1;
  }
  if (fd < 0)
    return error.empty() ? "cannot listen on " + where : error;
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  d.port = bound.ss_family == AF_INET6
             ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (::pipe2(d.wake, O_NONBLOCK | O_CLOEXEC) != 0) {
    ::close(fd);
    return "cannot create the gate's wake-up pipe: " + errno_text(errno);
  }
  d.listen_fd = fd;
  d.how = std::move(how);
  d.how.self.port = d.port;
  d.running = true;
  d.thread = std::thread{[&d] { d.run(); }};
  return d.port;
}

std::variant<connected, connect_error>
gate::connect(const std::string& host, uint16_t port, const hello& self,
              const check_fn& check, std::chrono::milliseconds timeout,
              log_fn log) {
  auto deadline = clock::now() + timeout;
  auto where = host + ":" + std::to_string(port);
  auto fail = [&](connect_failure kind, std::string what) {
    if (impl_->is_closing())
      return connect_error{connect_failure::handshake_failed,
                           "connect to " + where
                             + ": the gate stopped (its node shuts down)"};
    return connect_error{kind, "connect to " + where + ": " + what};
  };
  std::vector<sockaddr_storage> addrs;
  std::string error;
  if (!resolve(host, port, false, addrs, error))
    return fail(connect_failure::bad_address, error);
  // Connect to the first address that answers.
  link l;
  auto last = connect_failure::refused;
  std::string last_what = "connection refused";
  for (auto& sa : addrs) {
    l.fd
      = ::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l.fd < 0)
      continue;
    if (!impl_->enter_connecting(l.fd)) {
      impl::close_link(l);
      return fail(connect_failure::handshake_failed, "the gate stopped");
    }
    auto rc
      = ::connect(l.fd, reinterpret_cast<const sockaddr*>(&sa), length_of(sa));
    if (rc != 0 && errno == EINPROGRESS) {
      if (!wait_for(l.fd, POLLOUT, deadline)) {
        impl_->leave_connecting(l.fd);
        impl::close_link(l);
        last = connect_failure::timed_out;
        last_what = "no TCP connection within "
                    + std::to_string(timeout.count()) + " ms";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(l.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0)
      break;
    last = errno == ECONNREFUSED ? connect_failure::refused
                                 : connect_failure::handshake_failed;
    last_what = errno_text(errno);
    impl_->leave_connecting(l.fd);
    impl::close_link(l);
  }
  if (l.fd < 0)
    return fail(last, last_what);
  set_nodelay(l.fd);
  struct closer {
    impl& d;
    link& l;
    ~closer() {
      if (l.fd >= 0)
        d.leave_connecting(l.fd);
      impl::close_link(l);
    }
  } guard{*impl_, l};
  // TLS first, when configured.
  std::vector<std::string> cert_names;
  if (auto& tls = impl_->cfg.tls) {
    l.ssl = tls->new_session(l.fd, false);
    for (;;) {
      auto res = link_tls_step(l);
      if (res == io_result::progress)
        break;
      if (res != io_result::would_block)
        return fail(connect_failure::handshake_failed,
                    "TLS handshake failed: " + tls_error(l.ssl));
      if (!wait_for(l.fd, l.wants, deadline))
        return fail(connect_failure::timed_out,
                    "no TLS handshake within " + std::to_string(timeout.count())
                      + " ms");
    }
    cert_names = peer_names(l.ssl, tls->check());
  }
  // Hellos: ours first, then the peer's.
  auto closed_why = [&l] {
    // With TLS 1.3 the accepting side checks our certificate after our side
    // of the TLS handshake finished; its alert may be lost when it closes
    // while our hello is unread (a reset). Its log names the exact reason.
    return l.ssl != nullptr
             ? "the peer closed the connection during the handshake ("
                 + tls_error(l.ssl)
                 + "); with TLS this means that the peer refused this "
                   "node's certificate (not from its CA, expired, or none) "
                   "or does not speak TLS: its log names the reason"
             : std::string{"the peer closed the connection during the "
                           "handshake"};
  };
  switch (write_all(l, encode_hello(self), deadline)) {
  case read_result::ok:
    break;
  case read_result::timed_out:
    return fail(connect_failure::timed_out, "could not send the hello within "
                                              + std::to_string(timeout.count())
                                              + " ms");
  default:
    // With TLS 1.3 a peer that refuses our certificate does so after our
    // side of the TLS handshake finished: its alert arrives here.
    return fail(connect_failure::handshake_failed, closed_why());
  }
  frame_header hdr;
  std::vector<uint8_t> payload;
  switch (read_frame(l, deadline, hdr, payload, error)) {
  case read_result::ok:
    break;
  case read_result::timed_out:
    return fail(connect_failure::timed_out, "no handshake answer within "
                                              + std::to_string(timeout.count())
                                              + " ms");
  case read_result::closed:
    return fail(connect_failure::handshake_failed, closed_why());
  case read_result::malformed:
    return fail(connect_failure::handshake_failed,
                "not a rotina node: " + error);
  }
  if (hdr.type == frame_type::refuse) {
    std::string reason;
    if (!decode_refuse(payload.data(), payload.size(), reason, error))
      reason = error;
    return fail(connect_failure::rejected, reason);
  }
  hello peer;
  if (hdr.type != frame_type::hello
      || !decode_hello(payload.data(), payload.size(), peer, error))
    return fail(connect_failure::handshake_failed,
                error.empty() ? "expected a hello frame" : error);
  auto reason
    = l.ssl != nullptr ? match_name(peer.name, cert_names) : std::string{};
  if (reason.empty() && check)
    reason = check(peer, where);
  if (!reason.empty()) {
    write_all(l, encode_refuse(reason), deadline);
    return fail(connect_failure::mismatch, reason);
  }
  if (write_all(l, encode_ok(), deadline) != read_result::ok)
    return fail(connect_failure::handshake_failed, "could not send ok");
  // Wait until the peer's BASP handshake is readable before our BASP gets
  // the socket: CAF 0.17 never sets last_seen of a connection it did not
  // hear from yet, so its next heartbeat tick would cut a handshake that
  // arrives later (connection_timeout, CAF-NOTES.md).
  if ((l.ssl == nullptr || SSL_pending(l.ssl) == 0)
      && !wait_for(l.fd, POLLIN, deadline))
    return fail(connect_failure::timed_out, "no BASP handshake within "
                                              + std::to_string(timeout.count())
                                              + " ms");
  // Hand the link to BASP and wait for its own handshake.
  auto& sys = impl_->sys;
  impl_->leave_connecting(l.fd); // from here on the socket is BASP's
  auto sp = make_scribe(sys, l, impl_->cfg.max_message_size,
                        where + " (" + peer.name + ")", log);
  using result = std::variant<connected, connect_error>;
  auto promise = std::make_shared<std::promise<result>>();
  auto future = promise->get_future();
  auto left = std::max(deadline - clock::now(), clock::duration{1ms});
  auto basp_timeout = std::chrono::duration_cast<caf::timespan>(left);
  auto basp = basp_of(sys);
  sys.spawn([=](caf::event_based_actor* ctx) mutable {
    ctx->request(basp, basp_timeout, caf::connect_atom::value, sp, port)
      .then(
        [=](caf::node_id& nid, caf::strong_actor_ptr& agent,
            std::set<std::string>&) {
          promise->set_value(connected{peer, std::move(nid), std::move(agent)});
        },
        [=](caf::error& err) {
          // A heartbeat tick that cut the handshake, or our own timeout:
          // worth another attempt (the connector retries timed_out).
          auto kind = err == caf::sec::connection_timeout
                          || err == caf::sec::request_timeout
                        ? connect_failure::timed_out
                        : connect_failure::handshake_failed;
          promise->set_value(connect_error{
            kind, "connect to " + where
                    + ": BASP handshake failed: " + ctx->system().render(err)});
        });
  });
  // The request above always answers (its own timeout); the extra second is
  // only a guard against a broker that is gone.
  if (future.wait_for(left + 1s) != std::future_status::ready)
    return fail(connect_failure::timed_out, "BASP did not answer");
  return future.get();
}

void gate::stop() {
  auto& d = *impl_;
  {
    // Connects in progress fail at once (their polls see the shutdown).
    std::lock_guard<std::mutex> guard{d.connecting_mtx};
    d.closing = true;
    for (auto fd : d.connecting)
      ::shutdown(fd, SHUT_RDWR);
  }
  if (!d.running.exchange(false)) {
    if (d.listen_fd >= 0) {
      ::close(d.listen_fd);
      d.listen_fd = -1;
    }
    return;
  }
  char one = 1;
  [[maybe_unused]] auto n = ::write(d.wake[1], &one, 1);
  if (d.thread.joinable())
    d.thread.join();
  ::close(d.listen_fd);
  ::close(d.wake[0]);
  ::close(d.wake[1]);
  d.listen_fd = -1;
  d.wake[0] = d.wake[1] = -1;
}

size_t gate::pending() const noexcept {
  return impl_->npending.load();
}

} // namespace rotina::detail::net
