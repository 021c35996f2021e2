// The g++ 12 trap, checked at compile time (docs/gcc12.md).
//
// At -O2 (and -O3, -Os), GCC before 13 can compile `co_await ch.send(T{...})`
// in a loop so that it sends the previous iteration's value: its tree-PRE pass
// moves the loads of the loop's locals across the coroutine's suspension
// point. Nothing in rotina's API can prevent it; `-fno-tree-pre` (or clang++)
// does. rotina's CMake package (rotina::rotina) adds `-fno-tree-pre` and
// defines ROTINA_GCC12_NO_TREE_PRE for every target compiled with GCC < 13;
// a build that does not use the package must do the same by hand:
//
//   g++ -std=c++20 -O2 -fno-tree-pre -DROTINA_GCC12_NO_TREE_PRE ...
//
// Otherwise the first rotina header that declares coroutines stops the build
// here (an unoptimized build is not affected and passes). Defining
// ROTINA_ALLOW_TREE_PRE accepts the risk and silences the check.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && !defined(__INTEL_COMPILER)     \
  && __GNUC__ < 13 && defined(__OPTIMIZE__)                                    \
  && !defined(ROTINA_GCC12_NO_TREE_PRE) && !defined(ROTINA_ALLOW_TREE_PRE)
#  error "rotina: optimizing g++ < 13 can make co_await ch.send(T{...}) in a \
loop send a stale value (GCC's tree-PRE pass). Compile with -fno-tree-pre \
-DROTINA_GCC12_NO_TREE_PRE (rotina's CMake package, rotina::rotina, does it \
for you) or with clang++; see docs/gcc12.md. -DROTINA_ALLOW_TREE_PRE \
accepts the risk."
#endif
