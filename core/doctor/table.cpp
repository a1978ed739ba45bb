#include "core/doctor/table.hpp"

#include <algorithm>

namespace volley::doctor {

namespace {

constexpr std::size_t kStatusWidth = 7, kCheckWidth = 11, kSubjectWidth = 36;

// Control bytes and non-ASCII shown as '?': a record is bytes from anywhere and must not move
// the cursor or be counted wider than it prints.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string cut(std::string s, std::size_t width) {
  if (s.size() <= width) return s;
  if (width <= 3) return s.substr(0, width);
  return s.substr(0, width - 3) + "...";
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// text broken at spaces into lines of at most width - indent columns, each after `indent`
// spaces (the first after `first` instead); a word longer than a line is split.
void wrap(std::string& out, std::string_view text, const std::string& first, std::size_t indent, std::size_t width) {
  const std::size_t room = width > indent ? width - indent : 1;
  std::string line = first;
  std::size_t used = 0;
  auto flush = [&] {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    line = std::string(indent, ' ');
    used = 0;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    std::size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(i, end - i);
    i = end;
    while (!word.empty()) {
      const std::size_t need = word.size() + (used ? 1 : 0);
      if (used + need <= room) {
        if (used) line += ' ';
        line += word;
        used += need;
        word = {};
      } else if (used == 0) {
        line += word.substr(0, room);
        word.remove_prefix(room);
        flush();
      } else {
        // A word longer than a line starts on this one rather than leave it half empty.
        if (word.size() > room && used + 2 < room) {
          const std::size_t take = room - used - 1;
          line += ' ';
          line += word.substr(0, take);
          word.remove_prefix(take);
        }
        flush();
      }
    }
  }
  if (used) flush();
}

}  // namespace

std::string render_table(const std::vector<Finding>& findings, std::size_t width) {
  const std::size_t record_col = kStatusWidth + kCheckWidth + kSubjectWidth;
  const std::size_t record_width = width > record_col + 8 ? width - record_col : 8;
  std::string out = cut(pad("STATUS", kStatusWidth) + pad("CHECK", kCheckWidth) + pad("SUBJECT", kSubjectWidth) + "RECORD",
                        width) + "\n";
  std::size_t counts[3] = {0, 0, 0};
  for (const auto& f : findings) {
    ++counts[static_cast<int>(f.status)];
    std::string head = pad(to_string(f.status), kStatusWidth) + pad(cut(printable(f.check), kCheckWidth - 1), kCheckWidth);
    const std::string subject = printable(f.subject);
    const std::string record = f.record.empty() ? "(none)" : printable(f.record);
    if (subject.size() < kSubjectWidth) {
      out += head + pad(subject, kSubjectWidth) + cut(record, record_width) + "\n";
    } else {
      // A long subject gets its own line; the record goes under it, in its column.
      wrap(out, subject, head, kStatusWidth + kCheckWidth, width);
      out += std::string(record_col, ' ') + cut(record, record_width) + "\n";
    }
    if (!f.fix.empty()) wrap(out, printable(f.fix), std::string(kStatusWidth, ' ') + "fix: ", kStatusWidth + 5, width);
  }
  out += std::to_string(counts[0]) + " ok, " + std::to_string(counts[1]) + " warn, " + std::to_string(counts[2]) +
         " fail\n";
  return out;
}

}  // namespace volley::doctor
