// volley-mime-bench: the MIME tree of one message built by Volley's own builder
// (core/message/mime_builder) and by GMime 3, the same content both ways, runs interleaved:
// a text part and an html part (UTF-8, so quoted-printable) in multipart/alternative, and one
// binary attachment (base64), in multipart/mixed; about 10 KiB in all by default. Prints the
// median time per message of each over --rounds rounds, and the output sizes.
//   volley-mime-bench [--messages N] [--rounds R] [--html-bytes B] [--text-bytes B] [--attachment-bytes B] [--print]
// Build it Release (see loadtest/README.md): a Debug/sanitizer build measures the sanitizer.
#include <gmime/gmime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "core/message/mime_builder.hpp"

namespace {

// This thread's CPU time: the figure stays meaningful on a loaded machine (wall time is printed
// too).
double cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}
using Clock = std::chrono::steady_clock;

// Prose with some non-ASCII letters, as a newsletter in German or Portuguese has.
std::string prose(std::size_t bytes, bool html) {
  static const char* kWords[] = {"Grüße", "the", "newsletter", "für", "você", "spring", "offers", "and",
                                 "Straße", "price", "naïve", "café", "order", "today", "a", "of"};
  std::mt19937 rng(42);
  std::string out = html ? "<html><body><p>" : "";
  std::size_t line = 0;
  while (out.size() < bytes) {
    const std::string w = kWords[rng() % 16];
    out += w;
    line += w.size() + 1;
    if (line > 70) {
      out += html ? "</p>\n<p>" : "\n";
      line = 0;
    } else {
      out += ' ';
    }
  }
  if (html) out += "</p></body></html>\n";
  return out;
}

// The text and html live here; the MimeContent views them (as it views the request's JSON).
std::string text_storage;
std::string html_storage;

volley::message::MimeContent content(std::size_t text_bytes, std::size_t html_bytes, std::size_t attachment_bytes) {
  volley::message::MimeContent c;
  text_storage = prose(text_bytes, false);
  html_storage = prose(html_bytes, true);
  c.text = text_storage;
  c.html = html_storage;
  volley::message::AttachmentPart a;
  a.filename = "invoice.pdf";
  a.content_type = "application/pdf";
  std::mt19937 rng(7);
  a.data.resize(attachment_bytes);
  for (auto& ch : a.data) ch = static_cast<char>(rng());
  c.attachments.push_back(std::move(a));
  return c;
}

std::string ours_text(const volley::message::MimeContent& c) {
  const auto e = volley::message::build_mime(c);
  return e.headers + "\r\n" + e.body;
}

std::size_t build_ours(const volley::message::MimeContent& c) {
  const auto e = volley::message::build_mime(c);
  return e.headers.size() + 2 + e.body.size();
}

GMimeTextPart* gmime_text(const char* subtype, const std::string& text) {
  GMimeTextPart* part = g_mime_text_part_new_with_subtype(subtype);
  g_mime_text_part_set_text(part, text.c_str());  // UTF-8: charset=utf-8, encoding chosen below
  g_mime_part_set_content_encoding(GMIME_PART(part),
                                   g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT));
  return part;
}

std::size_t build_gmime(const volley::message::MimeContent& c, GMimeFormatOptions* crlf, std::string* printed = nullptr) {
  GMimeMultipart* alternative = g_mime_multipart_new_with_subtype("alternative");
  // GMime wants C strings: the storage c.text and c.html view (no copy timed that ours has not).
  GMimeTextPart* text = gmime_text("plain", text_storage);
  GMimeTextPart* html = gmime_text("html", html_storage);
  g_mime_multipart_add(alternative, GMIME_OBJECT(text));
  g_mime_multipart_add(alternative, GMIME_OBJECT(html));
  g_object_unref(text);
  g_object_unref(html);

  const auto& a = c.attachments.front();
  GMimePart* attachment = g_mime_part_new_with_type("application", "pdf");
  g_mime_part_set_filename(attachment, a.filename.c_str());
  GMimeStream* data = g_mime_stream_mem_new_with_buffer(a.data.data(), a.data.size());
  GMimeDataWrapper* wrapper = g_mime_data_wrapper_new_with_stream(data, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(attachment, wrapper);
  g_mime_part_set_content_encoding(attachment, GMIME_CONTENT_ENCODING_BASE64);
  g_object_unref(wrapper);
  g_object_unref(data);

  GMimeMultipart* mixed = g_mime_multipart_new_with_subtype("mixed");
  g_mime_multipart_add(mixed, GMIME_OBJECT(alternative));
  g_mime_multipart_add(mixed, GMIME_OBJECT(attachment));
  g_object_unref(alternative);
  g_object_unref(attachment);

  char* out = g_mime_object_to_string(GMIME_OBJECT(mixed), crlf);
  const std::size_t size = std::strlen(out);
  if (printed) *printed = out;
  g_free(out);
  g_object_unref(mixed);
  return size;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t messages = 20000, rounds = 7, text_bytes = 3 * 1024, html_bytes = 5 * 1024, attachment_bytes = 2 * 1024;
  bool print = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--print") {  // both outputs once, to compare them by eye
      print = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", k.c_str());
      return 2;
    }
    const std::size_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (k == "--messages") messages = v;
    else if (k == "--rounds") rounds = v;
    else if (k == "--text-bytes") text_bytes = v;
    else if (k == "--html-bytes") html_bytes = v;
    else if (k == "--attachment-bytes") attachment_bytes = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  g_mime_init();
  GMimeFormatOptions* crlf = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(crlf, GMIME_NEWLINE_FORMAT_DOS);
  const auto c = content(text_bytes, html_bytes, attachment_bytes);
  if (print) {
    std::string g;
    build_gmime(c, crlf, &g);
    std::printf("=== volley\n%s\n=== gmime\n%s\n", ours_text(c).c_str(), g.c_str());
    return 0;
  }

  std::vector<double> ours_cpu, gmime_cpu, ours_wall, gmime_wall;
  std::size_t ours_size = 0, gmime_size = 0;
  const auto per = [&](double us) { return us / static_cast<double>(messages); };
  for (std::size_t r = 0; r < rounds; ++r) {  // interleaved: both see the same machine
    const auto w0 = Clock::now();
    const double c0 = cpu_us();
    for (std::size_t i = 0; i < messages; ++i) ours_size = build_ours(c);
    const auto w1 = Clock::now();
    const double c1 = cpu_us();
    for (std::size_t i = 0; i < messages; ++i) gmime_size = build_gmime(c, crlf);
    const auto w2 = Clock::now();
    const double c2 = cpu_us();
    ours_cpu.push_back(per(c1 - c0));
    gmime_cpu.push_back(per(c2 - c1));
    ours_wall.push_back(per(std::chrono::duration<double, std::micro>(w1 - w0).count()));
    gmime_wall.push_back(per(std::chrono::duration<double, std::micro>(w2 - w1).count()));
  }
  const double o = median(ours_cpu), g = median(gmime_cpu);
  std::printf("content: text %zu B, html %zu B, attachment %zu B; %zu messages x %zu rounds\n", text_bytes,
              html_bytes, attachment_bytes, messages, rounds);
  std::printf("volley mime_builder: %.2f us CPU/message (median; wall %.2f us), %zu B out\n", o, median(ours_wall),
              ours_size);
  std::printf("gmime 3            : %.2f us CPU/message (median; wall %.2f us), %zu B out\n", g, median(gmime_wall),
              gmime_size);
  std::printf("gmime / volley     : %.2fx CPU\n", g / o);
  g_mime_format_options_free(crlf);
  g_mime_shutdown();
  return 0;
}
