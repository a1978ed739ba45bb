// The suppression list on a real RocksDB in a temporary directory.
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "core/suppression/address_table.hpp"
#include "storage/suppression_list.hpp"

using namespace volley::suppression;
using namespace volley::storage;

namespace {

// A fresh directory, removed afterwards.
struct TempDir {
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("volley-suppression-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
  std::filesystem::path path;
};

std::unique_ptr<SuppressionList> open_list(const TempDir& dir) {
  std::string error;
  auto list = SuppressionList::open(dir.str() + "/db", &error);
  INFO(error);
  REQUIRE(list);
  return list;
}

Entry entry(std::string tenant, std::string email, std::string reason = "hard_bounce") {
  Entry e;
  e.tenant = std::move(tenant);
  e.email = std::move(email);
  e.reason = std::move(reason);
  e.category = "bad-mailbox";
  e.source = "bounce";
  e.description = "550 5.1.1 no such user";
  return e;
}

}  // namespace

TEST_CASE("Addresses are normalised: trimmed and lower-cased, invalid ones refused", "[suppression]") {
  std::string error;
  CHECK(normalize_address("  Alice@Example.ORG\t", &error) == "alice@example.org");
  CHECK(normalize_address("\"quoted@local\"@example.org", &error) == "\"quoted@local\"@example.org");
  struct Bad {
    std::string address;
    std::string why;
  };
  for (const auto& b : {Bad{"", "empty"}, Bad{"   ", "empty"}, Bad{"no-at-sign", "no @"},
                        Bad{"@example.org", "empty local part"}, Bad{"alice@", "empty domain"},
                        Bad{"al ice@example.org", "white space"}, Bad{"a\nb@example.org", "control"},
                        Bad{"<a@example.org>", "< >"}, Bad{std::string(250, 'a') + "@b.example", "longer than 254"}}) {
    CAPTURE(b.address);
    error.clear();
    CHECK_FALSE(normalize_address(b.address, &error));
    CHECK(error.find(b.why) != std::string::npos);
  }
}

TEST_CASE("add, find, contains, remove", "[suppression]") {
  TempDir dir;
  auto list = open_list(dir);
  std::string error;

  auto e = entry("acme", " Bob@Example.org ");
  e.updated_at_ms = 1000;
  const auto first = list->add(e, true, &error);
  REQUIRE(first);
  CHECK(first->created);
  CHECK(first->entry.email == "bob@example.org");
  CHECK(first->entry.created_at_ms == 1000);
  CHECK(first->entry.updated_at_ms == 1000);

  std::string reason;
  CHECK(list->contains("acme", "BOB@example.ORG", &reason));
  CHECK(reason == "hard_bounce");
  CHECK_FALSE(list->contains("acme", "other@example.org"));
  CHECK_FALSE(list->contains("acme", "not an address"));

  const auto found = list->find("acme", "bob@EXAMPLE.org");
  REQUIRE(found);
  CHECK(*found == first->entry);

  SECTION("an update keeps created_at and changes the rest") {
    auto again = entry("acme", "bob@example.org", "complaint");
    again.source = "complaint";
    again.category = "abuse";
    again.updated_at_ms = 2000;
    const auto second = list->add(again, false, &error);
    REQUIRE(second);
    CHECK_FALSE(second->created);
    CHECK(second->entry.created_at_ms == 1000);
    CHECK(second->entry.updated_at_ms == 2000);
    CHECK(list->find("acme", "bob@example.org")->reason == "complaint");
    CHECK(list->contains("acme", "bob@example.org", &reason));
    CHECK(reason == "complaint");
    CHECK(list->size("acme") == 1);
  }
  SECTION("remove") {
    CHECK(list->remove("acme", "Bob@example.org"));
    CHECK_FALSE(list->remove("acme", "bob@example.org"));
    CHECK_FALSE(list->contains("acme", "bob@example.org"));
    CHECK_FALSE(list->find("acme", "bob@example.org"));
    CHECK(list->size("acme") == 0);
    CHECK(list->total() == 0);
  }
  SECTION("invalid entries are refused, nothing is written") {
    auto long_reason = entry("acme", "x@example.org");
    long_reason.reason = std::string(201, 'r');
    CHECK_FALSE(list->add(long_reason, true, &error));
    CHECK(error == "reason is longer than 200 bytes");
    auto long_description = entry("acme", "x@example.org");
    long_description.description = std::string(501, 'd');
    CHECK_FALSE(list->add(long_description, true, &error));
    CHECK(error == "description is longer than 500 bytes");
    CHECK_FALSE(list->add(entry("", "x@example.org"), true, &error));
    CHECK(error == "tenant is empty");
    CHECK_FALSE(list->add({entry("acme", "y@example.org"), entry("acme", "broken")}, true, &error));
    CHECK(error == "entry 1: email has no @");
    CHECK_FALSE(list->contains("acme", "y@example.org"));
    CHECK(list->total() == 1);
  }
}

TEST_CASE("Several entries in one write, a repeated address updating the earlier one", "[suppression]") {
  TempDir dir;
  auto list = open_list(dir);
  std::string error;
  auto a = entry("t", "a@example.org", "manual");
  a.updated_at_ms = 5;
  auto a_again = entry("t", "A@example.org", "complaint");
  a_again.updated_at_ms = 9;
  const auto added = list->add({a, entry("t", "b@example.org"), a_again}, true, &error);
  REQUIRE(added);
  REQUIRE(added->size() == 3);
  CHECK((*added)[0].created);
  CHECK((*added)[1].created);
  CHECK_FALSE((*added)[2].created);
  CHECK((*added)[2].entry.created_at_ms == 5);
  CHECK(list->find("t", "a@example.org")->reason == "complaint");
  CHECK(list->size("t") == 2);
}

TEST_CASE("Tenants' lists are separate", "[suppression]") {
  TempDir dir;
  auto list = open_list(dir);
  std::string error;
  REQUIRE(list->add(entry("one", "shared@example.org"), true, &error));
  REQUIRE(list->add(entry("one-more", "x@example.org"), true, &error));  // a tenant that extends "one"
  CHECK(list->contains("one", "shared@example.org"));
  CHECK_FALSE(list->contains("two", "shared@example.org"));
  CHECK_FALSE(list->find("two", "shared@example.org"));
  CHECK_FALSE(list->remove("two", "shared@example.org"));
  CHECK(list->size("one") == 1);
  CHECK(list->size("two") == 0);
  CHECK(list->total() == 2);
  const auto page = list->list("one", "", 10);
  REQUIRE(page.entries.size() == 1);
  CHECK(page.entries[0].email == "shared@example.org");
  CHECK(page.entries[0].tenant == "one");
  CHECK(list->list("two", "", 10).entries.empty());
}

TEST_CASE("list pages through a tenant's entries in address order", "[suppression]") {
  TempDir dir;
  auto list = open_list(dir);
  std::string error;
  std::vector<Entry> entries;
  for (int i = 9; i >= 0; --i) entries.push_back(entry("t", "user" + std::to_string(i) + "@example.org"));
  entries.push_back(entry("u", "user0@example.org"));
  REQUIRE(list->add(entries, true, &error));

  std::vector<std::string> seen;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    const auto page = list->list("t", cursor, 4);
    for (const auto& e : page.entries) seen.push_back(e.email);
    if (!page.next_cursor) break;
    CHECK(*page.next_cursor == page.entries.back().email);
    cursor = *page.next_cursor;
  }
  REQUIRE(seen.size() == 10);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(seen.front() == "user0@example.org");
  CHECK(list->list("t", "", 10).next_cursor == std::nullopt);  // exactly full: no more
  CHECK(list->list("t", "user9@example.org", 10).entries.empty());
}

