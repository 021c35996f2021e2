// tree_pre_test.cpp compiled with tree-PRE turned back on (-ftree-pre as a
// source-file option, so that it comes after rotina's -fno-tree-pre on the
// command line). Built only for g++ < 13; the test must fail there.
#include "tree_pre_test.cpp"
