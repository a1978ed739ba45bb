#include "storage/body_segments.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include <xxhash.h>

namespace volley::storage {

namespace {

// Version 1: segment, offset, length. Version 2 adds the body's checksum and its group's start.
constexpr char kLocationVersion1 = 1;
constexpr std::size_t kLocationSize1 = 1 + 3 * 8;
constexpr char kLocationVersion = 2;
constexpr std::size_t kLocationSize = 1 + 5 * 8;
constexpr std::string_view kSuffix = ".seg";
constexpr std::string_view kSpareSuffix = ".spare";

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  return v;
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// dir + "/0000000000000012" + suffix for segment 18.
std::string numbered_path(const std::string& dir, std::uint64_t segment, std::string_view suffix) {
  char number[17];
  std::snprintf(number, sizeof number, "%016llx", static_cast<unsigned long long>(segment));
  return dir + "/" + number + std::string(suffix);
}

// "0000000000000012.seg" -> 18 (with suffix ".seg"); nullopt for any other name.
std::optional<std::uint64_t> segment_number(std::string_view name, std::string_view suffix) {
  if (name.size() != 16 + suffix.size() || name.substr(16) != suffix) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : name.substr(0, 16)) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    n = (n << 4) | static_cast<std::uint64_t>(d);
  }
  return n;
}

std::uint64_t checksum_of(std::string_view body) { return XXH3_64bits(body.data(), body.size()); }

}  // namespace

std::string encode_location(const BodyLocation& at) {
  std::string out;
  out.reserve(kLocationSize);
  out.push_back(kLocationVersion);
  put_u64(out, at.segment);
  put_u64(out, at.offset);
  put_u64(out, at.length);
  put_u64(out, at.checksum);
  put_u64(out, at.group);
  return out;
}

std::optional<BodyLocation> decode_location(std::string_view value) {
  BodyLocation at;
  if (value.size() == kLocationSize && value[0] == kLocationVersion) {
    at.checked = true;
    at.checksum = get_u64(value.substr(25));
    at.group = get_u64(value.substr(33));
  } else if (value.size() != kLocationSize1 || value[0] != kLocationVersion1) {
    return std::nullopt;
  }
  at.segment = get_u64(value.substr(1));
  at.offset = get_u64(value.substr(9));
  at.length = get_u64(value.substr(17));
  return at;
}

bool body_matches(const BodyLocation& at, std::string_view body) {
  return body.size() == at.length && (!at.checked || checksum_of(body) == at.checksum);
}

std::unique_ptr<BodySegments> BodySegments::open(const std::string& dir, std::string* error,
                                                 std::uint64_t segment_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    if (error) *error = "body segments: create " + dir + ": " + ec.message();
    return nullptr;
  }
  std::unique_ptr<BodySegments> s(new BodySegments(dir, segment_bytes));
  s->dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dir_fd_ < 0) {
    if (error) *error = errno_text("body segments: open " + dir);
    return nullptr;
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (const auto n = segment_number(name, kSuffix)) {
      std::error_code size_ec;
      const auto size = std::filesystem::file_size(entry.path(), size_ec);
      s->found_[*n] = size_ec ? 0 : size;
    } else if (const auto spare = segment_number(name, kSpareSuffix)) {
      s->spares_.push_back(*spare);
    }
  }
  if (ec) {
    if (error) *error = "body segments: list " + dir + ": " + ec.message();
    return nullptr;
  }
  return s;
}

bool BodySegments::start(std::string* error) {
  // Segments no record names are garbage of a crash or of a failed write. Numbers are never
  // reused: appending resumes past the highest seen.
  std::uint64_t highest = 0;
  for (const auto& [n, size] : found_) {
    highest = std::max(highest, n);
    auto it = segments_.find(n);
    if (it == segments_.end()) {
      ::unlink(path_of(n).c_str());
    } else {
      it->second.bytes = size;
    }
  }
  for (auto it = segments_.begin(); it != segments_.end();) {
    // A record naming a file that is not there is reported by read(); it holds nothing here.
    if (found_.count(it->first) == 0) {
      it = segments_.erase(it);
    } else {
      ++it;
    }
  }
  found_.clear();
  std::sort(spares_.begin(), spares_.end());
  while (spares_.size() > kMaxSpares) {
    ::unlink(spare_path(spares_.back()).c_str());
    spares_.pop_back();
  }
  for (auto n : spares_) highest = std::max(highest, n);
  return start_segment(highest + 1, error);
}

