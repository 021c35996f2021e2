// Constructs a rotina::runtime from argv and prints what it loaded. The
// integration tests run it with broken configs and check exit status and
// message; on success it prints one "key = value" line per [rotina] field.
#include <iostream>

#include <rotina/runtime.hpp>

int main(int argc, char** argv) {
  rotina::runtime rt{argc, argv};
  auto& cfg = rt.config();
  std::cout << "node-name = " << cfg.node_name << '\n'
            << "listen-host = " << cfg.listen_host << '\n'
            << "listen-port = " << cfg.listen_port << '\n'
            << "peers = " << cfg.peers.size() << '\n'
            << "scheduler.policy = " << cfg.scheduler_policy << '\n'
            << "scheduler.max-threads = " << cfg.max_threads << '\n';
  for (auto& arg : cfg.remainder)
    std::cout << "arg = " << arg << '\n';
}
