#include "rotina/error.hpp"

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

} // namespace rotina
