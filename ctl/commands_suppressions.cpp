// volleyctl suppressions list|add|remove|import|export: the suppression list, and CSV in and
// out. export writes the columns import reads first, so an export imports back as it was.
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ctl/commands.hpp"
#include "ctl/table.hpp"

namespace volley::ctl {

using nlohmann::json;

namespace {

constexpr std::size_t kBatch = 1000;  // the API's largest list per POST
constexpr const char* kCsvHeader = "email,reason,category,description,source,created_at,updated_at";

// One CSV record (RFC 4180: fields in double quotes may hold commas and doubled quotes).
std::vector<std::string> csv_fields(const std::string& line, std::size_t line_no, const std::string& file) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  if (quoted) throw UsageError(file + ":" + std::to_string(line_no) + ": unclosed quote");
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string tenant_query(const SuppressionArgs& a, char sep) {
  return a.tenant.empty() ? std::string() : std::string(1, sep) + "tenant=" + percent_encode(a.tenant);
}

// Every page, following next_cursor.
json all_entries(Context& ctx, const SuppressionArgs& a) {
  json all = json::array();
  std::string cursor;
  for (;;) {
    std::string target = "/api/v1/suppressions?limit=1000" + tenant_query(a, '&');
    if (!cursor.empty()) target += "&cursor=" + percent_encode(cursor);
    const json page = expect_ok(ctx.client.get(target), ctx.json);
    for (const auto& e : page.at("suppressions")) all.push_back(e);
    if (!page.contains("next_cursor") || page["next_cursor"].is_null()) return all;
    cursor = page["next_cursor"].get<std::string>();
  }
}

void post_batch(Context& ctx, const SuppressionArgs& a, json list) {
  expect_ok(ctx.client.request("POST", "/api/v1/suppressions" + tenant_query(a, '?'),
                               json{{"suppressions", std::move(list)}}.dump()),
            ctx.json);
}

void import_csv(Context& ctx, const SuppressionArgs& a) {
  std::ifstream in(a.file);
  if (!in) throw UsageError("cannot read " + a.file);
  std::string line;
  std::size_t line_no = 0, imported = 0;
  json batch = json::array();
  while (std::getline(in, line)) {
    ++line_no;
    const auto f = csv_fields(line, line_no, a.file);
    if (f[0].empty() || (line_no == 1 && f[0] == "email")) continue;  // blank line, header
    json entry = {{"email", f[0]}};
    if (f.size() > 1 && !f[1].empty()) entry["reason"] = f[1];
    if (f.size() > 2 && !f[2].empty()) entry["category"] = f[2];
    if (f.size() > 3 && !f[3].empty()) entry["description"] = f[3];
    batch.push_back(std::move(entry));
    if (batch.size() == kBatch) {
      post_batch(ctx, a, std::move(batch));
      imported += kBatch;
      batch = json::array();
    }
  }
  if (!batch.empty()) {
    imported += batch.size();
    post_batch(ctx, a, std::move(batch));
  }
  if (ctx.json) return print_raw(json{{"imported", imported}}.dump());
  std::cout << "imported " << imported << " addresses from " << a.file << "\n";
}

}  // namespace

void cmd_suppressions(Context& ctx, const SuppressionArgs& a) {
  if (a.action == "import") return import_csv(ctx, a);
  if (a.action == "add") {
    json body = {{"email", a.email}};
    if (!a.reason.empty()) body["reason"] = a.reason;
    if (!a.description.empty()) body["description"] = a.description;
    const auto r = ctx.client.request("POST", "/api/v1/suppressions" + tenant_query(a, '?'), body.dump());
    const json entry = expect_ok(r, ctx.json);
    if (ctx.json) return print_raw(r.body);
    std::cout << (r.status == 201 ? "added " : "updated ") << entry.value("email", a.email) << " ("
              << entry.value("reason", std::string()) << ")\n";
    return;
  }
  if (a.action == "remove") {
    const auto r = ctx.client.request("DELETE", "/api/v1/suppressions/" + percent_encode(a.email) + tenant_query(a, '?'));
    expect_ok(r, ctx.json);
    if (ctx.json) return print_raw(json{{"removed", a.email}}.dump());
    std::cout << "removed " << a.email << "\n";
    return;
  }
  const json all = all_entries(ctx, a);
  if (a.action == "export") {
    std::cout << kCsvHeader << "\n";
    for (const auto& e : all) {
      std::cout << csv_field(e.value("email", std::string())) << ',' << csv_field(e.value("reason", std::string())) << ','
                << csv_field(e.value("category", std::string())) << ','
                << csv_field(e.value("description", std::string())) << ',' << csv_field(e.value("source", std::string()))
                << ',' << e.value("created_at", std::int64_t{0}) << ',' << e.value("updated_at", std::int64_t{0}) << "\n";
    }
    return;
  }
  if (ctx.json) return print_raw(json{{"suppressions", all}, {"next_cursor", nullptr}}.dump());
  Table t;
  t.header = {"EMAIL", "REASON", "SOURCE", "CREATED (UTC)", "DESCRIPTION"};
  for (const auto& e : all)
    t.add({e.value("email", std::string()), e.value("reason", std::string()), e.value("source", std::string()),
           format_time(e.value("created_at", std::int64_t{0})), e.value("description", std::string())});
  std::cout << render(t) << all.size() << " entries\n";
}

}  // namespace volley::ctl
