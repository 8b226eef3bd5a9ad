// Opening the backends once per command, the uniform error report, time formats.
#include "admin_context.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <iostream>

#include "lkk/rules.h"

namespace lkk::admin {

AdminContext::AdminContext() = default;
AdminContext::~AdminContext() = default;

Status AdminContext::usage(const std::string& message) {
    usage_error_ = true;
    return Status::Invalid(message);
}

// The settings file the module reads too; a missing file is the most common first mistake,
// so it gets its own sentence.
Status AdminContext::open() {
    std::string path = config_path;
    if (path.empty()) {
        const char* env = std::getenv("LKK_CONFIG");
        path = env != nullptr && *env != '\0' ? env : "/etc/lkk/lkk.toml";
    }
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return Status::NotFound("settings file " + path +
                                " not found: give it with --config FILE (or LKK_CONFIG=FILE)");
    }
    auto loaded = load_settings_file(path);
    if (!loaded.ok()) return Status::Invalid(loaded.error().to_string());
    settings_ = loaded.value();

    auto storage = open_storage(settings_.storage.url);
    if (!storage.ok()) {
        return Status(storage.error().code(), "cannot open storage " +
                                                  without_password(settings_.storage.url) + ": " +
                                                  storage.error().message());
    }
    storage_ = std::move(storage.value());
    auto sessions = open_session_store(settings_.sessions.url, *storage_);
    if (!sessions.ok()) {
        return Status(sessions.error().code(), "cannot open sessions " +
                                                   without_password(settings_.sessions.url) + ": " +
                                                   sessions.error().message());
    }
    sessions_ = std::move(sessions.value());
    // Imports, blocks and deletions reach the web hosts' read caches at once.
    attach_read_cache(*storage_, *sessions_, 0);
    auto counters = open_counter_store(settings_.sessions.url, *storage_);
    if (!counters.ok()) {
        return Status(counters.error().code(), "cannot open counters " +
                                                   without_password(settings_.sessions.url) + ": " +
                                                   counters.error().message());
    }
    counters_ = std::move(counters.value());
    support_ = std::make_unique<Support>(settings_, *storage_, *sessions_, *counters_,
                                         system_clock(), this_process_tool_actor());
    return Status::Ok();
}

// Every command goes through here so that errors look the same everywhere: one line on
// stderr (and a JSON object on stdout with --json), exit 1 or 2.
void AdminContext::run(const std::function<Status()>& body) {
    Status s;
    try {
        s = storage_ ? Status::Ok() : open();
        if (s.ok()) s = body();
    } catch (const std::exception& e) {
        s = Status::Internal(std::string("unexpected error: ") + e.what());
    } catch (...) {
        s = Status::Internal("unexpected error");
    }
    if (s.ok()) {
        exit_code = kExitOk;
        return;
    }
    exit_code = usage_error_ ? kExitUsage : kExitFailure;
    if (json_array_open_) end_json_array();
    std::cerr << "lkk-admin: " << s.message() << "\n";
    if (json && !printed_json_) print_json({{"error", s.message()}});
}

void AdminContext::begin_json_array() {
    std::cout << "[";
    printed_json_ = true;
    json_array_open_ = true;
    json_array_empty_ = true;
}

void AdminContext::json_element(const nlohmann::json& value) {
    std::cout << (json_array_empty_ ? "\n" : ",\n")
              << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    json_array_empty_ = false;
}

void AdminContext::end_json_array() {
    std::cout << (json_array_empty_ ? "]\n" : "\n]\n");
    json_array_open_ = false;
}

Status AdminContext::argument_error(const Status& s) {
    return s.code() == StatusCode::invalid_argument ? usage(s.message()) : s;
}

void AdminContext::print_json(const nlohmann::json& value) const {
    std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    printed_json_ = true;
}

Result<std::string> AdminContext::email_argument(const std::string& text) {
    auto email = rules::normalize_email(text);
    if (!email.ok()) {
        return usage("'" + text + "' is not an e-mail address: " +
                     std::string(rules::message(email.error()).en));
    }
    return email.value();
}

nlohmann::json audit_event_json(const AuditEvent& e) {
    const Actor& a = e.actor;
    nlohmann::json actor = {{"kind", std::string(actor_kind_name(a.kind))}};
    switch (a.kind) {
        case ActorKind::subscriber:
            actor["user_id"] = a.user_id ? nlohmann::json(*a.user_id) : nlohmann::json();
            actor["ip"] = a.ip;
            break;
        case ActorKind::tool:
            actor["os_user"] = a.os_user;
            actor["host"] = a.host;
            break;
        case ActorKind::unknown:
            actor["ip"] = a.ip;
            break;
    }
    actor["text"] = describe_actor(a);
    return {{"id", e.id},
            {"at", format_time(e.at)},
            {"at_unix", e.at},
            {"event", e.event},
            {"user_id", e.user_id ? nlohmann::json(*e.user_id) : nlohmann::json()},
            {"actor", actor},
            {"ip", a.ip},
            {"detail", e.detail}};
}

std::string format_time(int64_t unix_seconds, const char* format) {
    if (unix_seconds == 0) return "-";
    const auto t = static_cast<time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

std::string format_duration(int64_t seconds) {
    if (seconds < 0) seconds = 0;
    char buf[48];
    if (seconds < 60) {
        std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(seconds));
    } else if (seconds < 3600) {
        std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(seconds / 60),
                      static_cast<long long>(seconds % 60));
    } else if (seconds < 86400) {
        std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(seconds / 3600),
                      static_cast<long long>(seconds % 3600 / 60));
    } else {
        std::snprintf(buf, sizeof buf, "%lldd %02lldh", static_cast<long long>(seconds / 86400),
                      static_cast<long long>(seconds % 86400 / 3600));
    }
    return buf;
}

// A URL as it may be printed: "mysql://lkk:secret@host/db" -> "mysql://lkk:***@host/db".
std::string without_password(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const auto at = url.find('@', scheme + 3);
    if (at == std::string::npos) return url;
    const auto colon = url.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::string format_rub(int64_t kopecks) {
    return rules::format_kopecks(kopecks, '.', "");
}

}  // namespace lkk::admin
