#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "storage/template_store.hpp"

using volley::storage::TemplateStore;
using volley::templates::StoredTemplate;

namespace {
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("volley-templates-" + std::to_string(rd()) + std::to_string(rd()));
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

StoredTemplate named(std::string name, std::string text) {
  StoredTemplate t;
  t.name = std::move(name);
  t.text = std::move(text);
  return t;
}
}  // namespace

TEST_CASE("stored templates are versioned per tenant and survive a reopen") {
  TempDir dir;
  const std::string path = (dir.path / "templates").string();
  std::string error;
  {
    auto store = TemplateStore::open(path, &error);
    REQUIRE(store);
    CHECK(store->put("acme", named("welcome", "v1"), &error)->version == 1);
    CHECK(store->put("acme", named("welcome", "v2"), &error)->version == 2);
    CHECK(store->put("acme", named("bye", "b1"), &error)->version == 1);
    CHECK(store->put("acme2", named("welcome", "other"), &error)->version == 1);
  }
  auto store = TemplateStore::open(path, &error);
  REQUIRE(store);
  CHECK(*store->get("acme", "welcome")->text == "v2");
  CHECK(*store->get("acme", "welcome", 1)->text == "v1");
  CHECK_FALSE(store->get("acme", "welcome", 3));
  CHECK(*store->get("acme2", "welcome")->text == "other");
  CHECK_FALSE(store->get("acm", "welcome"));
  CHECK_FALSE(store->get("acme", "welcom"));

  auto listed = store->list("acme", 100);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].name == "bye");
  CHECK(listed[1].name == "welcome");
  CHECK(listed[1].version == 2);
  CHECK(store->list("acme", 1).size() == 1);

  CHECK(store->remove("acme", "welcome"));
  CHECK_FALSE(store->remove("acme", "welcome"));
  CHECK_FALSE(store->get("acme", "welcome"));
  CHECK_FALSE(store->get("acme", "welcome", 1));
  CHECK(store->get("acme2", "welcome"));
  CHECK(store->put("acme", named("welcome", "again"), &error)->version == 1);
}
