// Reads the TOML settings file of SPEC 6a. Every key is declared once in a table below with
// its reader and its check, so the accepted keys, their types and their bounds are in one
// place; anything else in the file is an error naming its line (nginx -t shows it).
#include "lkk/settings.h"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

namespace lkk {

namespace {

namespace fs = std::filesystem;

// A reader stores a value into Settings or returns why it cannot ("must be ..."); the caller
// prefixes the key and adds the line.
using Reader = std::function<std::string(const toml::node&)>;
// A check may normalise the value in place ("/lkk/" -> "/lkk") or return an error.
using Check = std::function<std::string(std::string&)>;

struct KeySpec {
    std::string_view name;
    Reader read;
};

struct SectionSpec {
    std::string_view name;
    std::vector<KeySpec> keys;
};

constexpr int64_t kMaxDuration = 10LL * 366 * 24 * 3600;  // ten years: far beyond any sane TTL

bool has_control(std::string_view s) {
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7f) return true;
    }
    return false;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

Reader text(std::string& dst, Check check = {}) {
    return [&dst, check = std::move(check)](const toml::node& node) -> std::string {
        const auto* s = node.as_string();
        if (!s) return "must be a string";
        std::string value = s->get();
        if (has_control(value)) return "must not contain control characters";
        if (check) {
            std::string err = check(value);
            if (!err.empty()) return err;
        }
        dst = std::move(value);
        return {};
    };
}

template <class Int>
Reader integer(Int& dst, int64_t min, int64_t max) {
    return [&dst, min, max](const toml::node& node) -> std::string {
        const auto* i = node.as_integer();
        if (!i) return "must be an integer";
        const int64_t v = i->get();
        if (v < min || v > max) {
            return "must be between " + std::to_string(min) + " and " + std::to_string(max);
        }
        dst = static_cast<Int>(v);
        return {};
    };
}

// A duration is a string like "30m" or "1h30m", or an integer number of seconds.
Reader duration(int64_t& dst) {
    return [&dst](const toml::node& node) -> std::string {
        int64_t seconds = 0;
        if (const auto* i = node.as_integer()) {
            seconds = i->get();
        } else if (const auto* s = node.as_string()) {
            auto parsed = parse_duration(s->get());
            if (!parsed.ok()) return "is " + parsed.error().message();
            seconds = *parsed;
        } else {
            return "must be a duration like \"30m\" or a number of seconds";
        }
        if (seconds <= 0) return "must be longer than zero";
        if (seconds > kMaxDuration) return "must not exceed ten years";
        dst = seconds;
        return {};
    };
}

// A duration of at most max_seconds.
Reader duration_up_to(int64_t& dst, int64_t max_seconds, const char* max_text) {
    return [&dst, max_seconds, max_text](const toml::node& node) -> std::string {
        int64_t v = dst;
        if (std::string e = duration(v)(node); !e.empty()) return e;
        if (v > max_seconds) return std::string("must not exceed ") + max_text;
        dst = v;
        return {};
    };
}

Reader boolean(bool& dst) {
    return [&dst](const toml::node& node) -> std::string {
        const auto* b = node.as_boolean();
        if (!b) return "must be true or false";
        dst = b->get();
        return {};
    };
}

// URL-like settings pick a backend by prefix. A prefix ending in ':' or '/' needs something
// after it ("sqlite:" alone names no file); any other prefix is a whole value ("storage").
Check one_of_prefixes(std::vector<std::string_view> prefixes, std::string_view what) {
    return [prefixes = std::move(prefixes), what](std::string& v) -> std::string {
        for (const std::string_view p : prefixes) {
            const bool needs_more = p.back() == ':' || p.back() == '/';
            if (needs_more ? starts_with(v, p) && v.size() > p.size() : v == p) return {};
        }
        return std::string("must be ") + std::string(what);
    };
}

std::string check_base_url(std::string& v) {
    std::string_view rest = v;
    if (starts_with(rest, "https://")) {
        rest.remove_prefix(8);
    } else if (starts_with(rest, "http://")) {
        rest.remove_prefix(7);
    } else {
        return "must start with http:// or https://";
    }
    if (rest.empty() || rest.front() == '/' || rest.find_first_of(" ?#") != std::string::npos) {
        return "must be like \"https://lkk.example.org\"";
    }
    while (!v.empty() && v.back() == '/') v.pop_back();  // links append base_path
    return {};
}

// The base path goes into every link and into the cookie's Path, so it is kept to plain
// URL segments: "/lkk" or "/cabinet/gas"; a trailing slash is dropped.
std::string check_base_path(std::string& v) {
    while (v.size() > 1 && v.back() == '/') v.pop_back();
    if (v.empty() || v.front() != '/') return "must start with '/', like \"/lkk\"";
    if (v == "/") return "must name a path of its own, like \"/lkk\"";
    std::string_view rest = std::string_view(v).substr(1);
    while (true) {
        const size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (segment.empty() || segment == "." || segment == "..") {
            return "must be plain path segments, like \"/lkk\"";
        }
        for (const char c : segment) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
            if (!ok) return "may contain only letters, digits, '-', '_', '.', '~' and '/'";
        }
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    return {};
}

std::string check_email_like(std::string& v) {
    const size_t at = v.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == v.size()) {
        return "must be an e-mail address";
    }
    return {};
}

