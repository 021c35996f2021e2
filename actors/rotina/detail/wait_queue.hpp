// The pieces every blocking operation shares, one concept per header: the
// spinlock, the parker, a select's claim flag, the waiter and its queue (Go's
// sudog and waitq), and the list of parkers to wake after a lock.
#pragma once

#include "rotina/detail/parker.hpp"
#include "rotina/detail/select_state.hpp"
#include "rotina/detail/spinlock.hpp"
#include "rotina/detail/waiter.hpp"
#include "rotina/detail/wake_list.hpp"
