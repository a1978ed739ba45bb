#include "storage/rocksdb_logger.hpp"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

#include <rocksdb/env.h>

namespace volley::storage {

namespace {

void to_stderr(LogLevel level, std::string_view database, std::string_view line) {
  if (level < LogLevel::warn) return;
  std::fprintf(stderr, "rocksdb %.*s: %.*s\n", static_cast<int>(database.size()), database.data(),
               static_cast<int>(line.size()), line.data());
}

std::mutex sink_mutex;
std::shared_ptr<const LogSink> current_sink = std::make_shared<const LogSink>(to_stderr);

std::shared_ptr<const LogSink> sink() {
  std::lock_guard lock(sink_mutex);
  return current_sink;
}

LogLevel level_of(rocksdb::InfoLogLevel level) {
  switch (level) {
    case rocksdb::InfoLogLevel::DEBUG_LEVEL:
    case rocksdb::InfoLogLevel::INFO_LEVEL:
    case rocksdb::InfoLogLevel::HEADER_LEVEL:
      return LogLevel::debug;
    case rocksdb::InfoLogLevel::WARN_LEVEL:
      return LogLevel::warn;
    case rocksdb::InfoLogLevel::ERROR_LEVEL:
    case rocksdb::InfoLogLevel::FATAL_LEVEL:
    default:
      return LogLevel::error;
  }
}

class CallbackLogger final : public rocksdb::Logger {
 public:
  explicit CallbackLogger(std::string database)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), database_(std::move(database)) {}

  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    const auto target = sink();
    if (!target || !*target) return;
    // Most lines fit the stack buffer; a statistics dump (many KiB) is formatted again on the heap.
    char buf[1024];
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(buf, sizeof buf, format, copy);
    va_end(copy);
    if (n < 0) return;
    std::string long_line;
    std::string_view line(buf, static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) >= sizeof buf) {
      long_line.resize(static_cast<std::size_t>(n) + 1);
      va_copy(copy, ap);
      std::vsnprintf(long_line.data(), long_line.size(), format, copy);
      va_end(copy);
      long_line.pop_back();
      line = long_line;
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    (*target)(level_of(level), database_, line);
  }

 private:
  std::string database_;
};

}  // namespace

void set_log_sink(LogSink sink) {
  auto next = std::make_shared<const LogSink>(std::move(sink));
  std::lock_guard lock(sink_mutex);
  current_sink = std::move(next);
}

std::shared_ptr<rocksdb::Logger> make_logger(std::string database) {
  return std::make_shared<CallbackLogger>(std::move(database));
}

}  // namespace volley::storage