std::string check_locale(std::string& v) {
    return v == "ru" || v == "en" ? std::string{} : "must be \"ru\" or \"en\"";
}

// "Current calendar year" for the expected amount depends on the zone, so an unknown zone
// must fail at start-up rather than silently fall back to GMT.
std::string check_time_zone(std::string& v) {
    std::unique_ptr<icu::TimeZone> tz(
        icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(v)));
    if (!tz || *tz == icu::TimeZone::getUnknown()) {
        return "is not a time zone known to ICU (use e.g. \"Europe/Simferopol\")";
    }
    return {};
}

std::string check_not_empty(std::string& v) {
    return v.empty() ? "must not be empty" : std::string{};
}

// Relative paths are taken from the settings file's directory: nginx runs with cwd "/".
Check existing_path(const fs::path& base_dir, bool directory) {
    return [base_dir, directory](std::string& v) -> std::string {
        if (v.empty()) return {};
        fs::path p(v);
        if (p.is_relative()) p = base_dir / p;
        std::error_code ec;
        const bool ok = directory ? fs::is_directory(p, ec) : fs::is_regular_file(p, ec);
        if (!ok) return std::string("names no existing ") + (directory ? "directory" : "file");
        v = p.lexically_normal().string();
        return {};
    };
}

std::vector<SectionSpec> describe_keys(Settings& s, const fs::path& base_dir) {
    auto& portal = s.portal;
    auto& sess = s.sessions;
    auto& pw = s.passwords;
    auto& th = s.throttle;
    constexpr int64_t kMaxCount = 1000000;
    return {
        {"portal",
         {{"base_url", text(portal.base_url, check_base_url)},
          {"base_path", text(portal.base_path, check_base_path)},
          {"support_email", text(portal.support_email, check_email_like)},
          {"locale", text(portal.locale, check_locale)},
          {"templates_dir", text(portal.templates_dir, existing_path(base_dir, true))},
          {"time_zone", text(portal.time_zone, check_time_zone)},
          {"consent_file", text(portal.consent_file, existing_path(base_dir, false))},
          {"consent_version", text(portal.consent_version, check_not_empty)}}},
        {"storage",
         {{"url", text(s.storage.url, one_of_prefixes({"sqlite:", "mysql://"},
                                                      "\"sqlite:PATH\" or \"mysql://...\""))}}},
        {"sessions",
         {{"url",
           text(sess.url, one_of_prefixes({"storage", "redis://", "redis-sentinel://"},
                                          "\"storage\", \"redis://HOST:PORT/DB\" or "
                                          "\"redis-sentinel://S1:PORT,S2:PORT/MASTER/DB\""))},
          {"idle_timeout", duration(sess.idle_timeout)},
          {"absolute_timeout", duration(sess.absolute_timeout)},
          {"cookie_secure", boolean(sess.cookie_secure)},
          {"cache", boolean(sess.cache)},
          {"cache_max_age", duration_up_to(sess.cache_max_age, 3600, "one hour (\"1h\")")}}},
        {"mail",
         {{"url", text(s.mail.url, one_of_prefixes({"file:", "smtp://", "smtps://"},
                                                   "\"file:DIR\", \"smtp://...\" or "
                                                   "\"smtps://...\""))},
          {"from", text(s.mail.from, check_email_like)},
          {"max_attempts", integer(s.mail.max_attempts, 1, 1000)},
          {"poll_interval", duration(s.mail.poll_interval)},
          {"max_age", duration(s.mail.max_age)}}},
        {"passwords",
         {{"min_length", integer(pw.min_length, 6, 128)},
          {"argon2_memory_kib", integer(pw.argon2_memory_kib, 8, 4 * 1024 * 1024)},
          {"argon2_iterations", integer(pw.argon2_iterations, 1, 100)},
          {"argon2_parallelism", integer(pw.argon2_parallelism, 1, 64)}}},
        {"tokens",
         {{"confirm_ttl", duration(s.tokens.confirm_ttl)},
          {"reset_ttl", duration(s.tokens.reset_ttl)}}},
        {"throttle",
         {{"login_failures_per_email", integer(th.login_failures_per_email, 1, kMaxCount)},
          {"login_failure_window", duration(th.login_failure_window)},
          {"login_lock_base", duration(th.login_lock_base)},
          {"login_attempts_per_ip", integer(th.login_attempts_per_ip, 1, kMaxCount)},
          {"login_ip_window", duration(th.login_ip_window)},
          {"register_per_ip", integer(th.register_per_ip, 1, kMaxCount)},
          {"register_window", duration(th.register_window)},
          {"resend_per_email", integer(th.resend_per_email, 1, kMaxCount)},
          {"resend_window", duration(th.resend_window)},
          {"link_failures_per_user", integer(th.link_failures_per_user, 1, kMaxCount)},
          {"link_user_window", duration(th.link_user_window)},
          {"link_failures_per_account", integer(th.link_failures_per_account, 1, kMaxCount)},
          {"link_account_window", duration(th.link_account_window)}}},
        {"readings",
         {{"window_start_day", integer(s.readings.window_start_day, 1, 31)},
          {"window_end_day", integer(s.readings.window_end_day, 1, 31)},
          {"decimals", integer(s.readings.decimals, 0, 3)},
          {"max_monthly_m3", integer(s.readings.max_monthly_m3, 1, 1000000)},
          {"remind_interval", duration(s.readings.remind_interval)}}},
    };
}

