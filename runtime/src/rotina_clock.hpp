// The rotina scheduler's actor clock (CAF's, with a filter on
// cancel_timeouts).
#pragma once

#include <array>
#include <mutex>
#include <unordered_set>

#include "caf/abstract_actor.hpp"
#include "caf/detail/thread_safe_actor_clock.hpp"

#include "sched_tuning.hpp"

namespace rotina::detail::sched {

/// The actor clock of the rotina coordinator. CAF 0.17.6 calls
/// clock().cancel_timeouts(self) in every local_actor::cleanup, and
/// thread_safe_actor_clock implements it by pushing an event through a
/// 64-slot ring buffer (mutex + condition variable) to the clock thread:
/// every terminating actor takes that mutex, usually wakes the clock thread
/// (futex), and blocks once 64 events are pending. Only actors that ever set
/// an ordinary/multi/request timeout can have entries to cancel, so this clock
/// remembers their ids (sharded sets) and forwards cancel_timeouts for those
/// only. All other operations are CAF's.
class rotina_clock : public caf::detail::thread_safe_actor_clock {
public:
  using super = caf::detail::thread_safe_actor_clock;

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_ordinary_timeout(t, self, type, id);
  }

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override {
    note(self);
    super::set_request_timeout(t, self, id);
  }

  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_multi_timeout(t, self, type, id);
  }

  void cancel_timeouts(caf::abstract_actor* self) override {
    auto& s = shard_of(self);
    size_t had;
    {
      std::lock_guard<spin_lock> guard{s.lock};
      had = s.ids.erase(self->id());
    }
    if (had > 0)
      super::cancel_timeouts(self);
  }

private:
  struct alignas(64) shard {
    spin_lock lock;
    std::unordered_set<caf::actor_id> ids;
  };

  shard& shard_of(caf::abstract_actor* self) {
    return shards_[self->id() % shards_.size()];
  }

  void note(caf::abstract_actor* self) {
    auto& s = shard_of(self);
    std::lock_guard<spin_lock> guard{s.lock};
    s.ids.insert(self->id());
  }

  std::array<shard, 16> shards_;
};

} // namespace rotina::detail::sched
