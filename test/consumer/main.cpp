// Built against an installed rotina (test/consumer/run.sh): starts a runtime
// from code, does one actor round trip and prints the result.
#include <iostream>

#include <caf/all.hpp>

#include <rotina/runtime.hpp>
#include <rotina/version.hpp>

int main() {
  rotina::runtime rt{rotina::options{"", {"--node-name=consumer"}}};
  auto doubler = rt.system().spawn(
    []() -> caf::behavior { return {[](int x) { return 2 * x; }}; });
  caf::scoped_actor self{rt.system()};
  int status = 1;
  self->request(doubler, std::chrono::seconds(5), 21)
    .receive(
      [&](int y) {
        std::cout << "consumer: rotina " << rotina::version() << ", node "
                  << rt.config().node_name << ", 2 * 21 = " << y << '\n';
        status = y == 42 ? 0 : 1;
      },
      [&](caf::error& err) {
        std::cerr << "consumer: " << rt.system().render(err) << '\n';
      });
  self->send_exit(doubler, caf::exit_reason::user_shutdown);
  return status;
}
