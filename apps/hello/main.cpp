// hello: starts a rotina runtime, prints what it loaded and does one actor
// round trip. A stand-in demo until the real sample apps exist.
//
// Run:  build/release/apps/hello/hello --config-file=config/default.ini
//       (or: make demo)

#include <iostream>
#include <string>

#include <caf/all.hpp>

#include <rotina/runtime.hpp>
#include <rotina/version.hpp>

namespace {

// Replies to every name with a greeting.
caf::behavior greeter() {
  return {
    [](const std::string& name) { return "hello, " + name; },
  };
}

std::string show(caf::timespan x) {
  return caf::deep_to_string(x);
}

} // namespace

int main(int argc, char** argv) {
  rotina::runtime rt{argc, argv};
  auto& cfg = rt.config();
  std::cout << "rotina " << rotina::version() << " on CAF "
            << rotina::caf_version() << '\n'
            << "config:    " << cfg.source_of("rotina.listen-host") << '\n'
            << "node:      " << cfg.node_name << '\n'
            // Configured values only: the node layer that listens and
            // connects is not part of this build yet.
            << "configured listen-host/port: " << cfg.listen_host << ':'
            << cfg.listen_port << ", peers: " << cfg.peers.size()
            << ", heartbeat: " << show(cfg.heartbeat_interval) << " / timeout "
            << show(cfg.heartbeat_timeout) << '\n'
            << "shutdown:  " << rotina::to_string(cfg.on_shutdown) << " (up to "
            << show(cfg.shutdown_timeout) << ")\n"
            << "scheduler: " << cfg.scheduler_policy << ", "
            << cfg.max_threads << " threads\n";
  auto worker = rt.system().spawn(greeter);
  caf::scoped_actor self{rt.system()};
  int status = 0;
  self->request(worker, std::chrono::seconds(5), std::string{"rotina"})
    .receive([](const std::string& reply) { std::cout << reply << '\n'; },
             [&](const caf::error& err) {
               std::cerr << "hello: " << rt.system().render(err) << '\n';
               status = 1;
             });
  self->send_exit(worker, caf::exit_reason::user_shutdown);
  return status;
}
