#pragma once
// Where RocksDB's info log goes: never into a file next to the data. RocksDB's own file logger
// writes "LOG" inside the database directory; when that disk fills, its recovery thread logs
// again after an append there failed, and Debian's RocksDB (built with assertions) aborts the
// whole process. A CallbackLogger hands every line to one process-wide sink instead (the daemon
// connects it to its own log), so a full disk costs log lines at worst, never the process.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace rocksdb {
class Logger;
}

namespace volley::storage {

enum class LogLevel { debug, info, warn, error };

// Receives one line of one database's info log. Called from RocksDB's threads (background
// flushes, compactions, error recovery): must be thread-safe and must not block for long.
using LogSink = std::function<void(LogLevel level, std::string_view database, std::string_view line)>;

// Replaces the process-wide sink (thread-safe). The default writes warnings and errors to
// stderr; an empty function drops every line.
void set_log_sink(LogSink sink);

// A logger for the database named `database` ("spool", "suppression list", ...), forwarding to
// the sink current at each line. RocksDB's INFO lines (option dumps, compaction summaries) are
// LogLevel::debug: they are many, and only help when chasing a RocksDB problem.
std::shared_ptr<rocksdb::Logger> make_logger(std::string database);

}  // namespace volley::storage
