#include "rotina/error.hpp"

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

namespace {

constexpr auto rotina_category = caf::atom("rotina");

} // namespace

caf::error to_caf_error(const error& err) {
  if (!err)
    return caf::error{};
  return caf::error{static_cast<uint8_t>(err.code()), rotina_category,
                    caf::make_message(err.message(), err.origin())};
}

error from_caf_error(const caf::error& err) {
  if (!err)
    return {};
  if (err.category() == rotina_category) {
    auto code = static_cast<errc>(err.code());
    auto& ctx = err.context();
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