SettingsError error_at(const std::string& file, const toml::source_position& pos,
                       std::string message) {
    return SettingsError{file, static_cast<int>(pos.line), static_cast<int>(pos.column),
                         std::move(message)};
}

Result<Settings, SettingsError> load(const std::string& text, const std::string& file,
                                     const fs::path& base_dir) {
    toml::table root;
    try {
        root = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        return error_at(file, e.source().begin, std::string(e.description()));
    }

    Settings settings;
    const std::vector<SectionSpec> sections = describe_keys(settings, base_dir);
    std::map<std::string, toml::source_position> seen;  // "section.key" -> value position

    for (auto&& [section_key, section_node] : root) {
        const SectionSpec* section = nullptr;
        for (const SectionSpec& sec : sections) {
            if (sec.name == section_key.str()) section = &sec;
        }
        if (!section) {
            return error_at(file, section_key.source().begin,
                            "unknown section [" + std::string(section_key.str()) + "]");
        }
        const toml::table* table = section_node.as_table();
        if (!table) {
            return error_at(file, section_key.source().begin,
                            "[" + std::string(section->name) + "] must be a table");
        }
        for (auto&& [key, node] : *table) {
            const KeySpec* spec = nullptr;
            for (const KeySpec& k : section->keys) {
                if (k.name == key.str()) spec = &k;
            }
            const std::string where =
                "'" + std::string(key.str()) + "' in [" + std::string(section->name) + "]";
            if (!spec) return error_at(file, key.source().begin, "unknown key " + where);
            const std::string err = spec->read(node);
            if (!err.empty()) return error_at(file, node.source().begin, where + " " + err);
            seen[std::string(section->name) + "." + std::string(key.str())] = node.source().begin;
        }
    }

    // Argon2 itself refuses less than 8 KiB per lane; say so here rather than at first login.
    const auto& pw = settings.passwords;
    if (uint64_t{pw.argon2_memory_kib} < 8ULL * pw.argon2_parallelism) {
        toml::source_position pos{};
        if (auto it = seen.find("passwords.argon2_memory_kib"); it != seen.end()) {
            pos = it->second;
        } else if (auto p = seen.find("passwords.argon2_parallelism"); p != seen.end()) {
            pos = p->second;
        }
        return error_at(file, pos,
                        "'argon2_memory_kib' in [passwords] must be at least 8 KiB per lane "
                        "(8 * argon2_parallelism = " +
                            std::to_string(8ULL * pw.argon2_parallelism) + ")");
    }
    // The window is one stretch of days inside each month: it never wraps into the next.
    const auto& rd = settings.readings;
    if (rd.window_start_day > rd.window_end_day) {
        toml::source_position pos{};
        if (auto it = seen.find("readings.window_start_day"); it != seen.end()) {
            pos = it->second;
        } else if (auto e = seen.find("readings.window_end_day"); e != seen.end()) {
            pos = e->second;
        }
        return error_at(file, pos,
                        "'window_start_day' in [readings] (" + std::to_string(rd.window_start_day) +
                            ") must not be after 'window_end_day' (" +
                            std::to_string(rd.window_end_day) + ")");
    }
    return settings;
}

}  // namespace

