// Runs a piece of a test in a forked child process, with a time bound, and
// reports how it ended (for behaviour that ends or aborts the process).
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rotina::test {

struct child_result {
  bool timed_out = false;
  bool exited = false;   // WIFEXITED
  int exit_status = -1;  // WEXITSTATUS
  bool signaled = false; // WIFSIGNALED (abort)
  std::string err;       // what the child wrote to stderr
};

/// Forks, runs `body` in the child with its stderr captured, and ends the
/// child with status 0 when `body` returns. Kills the child (timed_out) if it
/// did not end within `limit`.
inline child_result run_in_child(const std::function<void()>& body,
                                 std::chrono::milliseconds limit
                                 = std::chrono::seconds{30}) {
  child_result result;
  int fds[2];
  if (pipe(fds) != 0)
    return result;
  std::fflush(stdout);
  std::fflush(stderr);
  auto pid = fork();
  if (pid == 0) {
    // The test framework's handlers would turn an abort into a report and an
    // exit status: restore the default dispositions.
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
      std::signal(sig, SIG_DFL);
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    body();
    std::_Exit(0);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  char buf[4096];
  for (;;) {
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0)
      result.err.append(buf, static_cast<size_t>(n));
    auto done = waitpid(pid, &status, WNOHANG);
    if (done == pid)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0)
    result.err.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  if (!result.timed_out) {
    result.exited = WIFEXITED(status);
    result.exit_status = result.exited ? WEXITSTATUS(status) : -1;
    result.signaled = WIFSIGNALED(status);
  }
  return result;
}

} // namespace rotina::test
