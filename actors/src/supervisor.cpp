// The supervisor actor of wait_group and errgroup.
//
// Invariants:
// - A supervisor is a hidden event-based actor with one job: turn each down
//   message of a monitored goroutine actor into a call of its target's
//   on_down, on the supervisor's own thread of control (so on_down calls of
//   one group never run concurrently with each other).
// - It holds its target strongly; the target holds the supervisor strongly
//   (supervisor_link) only while a monitored goroutine may still send a down
//   message. When the last one arrived the target drops the handle and CAF
//   ends the actor, which drops the target: no cycle outlives the work.
// - Monitoring is attached from the caller's thread
//   (default_attachable::make_monitor, what local_actor::monitor does), so
//   starting a supervised goroutine costs no message to the supervisor.
#include "rotina/detail/supervisor.hpp"

#include <caf/all.hpp>
#include <caf/default_attachable.hpp>

#include "rotina/runtime.hpp"

namespace rotina::detail {

namespace {

using sup_ping_atom = caf::atom_constant<caf::atom("rt_sping")>;

caf::behavior supervisor_actor(caf::event_based_actor* self,
                               std::shared_ptr<supervised> target) {
  self->set_down_handler([target](caf::down_msg& dm) {
    bool shutdown = dm.reason == caf::exit_reason::user_shutdown;
    target->on_down(dm.source.id(), from_caf_error(dm.reason), shutdown);
  });
  return {
    // A behavior must not be empty, or CAF ends the actor at once.
    [](sup_ping_atom) { return true; },
  };
}

} // namespace

caf::actor spawn_supervisor(runtime& rt, std::shared_ptr<supervised> target) {
  return rt.system().spawn<caf::hidden>(supervisor_actor, std::move(target));
}

void supervise(const caf::actor& sup, const caf::actor& goroutine) {
  auto ptr = caf::actor_cast<caf::abstract_actor*>(goroutine);
  ptr->attach(
    caf::default_attachable::make_monitor(goroutine.address(), sup.address()));
}

} // namespace rotina::detail
