// <rotina/chan.hpp> includes no CAF header and stays small (issue 10: it was
// ~201,000 preprocessed lines through <caf/all.hpp>).
// check: max-lines 40000
#include <rotina/chan.hpp>
