// What every command shares (the daemon's answers, event lines), and the commands that read
// events: message and events.
#include <iostream>

#include <nlohmann/json.hpp>

#include "ctl/commands.hpp"
#include "ctl/table.hpp"

namespace volley::ctl {

using nlohmann::json;

json expect_ok(const Response& r, bool print_json_error) {
  if (r.status >= 200 && r.status < 300) {
    if (r.body.empty()) return json::object();
    return json::parse(r.body);
  }
  if (print_json_error && !r.body.empty()) print_raw(r.body);
  std::string message = "the daemon answered " + std::to_string(r.status);
  const auto j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& err = j["error"];
    message += " " + err.value("code", std::string()) + ": " + err.value("message", std::string());
    if (!err.value("field", std::string()).empty()) message += " (field " + err.value("field", std::string()) + ")";
  }
  throw Refused(message);
}

void print_raw(const std::string& body) {
  std::cout << body;
  if (body.empty() || body.back() != '\n') std::cout << '\n';
  std::cout.flush();
}

std::vector<std::string> event_row(const json& e) {
  std::string detail = e.value("reply", std::string());
  if (!e.value("mx_host", std::string()).empty()) detail = e.value("mx_host", std::string()) + " " + detail;
  if (!e.value("category", std::string()).empty()) detail = "[" + e.value("category", std::string()) + "] " + detail;
  return {format_time(e.value("at", std::int64_t{0})), e.value("event", std::string()), e.value("id", std::string()),
          e.value("recipient", std::string()), detail};
}

namespace {

Table event_table() {
  Table t;
  t.header = {"TIME (UTC)", "EVENT", "ID", "RECIPIENT", "DETAIL"};
  return t;
}

}  // namespace

void cmd_message(Context& ctx, const std::string& id) {
  if (id.empty() || id.find_first_of("/?#%") != std::string::npos) throw UsageError("not a message id: " + id);
  const auto status = ctx.client.get("/api/v1/messages/" + id);
  const json s = expect_ok(status, ctx.json);
  const auto events = ctx.client.get("/api/v1/events?limit=10000&id=" + percent_encode(id));
  const json ev = expect_ok(events, ctx.json);
  if (ctx.json) {
    print_raw(json{{"status", s}, {"events", ev.at("events")}}.dump());
    return;
  }
  const json recipients = s.contains("recipients") ? s["recipients"] : json::array({s});
  Table t;
  t.header = {"RECIPIENT ID", "RECIPIENT", "STATUS", "TRIES", "UPDATED (UTC)", "REPLY"};
  t.numeric = {false, false, false, true};
  for (const auto& r : recipients) {
    std::string reply = r.value("reply", r.value("last_reply", std::string()));
    t.add({r.value("id", std::string()), r.value("recipient", std::string()), r.value("status", std::string()),
           std::to_string(r.value("attempts", 0)), format_time(r.value("updated_at", std::int64_t{0})), reply});
  }
  std::cout << "message " << s.value("message_id", s.value("id", std::string())) << " (tenant "
            << s.value("tenant", std::string()) << ")\n\n"
            << render(t) << "\n";
  Table e = event_table();
  for (const auto& line : ev.at("events")) e.add(event_row(line));
  if (e.rows.empty()) {
    std::cout << "no events in the daemon's memory (its last 10,000); older ones are in the event log\n";
  } else {
    std::cout << render(e);
  }
}

void cmd_events(Context& ctx, const EventsArgs& a) {
  std::string query;
  auto param = [&](const char* name, const std::string& value) {
    if (!value.empty()) query += std::string(query.empty() ? "?" : "&") + name + "=" + percent_encode(value);
  };
  std::string types;
  for (const auto& t : a.types) types += (types.empty() ? "" : ",") + t;
  param("type", types);
  param("domain", a.domain);
  param("id", a.id);
  if (!a.follow) {
    param("limit", std::to_string(a.limit));
    const auto r = ctx.client.get("/api/v1/events" + query);
    const json body = expect_ok(r, ctx.json);
    if (ctx.json) return print_raw(r.body);
    Table t = event_table();
    for (const auto& e : body.at("events")) t.add(event_row(e));
    std::cout << render(t);
    return;
  }
  param("follow", "1");
  std::uint64_t seen = 0;
  const auto r = ctx.client.stream_lines(
      "/api/v1/events" + query,
      [&] { std::cerr << "volleyctl: following events at " << ctx.client.url_text() << " (Ctrl-C stops)" << std::endl; },
      [&](std::string_view line) {
        if (ctx.json) {
          std::cout << line << std::endl;
        } else {
          const auto e = json::parse(line, nullptr, false);
          if (e.is_discarded()) return true;
          // Columns of a stream cannot be measured ahead: fixed widths, the detail last.
          const auto row = event_row(e);
          char head[160];
          std::snprintf(head, sizeof head, "%-19s  %-12s  %-28s  %-30s  ", row[0].c_str(), row[1].c_str(), row[2].c_str(),
                        row[3].c_str());
          std::string out = std::string(head) + row[4];
          if (out.size() > kWidth) out.resize(kWidth);
          for (auto& c : out)
            if (static_cast<unsigned char>(c) < 0x20) c = '?';
          std::cout << out << std::endl;
        }
        return a.count == 0 || ++seen < a.count;
      });
  if (r.status != 200) expect_ok(r, ctx.json);
}

}  // namespace volley::ctl
