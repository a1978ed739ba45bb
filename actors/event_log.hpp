#pragma once
// The JSON-lines event log: appended in blocks, rotated by size (events.jsonl -> .1 -> .2 ...),
// the oldest beyond `keep` deleted. Not synced: a line is in the page cache once append()
// returns, which survives a crash of volleyd (not of the machine).
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace volley {

class EventLog {
 public:
  EventLog() = default;
  // An empty path: nothing is written.
  EventLog(std::string path, std::size_t max_size, std::size_t keep);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Writes the lines (each ending in '\n'), then rotates if the file has reached max_size.
  // Failures are logged; false when the lines were not written.
  bool append(std::string_view lines);

 private:
  void open();
  void rotate();

  std::string path_;
  std::size_t max_size_ = 0;
  std::size_t keep_ = 0;
  std::FILE* file_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace volley
