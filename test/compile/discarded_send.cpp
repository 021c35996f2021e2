// A discarded awaitable does nothing: without co_await it must not compile
// silently (every awaitable is [[nodiscard]]).
// check: flags -Werror
// check: fails nodiscard
#include <rotina/chan.hpp>
#include <rotina/select.hpp>
#include <rotina/task.hpp>

rotina::task<> g();

rotina::task<> f(rotina::chan<int> ch) {
  ch.send(1);
  co_return;
}
