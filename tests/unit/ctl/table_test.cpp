// volleyctl's human output and its --url: tables that align and fit 100 columns, short ages.
#include <catch2/catch.hpp>

#include "ctl/errors.hpp"
#include "ctl/http.hpp"
#include "ctl/table.hpp"

using namespace volley::ctl;

TEST_CASE("a table aligns its columns, numbers to the right, without trailing spaces", "[ctl]") {
  Table t;
  t.header = {"DOMAIN", "QUEUED", "STATE"};
  t.numeric = {false, true, false};
  t.add({"gmail.com", "1200", "active"});
  t.add({"x.test", "7", ""});
  CHECK(render(t) ==
        "DOMAIN     QUEUED  STATE\n"
        "gmail.com    1200  active\n"
        "x.test          7\n");
}

TEST_CASE("a table wider than 100 columns cuts its widest column, and shows no control characters", "[ctl]") {
  Table t;
  t.header = {"ID", "REPLY"};
  t.add({"abc", std::string(300, 'r')});
  t.add({"e\x1b[2Jvil", "ok"});
  const auto out = render(t);
  for (std::size_t start = 0, nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) CHECK(nl - start <= 100);
  CHECK(out.find(std::string(89, 'r') + "~\n") != std::string::npos);
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find("e?[2Jvil") != std::string::npos);
}

TEST_CASE("ages, times and rates in their short forms", "[ctl]") {
  CHECK(format_age(0) == "0s");
  CHECK(format_age(75) == "1m15s");
  CHECK(format_age(7260) == "2h01m");
  CHECK(format_age(190000) == "2d04h");
  CHECK(format_time(0) == "-");
  CHECK(format_time(1796543999000) == "2026-12-06 07:59:59");
  CHECK(format_rate(0) == "0");
  CHECK(format_rate(2.5) == "2.5");
  CHECK(format_rate(3.0) == "3");
  CHECK(format_rate(1234.4) == "1234");
}

TEST_CASE("the --url option takes http[s]://host:port[/prefix] and refuses the rest", "[ctl]") {
  const auto u = parse_url("http://127.0.0.1:8025");
  CHECK(!u.tls);
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 8025);
  CHECK(u.base.empty());
  const auto v6 = parse_url("http://[::1]:9000/volley/");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 9000);
  CHECK(v6.base == "/volley");
  CHECK(parse_url("http://mta.example").port == 80);
  CHECK(v6.text() == "http://[::1]:9000/volley");
  const auto tls = parse_url("https://mta.example/");
  CHECK(tls.tls);
  CHECK(tls.port == 443);
  CHECK(tls.text() == "https://mta.example:443");
  CHECK(parse_url("https://mta.example:8443").port == 8443);
  CHECK_THROWS_AS(parse_url("ftp://mta.example"), UsageError);
  CHECK_THROWS_AS(parse_url("https://"), UsageError);
  CHECK_THROWS_AS(parse_url("127.0.0.1:8025"), UsageError);
  CHECK_THROWS_AS(parse_url("http://host:99999"), UsageError);
  CHECK_THROWS_AS(parse_url("http://:80"), UsageError);
}

TEST_CASE("percent-encoding keeps unreserved characters only", "[ctl]") {
  CHECK(percent_encode("a+b@x.test") == "a%2Bb%40x.test");
  CHECK(percent_encode("~_-.") == "~_-.");
}