BodySegments::~BodySegments() {
  sync_.wait();  // a sync in progress still has the active segment's descriptor
  if (fd_ >= 0) ::close(fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

std::string BodySegments::path_of(std::uint64_t segment) const { return numbered_path(dir_, segment, kSuffix); }

std::string BodySegments::spare_path(std::uint64_t segment) const {
  return numbered_path(dir_, segment, kSpareSuffix);
}

// The file of segment `number`: a spare renamed, or a new one. -1 and errno on failure.
int BodySegments::open_next(std::uint64_t number) {
  while (!spares_.empty()) {
    const std::uint64_t spare = spares_.back();
    spares_.pop_back();
    if (::rename(spare_path(spare).c_str(), path_of(number).c_str()) != 0) continue;  // gone: try another
    const int fd = ::open(path_of(number).c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) return fd;
    remover_.remove(path_of(number));
  }
  return ::open(path_of(number).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

// Seals the active segment (retired after the owner's next synced write when no body is left in
// it) and starts `number`.
// The directory is synced so that the new file's name is durable before any record names it.
bool BodySegments::start_segment(std::uint64_t number, std::string* error) {
  const int fd = open_next(number);
  if (fd < 0) {
    if (error) *error = errno_text("body segments: create " + path_of(number));
    return false;
  }
  if (::fsync(dir_fd_) != 0) {
    if (error) *error = errno_text("body segments: sync " + dir_);
    ::close(fd);
    ::unlink(path_of(number).c_str());
    return false;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    if (segments_[active_].ids.empty()) {
      segments_.erase(active_);
      emptied_.push_back(active_);
    }
  }
  fd_ = fd;
  active_ = number;
  segments_[number] = Segment{};
  return true;
}

bool BodySegments::append(const std::vector<std::string_view>& bodies, std::vector<BodyLocation>* out,
                          std::string* error) {
  return start_append(bodies, out, error) && finish_append(error);
}

bool BodySegments::start_append(const std::vector<std::string_view>& bodies, std::vector<BodyLocation>* out,
                                std::string* error) {
  out->clear();
  appending_.reset();
  if (bodies.empty()) return true;
  if (segments_[active_].bytes >= segment_bytes_ && !start_segment(active_ + 1, error)) return false;

  const std::uint64_t start = segments_[active_].bytes;
  std::uint64_t at = start;
  out->reserve(bodies.size());
  for (const auto& b : bodies) {
    out->push_back(BodyLocation{active_, at, b.size(), true, checksum_of(b), start});
    at += b.size();
  }
  // One pwritev per IOV_MAX bodies; a short write goes on where it stopped (next, skip).
  std::vector<iovec> iov;
  iov.reserve(std::min<std::size_t>(bodies.size(), IOV_MAX));
  std::size_t next = 0;
  std::size_t skip = 0;  // bytes of bodies[next] already written
  std::uint64_t offset = start;
  auto fail = [&](const std::string& what) {
    if (error) *error = errno_text(what);
    // What was appended is no one's: the next group overwrites it; a full disk gets it back now.
    if (::ftruncate(fd_, static_cast<off_t>(start)) != 0) {
      // Harmless: the bytes stay unreferenced and the next append writes over them.
    }
    out->clear();
    return false;
  };
  for (;;) {
    while (next < bodies.size() && bodies[next].size() == skip) {
      ++next;
      skip = 0;
    }
    if (next == bodies.size()) break;
    iov.clear();
    for (std::size_t i = next; i < bodies.size() && iov.size() < IOV_MAX; ++i) {
      const std::string_view b = i == next ? bodies[i].substr(skip) : bodies[i];
      iov.push_back(iovec{const_cast<char*>(b.data()), b.size()});
    }
    const ssize_t n = ::pwritev(fd_, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return fail("body segments: write " + path_of(active_));
    }
    offset += static_cast<std::uint64_t>(n);
    std::size_t left = static_cast<std::size_t>(n);
    while (left > 0) {
      const std::size_t rest = bodies[next].size() - skip;
      if (left < rest) {
        skip += left;
        break;
      }
      left -= rest;
      ++next;
      skip = 0;
    }
  }
  appending_ = offset;
  sync_.start(fd_);
  return true;
}

bool BodySegments::finish_append(std::string* error) {
  if (!appending_) return true;  // nothing appended
  const std::uint64_t end = *appending_;
  appending_.reset();
  const int e = sync_.wait();
  // Past the group whether or not its sync worked: its records were written beside the sync,
  // and if their deletion fails too they must go on naming these bytes, never the next group's
  // (at open, a group is known by where it starts).
  segments_[active_].bytes = end;
  if (e != 0) {
    errno = e;
    if (error) *error = errno_text("body segments: sync " + path_of(active_));
    return false;
  }
  return true;
}

void BodySegments::hold(const std::string& id, const BodyLocation& at) {
  auto& s = segments_[at.segment];
  if (s.ids.insert(id).second) s.live_bytes += at.length;
}

std::vector<std::pair<std::uint64_t, std::vector<std::string>>> BodySegments::sparse(std::size_t max_segments) const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> candidates;  // garbage bytes, segment
  for (const auto& [n, s] : segments_) {
    if (n != active_ && s.live_bytes * 4 < s.bytes) candidates.emplace_back(s.bytes - s.live_bytes, n);
  }
  std::sort(candidates.rbegin(), candidates.rend());
  if (candidates.size() > max_segments) candidates.resize(max_segments);
  std::vector<std::pair<std::uint64_t, std::vector<std::string>>> out;
  for (const auto& [garbage, n] : candidates) {
    const auto& ids = segments_.at(n).ids;
    out.emplace_back(n, std::vector<std::string>(ids.begin(), ids.end()));
  }
  return out;
}

std::optional<std::string> BodySegments::read(const BodyLocation& at, std::string* error) const {
  std::string body;
  if (read_into(at, &body, error) != Readback::intact) return std::nullopt;
  return body;
}

BodySegments::Readback BodySegments::read_back(const BodyLocation& at, std::string* error) const {
  std::string body;
  return read_into(at, &body, error);
}

BodySegments::Readback BodySegments::read_into(const BodyLocation& at, std::string* body, std::string* error) const {
  const int fd = at.segment == active_ ? fd_ : ::open(path_of(at.segment).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = errno_text("body segments: open " + path_of(at.segment));
    return Readback::unreadable;
  }
  body->assign(at.length, '\0');
  std::size_t done = 0;
  Readback verdict = Readback::intact;
  while (done < body->size()) {
    ssize_t n = ::pread(fd, body->data() + done, body->size() - done, static_cast<off_t>(at.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // The file ends before the body does: its bytes never reached the disk.
      verdict = n == 0 ? Readback::not_written : Readback::unreadable;
      if (n == 0) errno = ENODATA;
      if (error) *error = errno_text("body segments: read " + path_of(at.segment));
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (fd != fd_) ::close(fd);
  if (verdict == Readback::intact && !body_matches(at, *body)) {
    if (error) *error = "body segments: " + path_of(at.segment) + " at " + std::to_string(at.offset) +
                        ": not the bytes its record names (checksum differs)";
    verdict = Readback::not_written;
  }
  return verdict;
}

bool BodySegments::sync_segment(std::uint64_t segment, std::string* error) const {
  const int fd = ::open(path_of(segment).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return true;  // nothing there to sync; reading it says so
  const bool ok = fd >= 0 && ::fdatasync(fd) == 0;
  if (!ok && error) *error = errno_text("body segments: sync " + path_of(segment));
  if (fd >= 0) ::close(fd);
  return ok;
}

void BodySegments::forget(const std::string& id, const BodyLocation& at) {
  const auto it = segments_.find(at.segment);
  if (it == segments_.end() || it->second.ids.erase(id) == 0) return;
  it->second.live_bytes -= std::min(it->second.live_bytes, at.length);
  if (it->second.ids.empty() && at.segment != active_) {
    segments_.erase(it);
    emptied_.push_back(at.segment);
  }
}

void BodySegments::retire_emptied() {
  for (auto n : emptied_) {
    // A rename is a name changed in the directory: microseconds, where an unlink frees the blocks.
    if (spares_.size() < kMaxSpares && ::rename(path_of(n).c_str(), spare_path(n).c_str()) == 0) {
      spares_.push_back(n);
    } else {
      remover_.remove(path_of(n));
    }
  }
  emptied_.clear();
}

}  // namespace volley::storage
