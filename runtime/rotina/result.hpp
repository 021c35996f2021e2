// rotina::result<T>: a value or the error that says why not, Go's `(T, error)`.
#pragma once

#include <utility>
#include <variant>

#include "rotina/error.hpp"

namespace rotina {

/// result<T> holds a T or a rotina::error, like Go's `(v, err)` pair. Test it
/// with `if (res)`; `*res` and `res->` read the value, `res.error()` the
/// error. Reading the value of a result that holds an error throws
/// panic_error carrying that error.
template <class T>
class result {
public:
  result(T x) : value_(std::in_place_index<0>, std::move(x)) {
    // nop
  }

  result(rotina::error err) : value_(std::in_place_index<1>, std::move(err)) {
    // nop
  }

  explicit operator bool() const noexcept {
    return value_.index() == 0;
  }

  /// Returns the value; throws panic_error with the error if there is none.
  T& value() & {
    check();
    return std::get<0>(value_);
  }

  const T& value() const& {
    check();
    return std::get<0>(value_);
  }

  T&& value() && {
    check();
    return std::get<0>(std::move(value_));
  }

  T& operator*() & {
    return value();
  }

  const T& operator*() const& {
    return value();
  }

  T* operator->() {
    return &value();
  }

  const T* operator->() const {
    return &value();
  }

  /// Returns the error, or the empty error when there is a value.
  rotina::error error() const {
    if (auto ptr = std::get_if<1>(&value_))
      return *ptr;
    return {};
  }

private:
  void check() const {
    if (auto ptr = std::get_if<1>(&value_))
      throw panic_error{*ptr};
  }

  std::variant<T, rotina::error> value_;
};

} // namespace rotina
