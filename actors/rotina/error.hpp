// rotina::error: one error type for goroutines, groups, contexts and nodes.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace caf {
class error;
} // namespace caf

namespace rotina {

/// The kinds of failure rotina reports. Compare an error with a code the way Go
/// compares with a sentinel error (`errors.Is(err, context.Canceled)`):
/// `if (err == errc::canceled) ...`.
enum class errc : uint8_t {
  none = 0,
  /// Go's context.Canceled: "context canceled".
  canceled,
  /// Go's context.DeadlineExceeded: "context deadline exceeded".
  deadline_exceeded,
  /// A send on a closed channel (Go panics: "send on closed channel").
  send_on_closed,
  /// Close of a closed channel (Go panics: "close of closed channel").
  close_of_closed,
  /// Close of a nil channel (Go panics: "close of nil channel").
  close_of_nil,
  /// A wait group counter went below zero (Go panics:
  /// "sync: negative WaitGroup counter").
  negative_counter,
  /// An exception escaped a goroutine body (Go's panic).
  panic,
  /// The goroutine's actor was killed or exited before its body finished.
  killed,
  /// A body returned an application error.
  failed,
  /// Misuse of an API that Go reports by panicking (e.g. changing an errgroup
  /// limit while bodies run).
  misuse,
  /// The node that hosted a channel, goroutine or group went away.
  node_down,
};

/// Returns Go's wording for `code` ("context canceled", ...).
const char* to_string(errc code) noexcept;

/// An error value: a code, a message and where it came from. Empty (false)
/// means success, like Go's nil error. Copyable, comparable by code, printable.
class error {
public:
  // -- constructors, destructors, and assignment operators --------------------

  error() noexcept = default;

  error(errc code) : code_(code) {
    // nop
  }

  error(errc code, std::string message, std::string origin = {})
    : code_(code), message_(std::move(message)), origin_(std::move(origin)) {
    // nop
  }

  // -- properties -------------------------------------------------------------

  errc code() const noexcept {
    return code_;
  }

  /// The message; falls back to Go's wording for the code.
  std::string message() const;

  /// Where the error happened: goroutine name and node, if known.
  const std::string& origin() const noexcept {
    return origin_;
  }

  explicit operator bool() const noexcept {
    return code_ != errc::none;
  }

  // -- operations -------------------------------------------------------------

  /// "origin: message", or "message" if no origin is known.
  std::string to_string() const;

  /// Returns a copy with `origin` set if none was set before.
  error with_origin(std::string origin) const;

  friend bool operator==(const error& x, const error& y) noexcept {
    return x.code_ == y.code_;
  }

  friend bool operator==(const error& x, errc y) noexcept {
    return x.code_ == y;
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, error& x) {
    return f(x.code_, x.message_, x.origin_);
  }

private:
  errc code_ = errc::none;
  std::string message_;
  std::string origin_;
};

/// Thrown for misuse that Go reports by panicking ("send on closed channel",
/// "close of closed channel", "sync: negative WaitGroup counter"). Thrown
/// inside a goroutine it ends that goroutine only and reaches its supervisor.
class panic_error : public std::runtime_error {
public:
  explicit panic_error(error err)
    : std::runtime_error(err.message()), err_(std::move(err)) {
    // nop
  }

  const rotina::error& err() const noexcept {
    return err_;
  }

private:
  rotina::error err_;
};

/// Encodes `err` as a CAF error (category "rotina", the message and origin in
/// its context), so it can travel as an actor's exit reason: a supervisor that
/// monitors a goroutine reads it from the down message.
caf::error to_caf_error(const error& err);

/// Decodes an exit reason or request error: rotina's own errors come back as
/// they were; CAF's exit reasons map to errc::killed (kill, user_shutdown,
/// unhandled exception) or errc::node_down (remote_link_unreachable); a normal
/// exit is the empty error.
error from_caf_error(const caf::error& err);

} // namespace rotina
