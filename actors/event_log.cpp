#include "actors/event_log.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>
#include "core/util/log_fields.hpp"

namespace volley {

EventLog::EventLog(std::string path, std::size_t max_size, std::size_t keep)
    : path_(std::move(path)), max_size_(max_size), keep_(keep) {
  if (path_.empty()) return;
  std::error_code ec;
  auto parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  open();
}

EventLog::~EventLog() {
  if (file_) std::fclose(file_);
}

void EventLog::open() {
  file_ = std::fopen(path_.c_str(), "ae");
  if (!file_) {
    spdlog::error("event_log: cannot open{}", util::log_fields("path", path_, "error", std::strerror(errno)));
    return;
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_, ec);
  size_ = ec ? 0 : static_cast<std::size_t>(size);
}

bool EventLog::append(std::string_view lines) {
  if (path_.empty() || lines.empty()) return true;
  if (!file_) open();  // a failed open or rotation is tried again with the next lines
  if (!file_) return false;
  if (std::fwrite(lines.data(), 1, lines.size(), file_) != lines.size() || std::fflush(file_) != 0) {
    spdlog::error("event_log: write failed{}", util::log_fields("path", path_, "error", std::strerror(errno)));
    return false;
  }
  size_ += lines.size();
  if (max_size_ > 0 && size_ >= max_size_) rotate();
  return true;
}

void EventLog::rotate() {
  std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  auto numbered = [this](std::size_t n) { return path_ + "." + std::to_string(n); };
  std::filesystem::remove(numbered(keep_), ec);
  for (std::size_t n = keep_; n > 1; --n) {
    if (std::filesystem::exists(numbered(n - 1), ec)) std::filesystem::rename(numbered(n - 1), numbered(n), ec);
  }
  std::filesystem::rename(path_, numbered(1), ec);
  if (ec) spdlog::error("event_log: cannot rotate{}", util::log_fields("path", path_, "error", ec.message()));
  open();
}

}  // namespace volley
