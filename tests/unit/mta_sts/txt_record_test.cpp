#include "core/mta_sts/txt_record.hpp"

#include <catch2/catch.hpp>

using namespace volley::mta_sts;

TEST_CASE("sts record: the RFC 8461 example and its variants give the id") {
  CHECK(parse_sts_record("v=STSv1; id=20160831085700Z;") == "20160831085700Z");
  CHECK(parse_sts_record("v=STSv1;id=abc") == "abc");
  CHECK(parse_sts_record("v=STSv1 ;\tid = abc ; ") == "abc");
  CHECK(parse_sts_record("v=STSv1; ext=1.2-x; id=A1") == "A1");
  CHECK(parse_sts_record("v=STSv1; id=12345678901234567890123456789012") ==
        "12345678901234567890123456789012");
}

TEST_CASE("sts record: malformed records say why") {
  std::string why;
  CHECK_FALSE(parse_sts_record("v=STSv1;", &why));
  CHECK(why == "no id");
  CHECK_FALSE(parse_sts_record("v=STSv1", &why));
  CHECK(why == "no id");
  CHECK_FALSE(parse_sts_record("v=STSv1; id=", &why));
  CHECK(why.find("is not 1-32 letters and digits") != std::string::npos);
  CHECK_FALSE(parse_sts_record("v=STSv1; id=123456789012345678901234567890123", &why));
  CHECK(why.find("is not 1-32") != std::string::npos);
  CHECK_FALSE(parse_sts_record("v=STSv1; id=abc-def", &why));
  CHECK_FALSE(parse_sts_record("v=STSv1; id=a; id=b", &why));
  CHECK(why == "more than one id");
  CHECK_FALSE(parse_sts_record("v=STSv1; id=a;; x=y", &why));
  CHECK(why == "empty field");
  CHECK_FALSE(parse_sts_record("v=STSv1; id", &why));
  CHECK(why.find("not name=value") != std::string::npos);
  CHECK_FALSE(parse_sts_record("v=STSv1; id=a; _bad=1", &why));
  CHECK(why.find("malformed field") != std::string::npos);
  CHECK_FALSE(parse_sts_record("v=STSv10; id=a", &why));
  CHECK(why.find("unknown version") != std::string::npos);
  CHECK_FALSE(parse_sts_record("v=STSv2; id=a", &why));
  CHECK_FALSE(parse_sts_record(std::string("v=STSv1; id=a\0b", 15), &why));
  CHECK_FALSE(parse_sts_record("", &why));
}

TEST_CASE("sts record set: exactly one STSv1 record, other TXT records ignored") {
  std::string why;
  CHECK(sts_record_id({"v=spf1 -all", "v=STSv1; id=one"}, &why) == "one");
  CHECK_FALSE(sts_record_id({}, &why));
  CHECK(why == "no v=STSv1 record");
  CHECK_FALSE(sts_record_id({"v=spf1 -all", "hello"}, &why));
  CHECK(why == "no v=STSv1 record");
  CHECK_FALSE(sts_record_id({"v=STSv1; id=one", "v=STSv1; id=two"}, &why));
  CHECK(why.find("2 v=STSv1 records") != std::string::npos);
  // A second, broken STSv1 record still counts: two records, no policy.
  CHECK_FALSE(sts_record_id({"v=STSv1; id=one", "v=STSv1;"}, &why));
  CHECK_FALSE(sts_record_id({"v=STSv1; id=bad!"}, &why));
  CHECK(why.find("malformed v=STSv1 record") != std::string::npos);
  // A record that is only "v=stsv1" (other case) is not an STSv1 record.
  CHECK(sts_record_id({"v=stsv1; id=x", "v=STSv1; id=y"}, &why) == "y");
}
