#include "rotina/chan_actor.hpp"

#include "chan_core.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

void destroy_identity(chan_identity** slot) noexcept {
  delete __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}

chan_identity& identity_of(chan_base& st) {
  auto slot = st.identity_slot();
  auto id = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (id != nullptr)
    return *id;
  auto fresh = new chan_identity;
  if (__atomic_compare_exchange_n(slot, &id, fresh, false, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE))
    return *fresh;
  delete fresh;
  return *id;
}

caf::actor_system& system_of(const chan_base& st) {
  return chan_runtime(st).system();
}

} // namespace rotina::detail
