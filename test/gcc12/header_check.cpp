// Compiled by the gcc12.header_* tests (g++ < 13 only, -fsyntax-only):
// <rotina/task.hpp> must refuse an optimized build without
// ROTINA_GCC12_NO_TREE_PRE and accept it with the define (runtime/rotina/
// detail/gcc12_check.hpp).
#include "rotina/task.hpp"
