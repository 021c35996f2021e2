// <rotina/task.hpp> includes no CAF header.
// check: max-lines 40000
#include <rotina/task.hpp>
