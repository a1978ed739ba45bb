#include "ctl/table.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <cstdio>

namespace volley::ctl {

namespace {

constexpr std::size_t kGap = 2;
constexpr std::size_t kMinColumn = 4;

std::string printable(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::string cut(const std::string& s, std::size_t width) {
  if (s.size() <= width) return s;
  return s.substr(0, width - 1) + "~";
}

}  // namespace

std::string render(const Table& t, std::size_t width) {
  const std::size_t cols = t.header.size();
  std::vector<std::size_t> w(cols, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < cols && i < row.size(); ++i) w[i] = std::max(w[i], row[i].size());
  };
  measure(t.header);
  for (const auto& r : t.rows) measure(r);
  auto total = [&] {
    std::size_t sum = cols ? kGap * (cols - 1) : 0;
    for (auto x : w) sum += x;
    return sum;
  };
  while (total() > width) {
    auto widest = std::max_element(w.begin(), w.end());
    if (*widest <= kMinColumn) break;
    --*widest;
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    std::string l;
    for (std::size_t i = 0; i < cols; ++i) {
      std::string cell = cut(printable(i < row.size() ? row[i] : ""), w[i]);
      const bool right = i < t.numeric.size() && t.numeric[i];
      const std::string pad(w[i] - cell.size(), ' ');
      if (i) l += std::string(kGap, ' ');
      l += right ? pad + cell : cell + pad;
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(t.header);
  for (const auto& r : t.rows) line(r);
  return out;
}

std::string format_age(std::int64_t s) {
  if (s < 0) s = 0;
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400), static_cast<long long>(s % 86400 / 3600));
  }
  return buf;
}

std::string format_time(std::int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string format_rate(double r) {
  if (!(r > 0)) return "0";
  char buf[32];
  if (r >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", r);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f", r);
    std::string s = buf;
    if (s.size() > 2 && s.substr(s.size() - 2) == ".0") s.resize(s.size() - 2);
    return s;
  }
  return buf;
}

}  // namespace volley::ctl
