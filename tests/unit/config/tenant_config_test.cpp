// [[tenant]]: sending windows (docs/scheduling.md).
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "core/config/config.hpp"
#include "core/config/tenant_config.hpp"

using volley::parse_config;

namespace {

std::string error_of(std::string_view text) {
  auto result = parse_config(text, "volley.toml");
  REQUIRE_FALSE(result.ok());
  return result.error;
}

}  // namespace

TEST_CASE("tenant config: none by default, documented in the default file") {
  CHECK(volley::Config{}.tenants.empty());
  const auto text = volley::default_config_toml();
  for (const char* key : {"# [[tenant]]", "# send_window =", "# timezone ="}) {
    INFO(key);
    CHECK(text.find(key) != std::string::npos);
  }
}

TEST_CASE("tenant config: windows and zones are read") {
  auto result = parse_config(
      "[[tenant]]\nname = \"acme\"\nsend_window = \"08:00-20:00\"\ntimezone = \"Europe/Berlin\"\n"
      "[[tenant]]\nname = \"night\"\nsend_window = \"22:00-06:30\"\n",
      "volley.toml");
  INFO(result.error);
  REQUIRE(result.ok());
  const auto& t = result.config->tenants;
  REQUIRE(t.size() == 2);
  CHECK(t[0].name == "acme");
  CHECK(t[0].send_window == volley::schedule::SendWindow{480, 1200});
  CHECK(t[0].timezone == "Europe/Berlin");
  CHECK(t[1].send_window == volley::schedule::SendWindow{1320, 390});
  CHECK(t[1].timezone == "UTC");
}

TEST_CASE("tenant config: mistakes name file, line and key") {
  for (const char* window : {"8-20", "08:00-08:00", "08:00-24:00", "08:00 to 20:00"}) {
    INFO(window);
    CHECK(error_of(std::string("[[tenant]]\nname = \"acme\"\nsend_window = \"") + window + "\"\n")
              .find("volley.toml:3: [[tenant]] send_window") != std::string::npos);
  }
  for (const char* zone : {"../../etc/passwd", "/etc/localtime", "Europe/../UTC", "Europe Berlin", ""}) {
    INFO(zone);
    CHECK(error_of(std::string("[[tenant]]\nname = \"acme\"\nsend_window = \"08:00-20:00\"\ntimezone = \"") + zone +
                   "\"\n")
              .find("volley.toml:4: [[tenant]] timezone") != std::string::npos);
  }
  CHECK(error_of("[[tenant]]\nsend_window = \"08:00-20:00\"\n").find("name") != std::string::npos);
  CHECK(error_of("[[tenant]]\nname = \"acme\"\nsend_windw = \"08:00-20:00\"\n").find("unknown key") !=
        std::string::npos);
  CHECK(error_of("[[tenant]]\nname = \"acme\"\ntimezone = \"UTC\"\n").find("send_window") != std::string::npos);
  CHECK(error_of("[[tenant]]\nname = \"a\"\nsend_window = \"08:00-20:00\"\n[[tenant]]\nname = \"a\"\n")
            .find("configured twice") != std::string::npos);
}

TEST_CASE("tenant config: zone names as tzdata spells them") {
  using volley::config_detail::is_zone_name;
  for (const char* ok : {"UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Etc/GMT-14"})
    CHECK(is_zone_name(ok));
  for (const char* bad : {"", "/UTC", "UTC/", "a//b", "..", "a/./b", "-x", "Europe/Berlin\n", "Europe\\Berlin"})
    CHECK_FALSE(is_zone_name(bad));
}
