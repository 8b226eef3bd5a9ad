// What every lkk-admin command shares: the settings file, the Support service (support.h,
// whose operations the commands call: the tool itself never touches the stores nor writes
// the audit log), the output mode, and the exit code.
//
// Backends are opened only when a command runs, so `lkk-admin --help` and usage errors
// never touch the database.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "lkk/session_store.h"
#include "lkk/settings.h"
#include "lkk/status.h"
#include "lkk/storage.h"
#include "lkk/support.h"

namespace lkk::admin {

// Exit codes of SPEC 7.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

class AdminContext {
  public:
    AdminContext();
    ~AdminContext();

    std::string config_path;  // --config; empty: $LKK_CONFIG, then /etc/lkk/lkk.toml
    bool json = false;        // --json
    int exit_code = kExitOk;

    // Runs one command: opens the backends, runs body, prints its error. A body answers
    // usage(...) for a bad argument (exit 2) and any other error Status for a failure (exit 1).
    void run(const std::function<Status()>& body);

    // A bad argument the person can fix by retyping the command (exit 2).
    Status usage(const std::string& message);

    const Settings& settings() const { return settings_; }
    // Acts as this_process_tool_actor(): the OS user (sudo's caller) and the host.
    Support& support() { return *support_; }

    // An invalid_argument from Support (a malformed code, number or e-mail in the command
    // line) is a usage error (exit 2); anything else keeps its code.
    Status argument_error(const Status& s);

    // --json output: one JSON document on stdout.
    void print_json(const nlohmann::json& value) const;
    // --json output that streams: "[" now, each element as it comes, "]" at the end. After
    // an error midway run() closes the array, so stdout still holds one JSON document.
    void begin_json_array();
    void json_element(const nlohmann::json& value);
    void end_json_array();

    // The canonical e-mail for a command argument, or usage() when it is not an e-mail.
    Result<std::string> email_argument(const std::string& text);

  private:
    Status open();

    bool usage_error_ = false;
    mutable bool printed_json_ = false;  // a command's --json answer went out already
    bool json_array_open_ = false;       // begin_json_array() without end_json_array() yet
    bool json_array_empty_ = true;
    Settings settings_;
    std::unique_ptr<Storage> storage_;
    std::unique_ptr<SessionStore> sessions_;
    std::unique_ptr<CounterStore> counters_;
    std::unique_ptr<Support> support_;
};

// One audit row for --json (users show, audit): at, event, the cabinet's user_id, the actor
// as {kind: subscriber|tool|unknown, user_id, ip | os_user, host, text}, ip and detail.
nlohmann::json audit_event_json(const AuditEvent& e);

// A URL as it may be printed in a message: the password replaced by "***".
std::string without_password(const std::string& url);
// "2026-11-25 14:30:05" in UTC (or another strftime format, always UTC); "-" for 0.
std::string format_time(int64_t unix_seconds, const char* format = "%Y-%m-%d %H:%M:%S");
// A span for people: "45s", "12m 05s", "3h 05m", "2d 04h".
std::string format_duration(int64_t seconds);
// Roubles as support staff read them: "1234.50" (no thousands separator, so scripts and
// spreadsheets take it too).
std::string format_rub(int64_t kopecks);

}  // namespace lkk::admin
