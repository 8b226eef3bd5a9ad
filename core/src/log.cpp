// The process-wide log sink (lkk/log.h). A mutex guards the (function, context) pair so that
// lkk_set_logger() may run while pool threads are logging; the sink itself is called outside
// the lock, since a server's logger may take its own time writing.
#include "lkk/log.h"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace lkk {

namespace {

struct Sink {
    LogSink fn = nullptr;
    void* ctx = nullptr;
};

std::mutex& sink_mutex() {
    static std::mutex m;
    return m;
}

Sink& current_sink() {
    static Sink sink;
    return sink;
}

// The default: "2026-12-02T05:35:05Z [error] lkk: message" on stderr, one write per line so
// lines of different threads do not interleave.
void stderr_sink(LogLevel level, std::string_view message) noexcept {
    char when[32] = "";
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    if (gmtime_r(&now, &tm) != nullptr) {
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    const std::string_view name = log_level_name(level);
    std::fprintf(stderr, "%s [%.*s] lkk: %.*s\n", when, static_cast<int>(name.size()), name.data(),
                 static_cast<int>(message.size()), message.data());
}

}  // namespace

void set_log_sink(LogSink sink, void* ctx) noexcept {
    std::lock_guard<std::mutex> lock(sink_mutex());
    current_sink() = Sink{sink, sink != nullptr ? ctx : nullptr};
}

std::string_view log_level_name(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::error:
            return "error";
        case LogLevel::warn:
            return "warn";
        case LogLevel::notice:
            return "notice";
        case LogLevel::info:
            return "info";
        case LogLevel::debug:
            return "debug";
    }
    return "error";
}

void log(LogLevel level, std::string_view message) noexcept {
    Sink sink;
    {
        std::lock_guard<std::mutex> lock(sink_mutex());
        sink = current_sink();
    }
    if (sink.fn == nullptr) {
        stderr_sink(level, message);
        return;
    }
    sink.fn(sink.ctx, static_cast<int>(level), message.data(), message.size());
}

}  // namespace lkk
