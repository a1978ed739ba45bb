#include "core/feedback/mime_walk.hpp"

#include <gmime/gmime.h>

#include <mutex>

#include "core/feedback/fields.hpp"
#include "core/feedback/report.hpp"

namespace volley::feedback {
namespace {

// GMime's global tables are set up once per process and never torn down: other threads may be
// parsing at any time, and the process ends without needing them freed.
void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

template <typename T>
struct GFree {
  void operator()(T* p) const { g_free(p); }
};

std::string owned_string(char* text) {
  std::unique_ptr<char, GFree<char>> guard(text);
  return text ? std::string(text) : std::string();
}

// The message with LF line ends: GMime keeps a CR of a CRLF in header values and part content,
// so one line-end convention keeps every reader downstream simple.
std::string lf_only(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\r' && i + 1 < message.size() && message[i + 1] == '\n') continue;
    out.push_back(message[i]);
  }
  return out;
}

}  // namespace

struct MimeTree::Impl {
  GMimeMessage* message = nullptr;     // owned: the one reference freeing the whole tree
  std::vector<GMimeObject*> objects;   // borrowed from `message`, parallel to parts_

  ~Impl() {
    if (message) g_object_unref(message);
  }

  void walk(GMimeObject* object, std::size_t depth, std::size_t message_level, std::vector<MimePart>& parts) {
    if (object == nullptr || depth > kMaxNesting || parts.size() >= kMaxParts) return;
    MimePart part;
    part.depth = depth;
    part.message_level = message_level;
    if (auto* ct = g_mime_object_get_content_type(object)) {
      if (auto* t = g_mime_content_type_get_media_type(ct)) part.type = lower(t);
      if (auto* s = g_mime_content_type_get_media_subtype(ct)) part.subtype = lower(s);
    }
    part.embedded_message = GMIME_IS_MESSAGE_PART(object);
    parts.push_back(std::move(part));
    objects.push_back(object);

    if (GMIME_IS_MULTIPART(object)) {
      auto* multipart = GMIME_MULTIPART(object);
      int count = g_mime_multipart_get_count(multipart);
      for (int i = 0; i < count && parts.size() < kMaxParts; ++i)
        walk(g_mime_multipart_get_part(multipart, i), depth + 1, message_level, parts);
    } else if (GMIME_IS_MESSAGE_PART(object)) {
      if (auto* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object)))
        walk(g_mime_message_get_mime_part(inner), depth + 1, message_level + 1, parts);
    }
  }
};

MimeTree::MimeTree(std::string_view message) : impl_(std::make_unique<Impl>()) {
  init_gmime();
  auto text = lf_only(message);
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(text.data(), text.size());  // copies
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_object_unref(stream);  // the parser holds its own reference
  impl_->message = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  if (impl_->message) impl_->walk(g_mime_message_get_mime_part(impl_->message), 0, 0, parts_);
}

MimeTree::~MimeTree() = default;

bool MimeTree::ok() const { return impl_->message != nullptr; }

std::string MimeTree::top_headers() const {
  if (!impl_->message) return {};
  return owned_string(g_mime_object_get_headers(GMIME_OBJECT(impl_->message), nullptr));
}

std::string MimeTree::body(std::size_t i, std::size_t max_bytes) const {
  if (i >= impl_->objects.size() || !GMIME_IS_PART(impl_->objects[i])) return {};
  GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(impl_->objects[i]));
  if (!content) return {};
  GMimeStream* out = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(content, out);  // undoes base64 / quoted-printable
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
  std::string result;
  if (bytes && bytes->len > 0)
    result.assign(reinterpret_cast<const char*>(bytes->data), std::min<std::size_t>(bytes->len, max_bytes));
  g_object_unref(out);
  return result;
}

std::string MimeTree::headers(std::size_t i) const {
  if (i >= impl_->objects.size() || !GMIME_IS_MESSAGE_PART(impl_->objects[i])) return {};
  GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(impl_->objects[i]));
  if (!inner) return {};
  return owned_string(g_mime_object_get_headers(GMIME_OBJECT(inner), nullptr));
}

}  // namespace volley::feedback
