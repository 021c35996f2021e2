// rotina::error: one error type for goroutines, groups, contexts and nodes,
// with Go's error identity: sentinels (errors.New at package level), wrapping
// (fmt.Errorf's %w, errors.Unwrap) and errors.Is. The goroutine layer's
// vocabulary: it lives in actors/, not in runtime/.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  /// A name looked up on a node (runtime::lookup, go_on) is not there.
  not_found,
  /// A handle or argument crossed nodes with another type than expected.
  type_mismatch,
};

/// Returns Go's wording for `code` ("context canceled", ...).
const char* to_string(errc code) noexcept;

/// An error value: a code, a message, where it came from, and optionally a
/// sentinel identity (make_sentinel) and a wrapped error (wrap). Empty (false)
/// means success, like Go's nil error. Copyable, printable and serializable
/// (inspect, to_caf_error), so it can cross actors and nodes.
///
/// Identity, as Go's `==` on error values: two errors are equal if they have
/// the same code, sentinel name, message and wrapped chain (origin, the
/// "where", is not part of it). So `error{errc::failed, "a"}` and
/// `error{errc::failed, "b"}` differ, and a sentinel equals only copies of
/// itself (same registered name). Deviation from Go: two errors.New("x")
/// values are distinct in Go even with one text; rotina compares ordinary
/// errors by value (a pointer identity would not survive a node boundary).
/// Declare a sentinel when identity matters. Compare with a code
/// (`err == errc::canceled`) as Go compares with context.Canceled.
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

  /// The registered name of a sentinel (make_sentinel), else empty.
  const std::string& sentinel_name() const noexcept {
    return id_;
  }

  /// Whether this is a sentinel error (or a copy of one).
  bool sentinel() const noexcept {
    return !id_.empty();
  }

  /// unwrap is Go's errors.Unwrap(err): the error that wrap() wrapped, or
  /// the empty error if this one wraps nothing.
  error unwrap() const;

  explicit operator bool() const noexcept {
    return code_ != errc::none;
  }

  // -- operations -------------------------------------------------------------

  /// "origin: message", or "message" if no origin is known.
  std::string to_string() const;

  /// Returns a copy with `origin` set if none was set before.
  error with_origin(std::string origin) const;

  /// Go's `err == target`: same code, sentinel name, message and wrapped
  /// chain (see the class comment). Use is() to look through wrapping.
  friend bool operator==(const error& x, const error& y) {
    return equal(x, y);
  }

  /// Compares codes only: `err == errc::canceled`. A wrapper keeps the code
  /// of the error it wraps.
  friend bool operator==(const error& x, errc y) noexcept {
    return x.code_ == y;
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, error& x) {
    return f(x.code_, x.message_, x.origin_, x.id_, x.wrapped_);
  }

  // -- implementation details (make_sentinel, wrap, to/from_caf_error) --------

  /// A sentinel named `name` (see make_sentinel); does not register it.
  static error make_named(errc code, std::string name, std::string message) {
    error result{code, std::move(message)};
    result.id_ = std::move(name);
    return result;
  }

  /// `outer` wrapping `inner`.
  static error make_wrapper(error outer, error inner) {
    outer.wrapped_.clear();
    outer.wrapped_.emplace_back(std::move(inner));
    return outer;
  }

private:
  static bool equal(const error& x, const error& y);

  errc code_ = errc::none;
  std::string message_;
  std::string origin_;
  /// The sentinel's registered name; empty for an ordinary error.
  std::string id_;
  /// The wrapped error: empty or exactly one element (a vector, so that
  /// inspect recurses and copies are deep).
  std::vector<error> wrapped_;
};

/// make_sentinel is Go's package-level `var ErrNotFound =
/// errors.New("not found")`: a sentinel error whose identity is `name`, a
/// name unique in the program (e.g. "myapp.not_found"), registered here so
/// that it identifies the error across processes too (a deserialized copy
/// is() the sentinel of the receiving node with the same name). Declare it
/// once, at namespace scope: `inline const rotina::error not_found =
/// rotina::make_sentinel("myapp.not_found", "not found");`. The message
/// defaults to the name; the code is errc::failed. Throws panic_error
/// (errc::misuse) "rotina: sentinel error \"<name>\" declared twice" if the
/// name is registered already, or if it is empty.
error make_sentinel(std::string name, std::string message = {});

/// wrap is Go's `fmt.Errorf(format, err)` with one `%w`: an error whose
/// message is `format` with "%w" replaced by err.to_string() (or, without a
/// "%w", "format: " followed by it) and which wraps `err` (unwrap returns
/// it; is() looks through it). It keeps err's code, so
/// `wrap(ctx.err(), "fetch: %w") == errc::canceled`.
/// Deviation from Go: wrapping the empty error gives the empty error
/// (success stays success), where Go's Errorf would make a non-nil error
/// with "%!w(<nil>)".
error wrap(const error& err, std::string_view format);

/// is is Go's errors.Is(err, target): whether `err` or any error it wraps
/// (following unwrap) equals `target`: for a sentinel target, by its
/// registered name; else by value (operator==). is(empty, empty) is true,
/// as errors.Is(nil, nil).
bool is(const error& err, const error& target);

/// is(err, code): whether `err` or any error it wraps has `code`.
bool is(const error& err, errc code);

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

/// Encodes `err` as a CAF error (category "rotina"; message, origin, sentinel
/// name and the wrapped chain in its context, all serializable), so it can
/// travel as an actor's exit reason or to another node: a supervisor that
/// monitors a goroutine reads it from the down message, and from_caf_error
/// gives back an error that is() the same sentinels.
caf::error to_caf_error(const error& err);

/// Decodes an exit reason or request error: rotina's own errors come back as
/// they were; CAF's exit reasons map to errc::killed (kill, user_shutdown,
/// unhandled exception) or errc::node_down (remote_link_unreachable); a normal
/// exit is the empty error.
error from_caf_error(const caf::error& err);

} // namespace rotina