TEST_CASE("The list survives a restart", "[suppression]") {
  TempDir dir;
  std::string error;
  Entry kept;
  {
    auto list = open_list(dir);
    const auto a = list->add(entry("acme", "gone@example.org", "complaint"), true, &error);
    REQUIRE(a);
    kept = a->entry;
    REQUIRE(list->add(entry("acme", "removed@example.org"), true, &error));
    REQUIRE(list->add(entry("other", "gone@example.org"), true, &error));
    REQUIRE(list->remove("acme", "removed@example.org"));
  }
  auto list = open_list(dir);
  CHECK(list->skipped_at_open() == 0);
  CHECK(list->total() == 2);
  CHECK(list->size("acme") == 1);
  std::string reason;
  CHECK(list->contains("acme", "gone@example.org", &reason));
  CHECK(reason == "complaint");
  CHECK_FALSE(list->contains("acme", "removed@example.org"));
  CHECK(list->find("acme", "gone@example.org") == kept);
}

TEST_CASE("open fails with an error when the path cannot be used", "[suppression]") {
  TempDir dir;
  const auto file = dir.path / "a-file";
  { std::FILE* f = std::fopen(file.c_str(), "w"); REQUIRE(f); std::fclose(f); }
  std::string error;
  CHECK_FALSE(SuppressionList::open((file / "db").string(), &error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("Readers and writers at once", "[suppression]") {
  TempDir dir;
  auto list = open_list(dir);
  std::string error;
  REQUIRE(list->add(entry("t", "always@example.org"), true, &error));
  std::atomic<bool> stop{false};
  std::atomic<int> misses{0};
  std::thread reader([&] {
    for (int i = 0; i < 100'000 && !stop.load(); ++i) {
      if (!list->contains("t", "always@example.org")) ++misses;
    }
  });
  for (int i = 0; i < 300; ++i) {
    std::string why;
    CHECK(list->add(entry("t", "w" + std::to_string(i) + "@example.org"), false, &why));
    if (i % 3 == 0) CHECK(list->remove("t", "w" + std::to_string(i) + "@example.org", false));
  }
  stop = true;
  reader.join();
  CHECK(misses == 0);
  CHECK(list->size("t") == 201);
}

TEST_CASE("AddressTable: put, overwrite, erase, growth past tombstones", "[suppression]") {
  AddressTable t;
  CHECK_FALSE(t.find("x"));
  CHECK_FALSE(t.erase("x"));
  std::set<int> live;
  for (int i = 0; i < 5000; ++i) {
    CHECK(t.put("k" + std::to_string(i), static_cast<std::uint32_t>(i)));
    live.insert(i);
    if (i % 2 == 0) {
      CHECK(t.erase("k" + std::to_string(i / 2)) == (live.erase(i / 2) == 1));
    }
  }
  CHECK_FALSE(t.put("k4999", 7));
  live.erase(4999);
  CHECK(t.find("k4999") == 7u);
  CHECK(t.size() == live.size() + 1);
  for (int i : live) CHECK(t.find("k" + std::to_string(i)) == static_cast<std::uint32_t>(i));
  CHECK_FALSE(t.find("k0"));
  CHECK(t.put(std::string(AddressTable::kMaxKey, 'z'), 1));
  CHECK(t.find(std::string(AddressTable::kMaxKey, 'z')) == 1u);
  AddressTable moved = std::move(t);
  CHECK(moved.find("k4999") == 7u);
}