std::string Settings::Portal::link(std::string_view path) const {
    std::string_view base = base_path;
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    std::string out;
    out.reserve(base_url.size() + base.size() + path.size());
    out.append(base_url).append(base).append(path);
    return out;
}

std::string SettingsError::to_string() const {
    if (line <= 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

Result<Settings, SettingsError> load_settings_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return SettingsError{path, 0, 0, "cannot open the settings file"};
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) return SettingsError{path, 0, 0, "cannot read the settings file"};
    std::error_code ec;
    fs::path dir = fs::absolute(fs::path(path), ec).parent_path();
    return load(buf.str(), path, dir);
}

Result<Settings, SettingsError> load_settings_string(const std::string& text,
                                                     const std::string& source_name) {
    std::error_code ec;
    fs::path dir = fs::current_path(ec);
    return load(text, source_name, dir);
}

// "90s", "30m", "12h", "2d", combinations like "1h30m", or a bare number of seconds.
Result<int64_t> parse_duration(const std::string& text) {
    const auto bad = [&text] {
        return Status::Invalid("not a duration: \"" + text +
                               "\" (use a number with s, m, h or d, like \"30m\")");
    };
    if (text.empty()) return bad();
    int64_t total = 0;
    size_t i = 0;
    while (i < text.size()) {
        int64_t number = 0;
        const size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            number = number * 10 + (text[i] - '0');
            if (number > kMaxDuration) return bad();
            ++i;
        }
        if (i == start) return bad();
        if (i == text.size()) {
            if (start != 0) return bad();  // a unit-less number only on its own
            return number;
        }
        int64_t unit = 0;
        switch (text[i]) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = 24 * 3600;
                break;
            default:
                return bad();
        }
        ++i;
        total += number * unit;
        if (total > kMaxDuration) return bad();
    }
    return total;
}

}  // namespace lkk
