// rotina::error: codes, sentinels, wrapping and the caf::error encoding.
//
// Invariants:
// - wrapped_ has zero or one element; a wrapper keeps the code of what it
//   wraps, has no sentinel name, and its message already contains the wrapped
//   error's text.
// - A sentinel name is registered at most once per process (sentinels()); a
//   copy of a sentinel, also one decoded from another node, carries the name,
//   which is all that is() compares.
// - The caf::error encoding (to_caf_error) is code + category "rotina" +
//   context (message, origin, sentinel name, chain), the chain flattened as
//   four strings per wrapped link (code, message, origin, name), outermost
//   first; from_caf_error also reads the older (message, origin) context.
#include "rotina/error.hpp"

#include <mutex>
#include <unordered_set>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace rotina {

const char* to_string(errc code) noexcept {
  switch (code) {
  case errc::none:
    return "no error";
  case errc::canceled:
    return "context canceled";
  case errc::deadline_exceeded:
    return "context deadline exceeded";
  case errc::send_on_closed:
    return "send on closed channel";
  case errc::close_of_closed:
    return "close of closed channel";
  case errc::close_of_nil:
    return "close of nil channel";
  case errc::negative_counter:
    return "sync: negative WaitGroup counter";
  case errc::panic:
    return "goroutine panicked";
  case errc::killed:
    return "goroutine killed";
  case errc::failed:
    return "failed";
  case errc::misuse:
    return "misuse";
  case errc::node_down:
    return "node down";
  case errc::not_found:
    return "not found";
  case errc::type_mismatch:
    return "type mismatch";
  }
  return "unknown error";
}

std::string error::message() const {
  return message_.empty() ? std::string{rotina::to_string(code_)} : message_;
}

std::string error::to_string() const {
  if (origin_.empty())
    return message();
  return origin_ + ": " + message();
}

error error::with_origin(std::string origin) const {
  auto result = *this;
  if (result.origin_.empty())
    result.origin_ = std::move(origin);
  return result;
}

error error::unwrap() const {
  return wrapped_.empty() ? error{} : wrapped_.front();
}

bool error::equal(const error& x, const error& y) {
  if (x.code_ != y.code_ || x.id_ != y.id_)
    return false;
  if (!x.id_.empty())
    return true; // sentinels: the registered name is the identity
  if (x.message() != y.message() || x.wrapped_.size() != y.wrapped_.size())
    return false;
  return x.wrapped_.empty() || equal(x.wrapped_.front(), y.wrapped_.front());
}

// -- sentinels, wrapping, is --------------------------------------------------

namespace {

struct sentinel_registry {
  std::mutex mtx;
  std::unordered_set<std::string> names;
};

sentinel_registry& sentinels() {
  static auto* reg = new sentinel_registry; // usable in static destructors
  return *reg;
}

} // namespace

error make_sentinel(std::string name, std::string message) {
  if (name.empty())
    throw panic_error{
      error{errc::misuse, "rotina: a sentinel error needs a non-empty name"}};
  {
    auto& reg = sentinels();
    std::lock_guard<std::mutex> guard{reg.mtx};
    if (!reg.names.insert(name).second)
      throw panic_error{error{errc::misuse, "rotina: sentinel error \"" + name
                                              + "\" declared twice"}};
  }
  if (message.empty())
    message = name;
  return error::make_named(errc::failed, std::move(name), std::move(message));
}

error wrap(const error& err, std::string_view format) {
  if (!err)
    return {};
  std::string text{format};
  auto inner = err.to_string();
  if (auto pos = text.find("%w"); pos != std::string::npos)
    text.replace(pos, 2, inner);
  else
    text += ": " + inner;
  return error::make_wrapper(error{err.code(), std::move(text)}, err);
}

bool is(const error& err, const error& target) {
  if (!err || !target)
    return !err && !target; // Go: "return err == target"
  for (auto e = err;; e = e.unwrap()) {
    if (target.sentinel() ? e.sentinel_name() == target.sentinel_name()
                          : e == target)
      return true;
    if (!e)
      return false;
  }
}

bool is(const error& err, errc code) {
  for (auto e = err; e; e = e.unwrap())
    if (e == code)
      return true;
  return code == errc::none && !err;
}

// -- caf::error encoding ------------------------------------------------------

namespace {

constexpr auto rotina_category = caf::atom("rotina");

uint8_t code_of(const std::string& str) {
  unsigned v = 0;
  for (auto c : str)
    if (c >= '0' && c <= '9')
      v = v * 10 + static_cast<unsigned>(c - '0');
  return static_cast<uint8_t>(v);
}

} // namespace

caf::error to_caf_error(const error& err) {
  if (!err)
    return caf::error{};
  std::vector<std::string> chain;
  for (auto e = err.unwrap(); e; e = e.unwrap()) {
    chain.emplace_back(std::to_string(static_cast<unsigned>(e.code())));
    chain.emplace_back(e.message());
    chain.emplace_back(e.origin());
    chain.emplace_back(e.sentinel_name());
  }
  return caf::error{static_cast<uint8_t>(err.code()), rotina_category,
                    caf::make_message(err.message(), err.origin(),
                                      err.sentinel_name(), std::move(chain))};
}

error from_caf_error(const caf::error& err) {
  if (!err)
    return {};
  if (err.category() == rotina_category) {
    auto code = static_cast<errc>(err.code());
    auto& ctx = err.context();
    if (ctx.match_elements<std::string, std::string, std::string,
                           std::vector<std::string>>()) {
      auto& chain = ctx.get_as<std::vector<std::string>>(3);
      // Rebuild from the innermost link outwards.
      error inner;
      for (size_t i = chain.size() / 4; i > 0; --i) {
        auto k = (i - 1) * 4;
        auto link = chain[k + 3].empty()
                      ? error{static_cast<errc>(code_of(chain[k])),
                              chain[k + 1], chain[k + 2]}
                      : error::make_named(static_cast<errc>(code_of(chain[k])),
                                          chain[k + 3], chain[k + 1])
                          .with_origin(chain[k + 2]);
        inner = inner ? error::make_wrapper(std::move(link), std::move(inner))
                      : std::move(link);
      }
      auto outer = ctx.get_as<std::string>(2).empty()
                     ? error{code, ctx.get_as<std::string>(0),
                             ctx.get_as<std::string>(1)}
                     : error::make_named(code, ctx.get_as<std::string>(2),
                                         ctx.get_as<std::string>(0))
                         .with_origin(ctx.get_as<std::string>(1));
      return inner ? error::make_wrapper(std::move(outer), std::move(inner))
                   : outer;
    }
    if (ctx.match_elements<std::string, std::string>())
      return error{code, ctx.get_as<std::string>(0),
                   ctx.get_as<std::string>(1)};
    return error{code};
  }
  if (err.category() == caf::atom("exit")) {
    switch (static_cast<caf::exit_reason>(err.code())) {
    case caf::exit_reason::normal:
      return {};
    case caf::exit_reason::remote_link_unreachable:
      return error{errc::node_down, "the goroutine's node became unreachable"};
    default:
      return error{errc::killed, "goroutine ended: " + caf::to_string(err)};
    }
  }
  return error{errc::failed, caf::to_string(err)};
}

} // namespace rotina
