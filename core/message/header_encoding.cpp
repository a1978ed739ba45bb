#include "core/message/header_encoding.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/message/transfer_encoding.hpp"
#include "core/message/utf8.hpp"

namespace volley::message {

namespace {

// The smallest unit a field is folded around: the whitespace before it (where a fold may go)
// and the text itself.
struct Atom {
  std::string ws;
  std::string text;
};

// "=?utf-8?B?" + 60 base64 characters + "?=" is 72 columns: inside RFC 2047's 75.
constexpr std::size_t kEncodedChunk = 45;
// A plain word this long could not share a line with a field name, so it is encoded instead.
constexpr std::size_t kMaxPlainWord = 700;

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// Raw octets for the first encoded word of a field, so that "Name: " plus that word still
// fits the fold column (later words can always start a line of their own).
std::size_t first_chunk_budget(std::string_view field_name) {
  constexpr std::size_t kWrapping = 12;  // "=?utf-8?B?" and "?="
  std::size_t used = field_name.size() + 2 + kWrapping;
  if (used + 8 > kFoldColumn) return 4;  // a long name: one character, as short as it gets
  return std::min(kEncodedChunk, (kFoldColumn - used) / 4 * 3);
}

// Splits UTF-8 text into encoded words, never cutting a character; whitespace between encoded
// words is ignored by readers, so the chunks are joined by single spaces.
void append_encoded_words(std::vector<Atom>& atoms, std::string ws, std::string_view text,
                          std::size_t first_budget = kEncodedChunk) {
  std::size_t i = 0;
  std::size_t budget = first_budget;
  while (i < text.size()) {
    std::size_t end = i;
    while (end < text.size()) {
      std::size_t len = utf8_sequence_length(static_cast<unsigned char>(text[end]));
      if (end + len - i > budget) break;
      end += len;
    }
    budget = kEncodedChunk;
    if (end == i) end = std::min(text.size(), i + utf8_sequence_length(static_cast<unsigned char>(text[i])));
    atoms.push_back({std::move(ws), "=?utf-8?B?" + base64_encode(text.substr(i, end - i)) + "?="});
    ws = " ";
    i = end;
  }
}

bool looks_like_encoded_word(std::string_view w) {
  return w.find("=?") != std::string_view::npos && w.find("?=") != std::string_view::npos;
}

// `ws` is the whitespace before `word`: a fold can only go in front of it, so the two start a
// continuation line together and must fit one as a plain word.
bool needs_encoding(std::string_view ws, std::string_view word) {
  return !is_ascii(word) || looks_like_encoded_word(word) || ws.size() + word.size() > kMaxPlainWord;
}

// Every atom but the first carries non-empty whitespace, so a fold can go before any of them.
std::string fold(std::string_view name, const std::vector<Atom>& atoms) {
  std::string out(name);
  out += ':';
  std::size_t col = out.size();
  for (std::size_t i = 0; i < atoms.size(); ++i) {
    std::string_view ws = i == 0 ? std::string_view(" ") : std::string_view(atoms[i].ws);
    if (i > 0 && col + ws.size() + atoms[i].text.size() > kFoldColumn) {
      out += "\r\n";
      col = 0;
    }
    out += ws;
    out += atoms[i].text;
    col += ws.size() + atoms[i].text.size();
  }
  out += "\r\n";
  return out;
}

bool is_atext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

// A display name that can go out as bare atoms: atext words separated by single spaces.
bool is_plain_phrase(std::string_view name) {
  if (name.empty() || name.front() == ' ' || name.back() == ' ') return false;
  if (name.find("  ") != std::string_view::npos || looks_like_encoded_word(name)) return false;
  for (char ch : name)
    if (ch != ' ' && !is_atext(static_cast<unsigned char>(ch))) return false;
  return true;
}

void append_display_name(std::vector<Atom>& atoms, std::string_view name, std::string ws,
                         std::size_t first_budget) {
  if (!is_ascii(name) || looks_like_encoded_word(name)) {
    append_encoded_words(atoms, std::move(ws), name, atoms.empty() ? first_budget : kEncodedChunk);
    return;
  }
  if (is_plain_phrase(name)) {
    std::size_t i = 0;
    while (i <= name.size()) {
      std::size_t sp = name.find(' ', i);
      if (sp == std::string_view::npos) sp = name.size();
      atoms.push_back({std::move(ws), std::string(name.substr(i, sp - i))});
      ws = " ";
      i = sp + 1;
    }
    return;
  }
  std::string quoted = "\"";
  for (char ch : name) {
    if (ch == '"' || ch == '\\') quoted += '\\';
    quoted += ch;
  }
  quoted += '"';
  atoms.push_back({std::move(ws), std::move(quoted)});
}

bool is_attribute_char(unsigned char c) {  // RFC 2231 attribute-char, minus the risky '%' '*' '\''
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

std::string unstructured_field(std::string_view name, std::string_view value) {
  while (!value.empty() && is_wsp(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_wsp(value.back())) value.remove_suffix(1);

  // Words and the whitespace before each; consecutive words that need encoding are encoded as
  // one run, the whitespace between them travelling inside the encoded text. So does all but the
  // first WSP in front of a run: that whitespace would otherwise open the continuation line of a
  // fold before the run, pushing a full-length encoded word past the fold column.
  std::vector<Atom> atoms;
  std::string run;  // text of the current run of words to encode
  std::string run_ws;
  bool in_run = false;
  std::size_t i = 0;
  auto flush_run = [&] {
    if (in_run) append_encoded_words(atoms, run_ws, run, atoms.empty() ? first_chunk_budget(name) : kEncodedChunk);
    in_run = false;
    run.clear();
  };
  while (i < value.size()) {
    std::size_t ws_end = i;
    while (ws_end < value.size() && is_wsp(value[ws_end])) ++ws_end;
    std::size_t word_end = ws_end;
    while (word_end < value.size() && !is_wsp(value[word_end])) ++word_end;
    std::string_view ws = value.substr(i, ws_end - i);
    std::string_view word = value.substr(ws_end, word_end - ws_end);
    if (needs_encoding(ws, word)) {
      if (!in_run) {
        in_run = true;
        run_ws = std::string(ws.substr(0, 1));
        ws.remove_prefix(run_ws.size());
      }
      run += ws;
      run += word;
    } else {
      flush_run();
      atoms.push_back({std::string(ws), std::string(word)});
    }
    i = word_end;
  }
  flush_run();
  return fold(name, atoms);
}

std::string address_list_field(std::string_view name, const std::vector<Mailbox>& boxes) {
  std::vector<Atom> atoms;
  for (std::size_t b = 0; b < boxes.size(); ++b) {
    const Mailbox& box = boxes[b];
    std::string addr = box.address();
    if (!box.display_name.empty()) {
      append_display_name(atoms, box.display_name, " ", first_chunk_budget(name));
      addr = "<" + addr + ">";
    }
    if (b + 1 < boxes.size()) addr += ',';
    atoms.push_back({" ", std::move(addr)});
  }
  return fold(name, atoms);
}

std::vector<std::string> mime_parameter(std::string_view attr, std::string_view value) {
  constexpr std::size_t kMaxQuoted = 60;
  bool plain = is_ascii(value) && value.size() <= kMaxQuoted;
  for (char ch : value)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) plain = false;
  if (plain) {
    std::string out(attr);
    out += "=\"";
    for (char ch : value) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
    return {out};
  }
  // RFC 2231 extended value, percent-encoded; sections of about 60 characters, never cutting
  // a %XX triplet (sections are decoded after joining, so cutting a UTF-8 character is fine).
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::vector<std::string> pieces;  // encoded octets
  pieces.reserve(value.size());
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (is_attribute_char(c))
      pieces.emplace_back(1, ch);
    else
      pieces.push_back({'%', kHex[c >> 4], kHex[c & 15]});
  }
  std::vector<std::string> sections;
  std::string cur = "utf-8''";
  for (const auto& p : pieces) {
    if (cur.size() + p.size() > kMaxQuoted) {
      sections.push_back(std::move(cur));
      cur.clear();
    }
    cur += p;
  }
  sections.push_back(std::move(cur));
  std::vector<std::string> out;
  if (sections.size() == 1) {
    out.push_back(std::string(attr) + "*=" + sections[0]);
    return out;
  }
  for (std::size_t k = 0; k < sections.size(); ++k)
    out.push_back(std::string(attr) + "*" + std::to_string(k) + "*=" + sections[k]);
  return out;
}

std::string field_with_parameters(std::string_view name, std::string_view value,
                                  const std::vector<std::string>& params) {
  std::string out(name);
  out += ": ";
  out += value;
  std::size_t col = out.size();
  for (const auto& p : params) {
    out += ';';
    ++col;
    if (col + 1 + p.size() > kFoldColumn) {
      out += "\r\n";
      col = 0;
    }
    out += ' ';
    out += p;
    col += 1 + p.size();
  }
  out += "\r\n";
  return out;
}

std::string rfc5322_date(std::int64_t unix_seconds) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace volley::message
