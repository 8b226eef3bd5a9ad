// The core's only way to say something to the admin: one line at a level, handed to the web
// server's own logger (the glue installs it through lkk_set_logger() in capi.h), so lines
// land in nginx's or Apache's error log with their time, level and the server's filtering.
// Without a logger (tests, lkk-admin) a line goes to stderr with a UTC time and the level.
//
// Levels follow syslog. The rule of thumb: a person's bad input or an ordinary 4xx is at
// most `info`; a backend that fails (database, Redis, SMTP) is `error` or `warn`.
#pragma once

#include <cstddef>
#include <string_view>

namespace lkk {

enum class LogLevel : int { error = 3, warn = 4, notice = 5, info = 6, debug = 7 };

// ctx is the sink's own; level is a LogLevel as int; msg is not NUL-terminated.
using LogSink = void (*)(void* ctx, int level, const char* msg, size_t len);

// Process-wide; may be called from any thread. nullptr restores the stderr default.
void set_log_sink(LogSink sink, void* ctx) noexcept;

// One line (no trailing newline needed). Never throws, whatever the sink does.
void log(LogLevel level, std::string_view message) noexcept;

// "error", "warn", ... for the default sink and for tests.
std::string_view log_level_name(LogLevel level) noexcept;

}  // namespace lkk
