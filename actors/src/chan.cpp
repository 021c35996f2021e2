#include "rotina/chan.hpp"

#include "rotina/detail/chan_actor.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

void destroy_identity(chan_identity* id) noexcept {
  delete id;
}

chan_identity& identity_of(chan_core& st) {
  auto& slot = st.identity_slot();
  auto id = slot.load(std::memory_order_acquire);
  if (id != nullptr)
    return *id;
  auto fresh = new chan_identity;
  if (slot.compare_exchange_strong(id, fresh, std::memory_order_acq_rel))
    return *fresh;
  delete fresh;
  return *id;
}

caf::actor_system& system_of(runtime* rt) {
  return rt->system();
}

} // namespace rotina::detail
