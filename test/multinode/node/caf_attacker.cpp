// rotina_caf_attacker: a plain CAF 0.17 program that attacks a rotina node
// the way ../shared/CAF-NOTES.md ("Failure behaviour across nodes") measured
// that CAF lets anyone: connect with CAF's own BASP (no rotina handshake),
// take the published actor and kill it, and send to actors by registered
// name on the node.
//
//   rotina_caf_attacker HOST PORT
//
// Prints one line: "attack refused | <why>" when CAF could not connect, or
// "attack sent | <what>" when it reached the node and sent its kills. Exits
// within ~15 s whatever happens (alarm).
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: rotina_caf_attacker HOST PORT\n";
    return 2;
  }
  ::alarm(15); // a hung CAF connect must not hang the test
  std::string host = argv[1];
  auto port = static_cast<uint16_t>(std::stoi(argv[2]));
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto& mm = sys.middleman();
  // 1. CAF's connect: with a CAF doorman this returns the node id at once.
  auto nid = mm.connect(host, port);
  if (!nid) {
    std::cout << "attack refused | " << sys.render(nid.error()) << std::endl;
    return 0;
  }
  std::string what = "connected to CAF node " + caf::to_string(*nid);
  // 2. The published actor (the node agent): kill it.
  if (auto agent = mm.remote_actor(host, port)) {
    caf::anon_send_exit(*agent, caf::exit_reason::kill);
    what += "; sent exit(kill) to the published actor";
  }
  // 3. The actors registered by name on every CAF node.
  for (std::string name : {"SpawnServ", "ConfigServ"}) {
    if (auto h = mm.remote_lookup(
          caf::atom_from_string(caf::string_view{name.data(), name.size()}),
          *nid)) {
      caf::anon_send_exit(h, caf::exit_reason::kill);
      what += std::string{"; sent exit(kill) to "} + name;
    }
  }
  std::cout << "attack sent | " << what << std::endl;
  return 0;
}
