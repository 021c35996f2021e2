// Test harness for multinode tests: starts node processes (rotina_test_node
// unless told otherwise), talks to them line by line, and always reaps them.
//
// Every child runs in its own process group with PR_SET_PDEATHSIG = SIGKILL,
// so it dies with the test process even if the test is killed; the
// node_process destructor kills the group with SIGKILL and waits (bounded).
// Every read has a timeout. Ports: children listen on port 0 and report the
// port in their "ready" line, so parallel runs never collide.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rotina::test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Returns CLOCK_MONOTONIC in nanoseconds (what the node program prints).
inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

/// A rotina_test_node child process.
class node_process {
public:
  /// Starts the node program `binary` (default: rotina_test_node) with
  /// `args` (each "--key=value") and waits up to `timeout` for its "ready"
  /// line. Throws std::runtime_error on failure.
  explicit node_process(std::vector<std::string> args,
                        std::chrono::milliseconds timeout = 20s,
                        bool wait_ready = true,
                        std::string binary = ROTINA_TEST_NODE) {
    int in_pipe[2];
    int out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    char tmpl[] = "/tmp/rotina-node-err-XXXXXX";
    int err_fd = ::mkstemp(tmpl);
    if (err_fd < 0)
      throw std::runtime_error("mkstemp failed");
    err_path_ = tmpl;
    auto parent = ::getpid();
    std::vector<std::string> argv_store;
    argv_store.push_back(std::move(binary));
    for (auto& a : args)
      argv_store.push_back(a);
    std::vector<char*> argv;
    for (auto& a : argv_store)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Child: own process group, die with the parent.
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent)
        ::_exit(127);
      ::dup2(in_pipe[0], 0);
      ::dup2(out_pipe[1], 1);
      ::dup2(err_fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_); // also from the parent, against the race
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_fd);
    in_ = in_pipe[1];
    out_ = out_pipe[0];
    if (wait_ready) {
      auto line = expect("ready", timeout);
      // "ready name=<name> port=<port>"
      auto p = line.find("port=");
      auto n = line.find("name=");
      if (p == std::string::npos || n == std::string::npos)
        throw std::runtime_error("bad ready line: " + line);
      port = static_cast<uint16_t>(std::stoul(line.substr(p + 5)));
      name = line.substr(n + 5, line.find(' ', n) - n - 5);
    }
  }

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  /// Kills the process group with SIGKILL and reaps the child.
  ~node_process() {
    kill_now();
    if (in_ >= 0)
      ::close(in_);
    if (out_ >= 0)
      ::close(out_);
    if (!err_path_.empty())
      ::unlink(err_path_.c_str());
  }

  // -- talking to the node ----------------------------------------------------

  /// Sends one command line.
  void send(const std::string& line) {
    auto text = line + "\n";
    auto res = ::write(in_, text.data(), text.size());
    static_cast<void>(res);
  }

  /// Returns the next line, or nothing after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        auto line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - clock_type::now());
      if (left.count() <= 0)
        return std::nullopt;
      pollfd pfd{out_, POLLIN, 0};
      auto rc = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (rc < 0 && errno == EINTR)
        continue;
      if (rc <= 0)
        return std::nullopt;
      char chunk[4096];
      auto n = ::read(out_, chunk, sizeof(chunk));
      if (n <= 0)
        return std::nullopt; // EOF: the node exited
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

  /// Returns the first line starting with `prefix` (skipping others) or
  /// throws after `timeout`, naming the node and its stderr.
  std::string expect(const std::string& prefix,
                     std::chrono::milliseconds timeout = 20s) {
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - clock_type::now());
      auto line = read_line(std::max(left, 0ms));
      if (!line)
        throw std::runtime_error(
          "node '" + name + "' (pid " + std::to_string(pid_) + "): no line '"
          + prefix + "...' within " + std::to_string(timeout.count())
          + " ms; stderr: " + stderr_text());
      if (line->compare(0, prefix.size(), prefix) == 0)
        return *line;
    }
  }

  /// Sends `cmd` and returns the reply line starting with `prefix`.
  std::string ask(const std::string& cmd, const std::string& prefix,
                  std::chrono::milliseconds timeout = 20s) {
    send(cmd);
    return expect(prefix, timeout);
  }

  // -- process control --------------------------------------------------------

  void signal(int sig) {
    if (pid_ > 0)
      ::kill(pid_, sig);
  }

  /// Sends SIGSTOP and waits (bounded) until the kernel reports the process
  /// stopped ('T' in /proc/<pid>/stat).
  bool stop_and_wait(std::chrono::milliseconds timeout = 5s) {
    signal(SIGSTOP);
    auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
      std::ifstream in{"/proc/" + std::to_string(pid_) + "/stat"};
      std::string stat;
      std::getline(in, stat);
      auto paren = stat.rfind(')');
      if (paren != std::string::npos && paren + 2 < stat.size()
          && stat[paren + 2] == 'T')
        return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }

  /// Sends quit and waits (bounded) for a normal exit; returns the exit status
  /// or -1 if it did not exit in time (it is killed then).
  int quit(std::chrono::milliseconds timeout = 20s) {
    send("quit");
    auto status = wait_exit(timeout);
    if (!status)
      kill_now();
    return status.value_or(-1);
  }

  /// Waits up to `timeout` for the child to exit; returns its exit status
  /// (128 + signal if killed).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0)
      return exit_status_;
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      int status = 0;
      auto rc = ::waitpid(pid_, &status, WNOHANG);
      if (rc == pid_) {
        pid_ = -1;
        exit_status_
          = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_status_;
      }
      if (clock_type::now() >= deadline)
        return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }

  /// Whether the child is still running.
  bool alive() {
    return pid_ > 0 && !wait_exit(0ms);
  }

  /// Kills the process group with SIGKILL and reaps the child (bounded).
  void kill_now() {
    if (pid_ <= 0)
      return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    if (!wait_exit(10s))
      std::fprintf(stderr, "harness: pid %d did not die within 10 s\n", pid_);
  }

  pid_t pid() const noexcept {
    return pid_;
  }

  /// Returns what the node wrote to stderr so far.
  std::string stderr_text() const {
    std::ifstream in{err_path_};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  /// Returns "--connect 127.0.0.1 <port>" for this node.
  std::string connect_cmd() const {
    return "connect 127.0.0.1 " + std::to_string(port);
  }

  std::string address() const {
    return "127.0.0.1:" + std::to_string(port);
  }

  uint16_t port = 0;
  std::string name;

private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  int in_ = -1;
  int out_ = -1;
  std::string buf_;
  std::string err_path_;
};

/// Returns a TCP port on 127.0.0.1 that was free a moment ago (for tests that
/// must know a port before the node starts, e.g. start order via peers).
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// Sends `bytes` to 127.0.0.1:port on a fresh TCP connection and closes it.
inline bool send_raw(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return false;
  }
  auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::this_thread::sleep_for(50ms);
  ::close(fd);
  return n == static_cast<ssize_t>(bytes.size());
}

} // namespace rotina::test
