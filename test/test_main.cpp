// The one translation unit that defines main() for every rotina test
// executable (Boost.Test, shared library variant).
#define BOOST_TEST_MODULE rotina
#include <boost/test/unit_test.hpp>
