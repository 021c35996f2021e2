#include "rotina/task.hpp"

#include "rotina/error.hpp"

namespace rotina::detail {

void task_misuse(const char* what) {
  throw panic_error{error{errc::misuse, what}};
}

} // namespace rotina::detail
