// How blocking operations park their caller: a goroutine (park_current.hpp)
// or a plain thread (thread_parker.hpp), with the waiter pieces they share.
#pragma once

#include "rotina/detail/park_current.hpp"
#include "rotina/detail/thread_parker.hpp"
#include "rotina/detail/wait_queue.hpp"
