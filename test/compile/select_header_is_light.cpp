// <rotina/select.hpp> includes no CAF header.
// check: max-lines 40000
#include <rotina/select.hpp>
