// Inline images (attachments with a content_id): the request's rules, and the MIME tree the
// builder makes read back by GMime, an independent parser: multipart/related (RFC 2387) around
// the html, each image with its Content-ID and its bytes intact.
#include <gmime/gmime.h>

#include <mutex>
#include <string>
#include <vector>

#include "message_test_support.hpp"

using namespace volley::test;

namespace {

struct Node {
  std::string type;           // "multipart/related"
  std::string related_type;   // multipart/related's type= parameter
  std::string content_id;     // without <>
  std::string disposition;    // "inline", "attachment", "" when absent
  std::string filename;
  std::string data;           // decoded content of a leaf
  std::vector<Node> children;
};

std::string describe(const Node& n) {
  if (n.children.empty()) return n.type;
  std::string s = n.type + "[";
  for (std::size_t i = 0; i < n.children.size(); ++i) s += (i ? "," : "") + describe(n.children[i]);
  return s + "]";
}

Node read_node(GMimeObject* obj) {
  Node n;
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  n.type = std::string(g_mime_content_type_get_media_type(ct)) + "/" + g_mime_content_type_get_media_subtype(ct);
  if (const char* t = g_mime_content_type_get_parameter(ct, "type")) n.related_type = t;
  if (const char* cid = g_mime_object_get_content_id(obj)) n.content_id = cid;
  if (GMimeContentDisposition* d = g_mime_object_get_content_disposition(obj))
    n.disposition = g_mime_content_disposition_get_disposition(d);
  if (GMIME_IS_MULTIPART(obj)) {
    auto* mp = GMIME_MULTIPART(obj);
    for (int i = 0; i < g_mime_multipart_get_count(mp); ++i) n.children.push_back(read_node(g_mime_multipart_get_part(mp, i)));
  } else if (GMIME_IS_PART(obj)) {
    auto* part = GMIME_PART(obj);
    if (const char* f = g_mime_part_get_filename(part)) n.filename = f;
    GMimeStream* out = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(part), out);
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    n.data.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
    g_object_unref(out);
  }
  return n;
}

// The message's MIME tree as GMime parses it.
Node parse_with_gmime(const std::string& message) {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(message.data(), message.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* parsed = g_mime_parser_construct_message(parser, nullptr);
  REQUIRE(parsed != nullptr);
  Node root = read_node(g_mime_message_get_mime_part(parsed));
  g_object_unref(parsed);
  g_object_unref(parser);
  g_object_unref(stream);
  return root;
}

const std::string kPng = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(300, '\xff');

json image(const std::string& cid, const std::string& name = "logo.png") {
  return {{"filename", name}, {"content_type", "image/png"}, {"content", base64_encode(kPng)}, {"content_id", cid}};
}

json html_message() {
  return {{"from", "app@example.com"},
          {"to", "ana@example.net"},
          {"subject", "Welcome"},
          {"html", "<p>Hello <img src=\"cid:logo@example.com\"></p>\n"}};
}

}  // namespace

TEST_CASE("an inline image makes the html multipart/related, read back by GMime") {
  json r = html_message();
  r["attachments"] = {image("logo@example.com")};
  const Node root = parse_with_gmime(prepared(r).message);
  CHECK(describe(root) == "multipart/related[text/html,image/png]");
  CHECK(root.related_type == "text/html");
  CHECK(root.children[0].data.find("cid:logo@example.com") != std::string::npos);
  const Node& img = root.children[1];
  CHECK(img.content_id == "logo@example.com");
  CHECK(img.disposition == "inline");
  CHECK(img.filename == "logo.png");
  CHECK(img.data == kPng);
}

TEST_CASE("text, html, two inline images and an attachment nest as mixed, alternative, related") {
  json r = html_message();
  r["text"] = "Hello\n";
  r["attachments"] = {image("logo@example.com"),
                      {{"filename", "terms.pdf"}, {"content_type", "application/pdf"}, {"content", "JVBERi0="}},
                      image("banner.2026@mail.example.com", "banner.png")};
  r["attachments"][2]["disposition"] = "inline";
  const Node root = parse_with_gmime(prepared(r).message);
  CHECK(describe(root) ==
        "multipart/mixed[multipart/alternative[text/plain,multipart/related[text/html,image/png,image/png]],"
        "application/pdf]");
  const Node& related = root.children[0].children[1];
  CHECK(related.children[1].content_id == "logo@example.com");
  CHECK(related.children[2].content_id == "banner.2026@mail.example.com");
  CHECK(related.children[2].data == kPng);
  CHECK(root.children[1].disposition == "attachment");
  CHECK(root.children[1].content_id.empty());
  CHECK(root.children[1].data == "%PDF-");
}

TEST_CASE("an attachment may carry a content_id and stay an attachment") {
  json r = html_message();
  r["attachments"] = {image("logo@example.com")};
  r["attachments"][0]["disposition"] = "attachment";
  const Node root = parse_with_gmime(prepared(r).message);
  CHECK(describe(root) == "multipart/mixed[text/html,image/png]");
  CHECK(root.children[1].disposition == "attachment");
  CHECK(root.children[1].content_id == "logo@example.com");
}

TEST_CASE("inline image requests are refused with the field") {
  auto refused_with = [](const json& r, const std::string& code, const std::string& field) {
    const PrepareError e = refused(r);
    CHECK(e.http_status == 400);
    CHECK(e.code == code);
    CHECK(e.field == field);
    return e.message;
  };
  json r = html_message();
  for (const char* bad : {"logo", "<logo@example.com>", "lo go@example.com", "logo@", "@example.com",
                          "logo@@example.com", "a..b@example.com", "logo@example.com\r\nX: y"}) {
    CAPTURE(bad);
    r["attachments"] = {image(bad)};
    const auto why = refused_with(r, std::string(bad).find('\r') == std::string::npos ? "invalid_field" : "header_injection",
                                  "attachments[0].content_id");
    if (std::string(bad).find('\r') == std::string::npos) CHECK(why.find("without <>") != std::string::npos);
  }
  r["attachments"] = {image("logo@example.com"), image("logo@example.com", "again.png")};
  CHECK(refused_with(r, "invalid_field", "attachments[1].content_id").find("attachments[0]") != std::string::npos);

  r["attachments"] = {image("logo@example.com")};
  r["attachments"][0]["content_id"] = 7;
  refused_with(r, "invalid_field", "attachments[0].content_id");

  r["attachments"] = {image("logo@example.com")};
  r["attachments"][0]["disposition"] = "Inline";
  refused_with(r, "invalid_field", "attachments[0].disposition");

  r["attachments"] = {image("logo@example.com")};
  r["attachments"][0].erase("content_id");
  r["attachments"][0]["disposition"] = "inline";
  refused_with(r, "missing_field", "attachments[0].content_id");

  json text_only = html_message();
  text_only.erase("html");
  text_only["text"] = "no html\n";
  text_only["attachments"] = {image("logo@example.com")};
  CHECK(refused_with(text_only, "invalid_field", "attachments[0].content_id").find("html") != std::string::npos);
}
