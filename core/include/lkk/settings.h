// The settings file (TOML, SPEC 6a) shared by the nginx module and lkk-admin.
// Every key has a default; unknown keys and bad values are reported with their line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lkk/status.h"

namespace lkk {

struct Settings {
    struct Portal {
        std::string base_url = "http://127.0.0.1";
        std::string base_path = "/lkk";
        std::string support_email = "webmaster_lkk@example.org";
        std::string locale = "ru";  // "ru" | "en"
        std::string templates_dir;  // empty: built-in templates
        std::string time_zone = "Europe/Simferopol";
        std::string consent_file;  // empty: the built-in consent document
        std::string consent_version = "1";
        // An absolute link into the portal, as mails carry them: base_url + base_path + path
        // (path starts with '/': "/", "/accounts", "/confirm?token=...").
        std::string link(std::string_view path) const;
    } portal;
    struct StorageCfg {
        std::string url = "sqlite:/var/lib/lkk/lkk.db";
    } storage;
    struct Sessions {
        std::string url = "storage";              // or redis://host:port/db
        int64_t idle_timeout = 30 * 60;           // seconds; file: "30m"
        int64_t absolute_timeout = 12 * 60 * 60;  // seconds; file: "12h"
        bool cookie_secure = true;
        // The read cache (README "Read cache"), with sessions in Redis or in the database.
        bool cache = true;
        int64_t cache_max_age = 5;  // seconds; file: "5s" (at most "1h")
    } sessions;
    struct Mail {
        std::string url = "file:/var/lib/lkk/mail";
        std::string from = "Личный кабинет <noreply@example.org>";
        // Accepted for old settings files; a mail is no longer given up after a number of
        // attempts (SPEC 6: it is kept as long as it is useful, see max_age).
        int max_attempts = 10;
        int64_t poll_interval = 5;           // seconds between outbox rounds; file: "5s"
        int64_t max_age = 7 * 24 * 60 * 60;  // a mail without a link is kept this long; "7d"
    } mail;
    struct Passwords {
        int min_length = 6;
        uint32_t argon2_memory_kib = 19456;
        uint32_t argon2_iterations = 2;
        uint32_t argon2_parallelism = 1;
    } passwords;
    struct Tokens {
        int64_t confirm_ttl = 48 * 3600;  // file: "48h"
        int64_t reset_ttl = 3600;         // file: "1h"
    } tokens;
    // [throttle]: limits of SPEC section 4; windows are durations in the file.
    struct Throttle {
        int login_failures_per_email = 5;
        int64_t login_failure_window = 15 * 60;
        int64_t login_lock_base = 15 * 60;  // first lock; doubles with each further lock
        int login_attempts_per_ip = 30;
        int64_t login_ip_window = 60;
        int register_per_ip = 10;
        int64_t register_window = 3600;
        int resend_per_email = 3;
        int64_t resend_window = 3600;
        int link_failures_per_user = 5;
        int64_t link_user_window = 3600;
        int link_failures_per_account = 5;
        int64_t link_account_window = 24 * 3600;
    } throttle;
    // [readings]: the monthly meter readings of SPEC 9.
    struct Readings {
        int window_start_day = 15;  // days of the month, inclusive, in portal.time_zone;
        int window_end_day = 25;    // a day past the month's end means its last day
        int decimals = 0;           // decimals a subscriber may type (0..3)
        int max_monthly_m3 = 500;   // more consumption than this needs a confirmation
        // While the window is open, how often each worker looks for cabinets still due this
        // month's reminder (SPEC 11); file: "10m".
        int64_t remind_interval = 10 * 60;
    } readings;
};

// Where and why a settings file is wrong: "FILE:LINE:COLUMN: message".
struct SettingsError {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
    std::string to_string() const;
};

Result<Settings, SettingsError> load_settings_file(const std::string& path);
// source_name is used in errors only.
Result<Settings, SettingsError> load_settings_string(const std::string& text,
                                                     const std::string& source_name);
// "90s", "30m", "12h", "2d", or a bare number of seconds. nullopt-like error on garbage.
Result<int64_t> parse_duration(const std::string& text);

}  // namespace lkk
