// rotina::error identity, after Go's errors package (errors_test.go
// TestNewEqual, wrap_test.go TestIs, TestUnwrap): distinct errors differ,
// sentinels keep their identity through wrapping and through serialization
// (caf::error and CAF's binary serializer, as between nodes).
#include "rotina/error.hpp"

#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "rotina/runtime.hpp"
#include "test_util.hpp"

using namespace rotina;
namespace utf = boost::unit_test;

namespace {

inline const error not_found
  = make_sentinel("rotina.test.not_found", "not found");
inline const error permission = make_sentinel("rotina.test.permission");
// Same text as not_found, another identity.
inline const error not_found_too
  = make_sentinel("rotina.test.not_found_too", "not found");

} // namespace

BOOST_AUTO_TEST_SUITE(error_suite, *utf::timeout(60))

// Go's TestNewEqual: different errors are not equal. rotina: by value.
BOOST_AUTO_TEST_CASE(distinct_user_errors_are_not_equal) {
  error a{errc::failed, "a"};
  error b{errc::failed, "b"};
  BOOST_CHECK(!(a == b));
  BOOST_CHECK(a == a);
  BOOST_CHECK(a == (error{errc::failed, "a", "elsewhere"})); // origin: where
  BOOST_CHECK(a == errc::failed);
  BOOST_CHECK(b == errc::failed);
  BOOST_CHECK(error{errc::canceled}
              == (error{errc::canceled, "context canceled"}));
  BOOST_CHECK(!(error{} == a));
  BOOST_CHECK(error{} == error{});
}

BOOST_AUTO_TEST_CASE(sentinels_have_identity_by_their_registered_name) {
  error copy = not_found;
  BOOST_CHECK(copy == not_found);
  BOOST_CHECK(copy.sentinel());
  BOOST_CHECK_EQUAL(copy.sentinel_name(), "rotina.test.not_found");
  BOOST_CHECK_EQUAL(copy.message(), "not found");
  BOOST_CHECK_EQUAL(permission.message(), "rotina.test.permission");
  BOOST_CHECK(!(not_found == not_found_too)); // same text, other sentinel
  BOOST_CHECK(!(not_found == (error{errc::failed, "not found"})));
  BOOST_CHECK(!is(error{errc::failed, "not found"}, not_found));
  try {
    (void)make_sentinel("rotina.test.not_found");
    BOOST_FAIL("a sentinel name registered twice did not panic");
  } catch (const panic_error& e) {
    BOOST_CHECK(e.err() == errc::misuse);
    BOOST_CHECK_EQUAL(std::string{e.what()},
                      "rotina: sentinel error \"rotina.test.not_found\" "
                      "declared twice");
  }
  BOOST_CHECK_THROW((void)make_sentinel(""), panic_error);
}

// Go's TestIs and TestUnwrap: errors.Is walks the chain of %w wrappers.
BOOST_AUTO_TEST_CASE(is_walks_wrapped_errors_and_unwrap_peels_one_layer) {
  auto inner = wrap(not_found, "open config: %w");
  auto outer = wrap(inner, "start: %w");
  BOOST_CHECK_EQUAL(inner.message(), "open config: not found");
  BOOST_CHECK_EQUAL(outer.message(), "start: open config: not found");
  BOOST_CHECK(is(outer, not_found));
  BOOST_CHECK(is(outer, inner));
  BOOST_CHECK(is(outer, outer));
  BOOST_CHECK(!is(outer, permission));
  BOOST_CHECK(!is(outer, not_found_too));
  BOOST_CHECK(!(outer == not_found)); // == does not look through wrapping
  BOOST_CHECK(outer.unwrap() == inner);
  BOOST_CHECK(outer.unwrap().unwrap() == not_found);
  BOOST_CHECK(!outer.unwrap().unwrap().unwrap());
  BOOST_CHECK(!not_found.unwrap());
  // The wrapper keeps the code, so code checks see through it.
  auto canceled = wrap(error{errc::canceled}, "fetch: %w");
  BOOST_CHECK(canceled == errc::canceled);
  BOOST_CHECK(is(canceled, errc::canceled));
  BOOST_CHECK(is(canceled, error{errc::canceled}));
  BOOST_CHECK_EQUAL(canceled.message(), "fetch: context canceled");
  // Without %w the wrapped text follows a colon; empty stays empty.
  BOOST_CHECK_EQUAL(wrap(not_found, "lookup").message(), "lookup: not found");
  BOOST_CHECK(!wrap(error{}, "x: %w"));
  // errors.Is(nil, nil) is true; errors.Is(err, nil) false.
  BOOST_CHECK(is(error{}, error{}));
  BOOST_CHECK(!is(outer, error{}));
  BOOST_CHECK(!is(error{}, not_found));
}

// Errors must cross nodes: the caf::error encoding (exit reasons) and CAF's
// binary serializer (BASP) keep the code, text, origin, sentinel name and
// chain, so is() holds on the receiving side.
BOOST_AUTO_TEST_CASE(identity_and_chain_survive_serialization) {
  auto err = wrap(wrap(not_found.with_origin("node-a"), "read %w"), "job: %w")
               .with_origin("goroutine-7");
  auto back = from_caf_error(to_caf_error(err));
  BOOST_CHECK(back == err);
  BOOST_CHECK(is(back, not_found));
  BOOST_CHECK(!is(back, permission));
  BOOST_CHECK_EQUAL(back.to_string(), err.to_string());
  BOOST_CHECK_EQUAL(back.unwrap().unwrap().origin(), "node-a");
  BOOST_CHECK(back.unwrap().unwrap().sentinel());
  // A plain error still round-trips as before.
  auto plain = from_caf_error(to_caf_error(error{errc::misuse, "m", "o"}));
  BOOST_CHECK(plain == errc::misuse);
  BOOST_CHECK_EQUAL(plain.to_string(), "o: m");

  runtime rt{test::opts()};
  std::vector<char> buf;
  {
    caf::binary_serializer sink{rt.system(), buf};
    auto cerr = to_caf_error(err);
    auto copy = err;
    BOOST_REQUIRE(!sink(cerr, copy));
  }
  caf::binary_deserializer source{rt.system(), buf};
  caf::error cerr;
  error direct;
  BOOST_REQUIRE(!source(cerr, direct));
  BOOST_CHECK(is(from_caf_error(cerr), not_found));
  BOOST_CHECK(direct == err);
  BOOST_CHECK(is(direct, not_found));
  BOOST_CHECK_EQUAL(direct.origin(), "goroutine-7");
}

BOOST_AUTO_TEST_SUITE_END()
