// The settings file of SPEC 6a: defaults, every key, and mistakes reported with their line.
#include "lkk/settings.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace lkk {
namespace {

Settings load_ok(const std::string& text) {
    auto r = load_settings_string(text, "test.toml");
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? r.value() : Settings{};
}

SettingsError load_fail(const std::string& text) {
    auto r = load_settings_string(text, "test.toml");
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? SettingsError{"<loaded>", -1, -1, "<loaded>"} : r.error();
}

TEST(Settings, EmptyFileGivesDefaults) {
    const Settings s = load_ok("");
    EXPECT_EQ(s.portal.base_url, "http://127.0.0.1");
    EXPECT_EQ(s.portal.base_path, "/lkk");
    EXPECT_EQ(s.portal.locale, "ru");
    EXPECT_EQ(s.portal.time_zone, "Europe/Simferopol");
    EXPECT_EQ(s.storage.url, "sqlite:/var/lib/lkk/lkk.db");
    EXPECT_EQ(s.sessions.url, "storage");
    EXPECT_EQ(s.sessions.idle_timeout, 1800);
    EXPECT_EQ(s.sessions.absolute_timeout, 12 * 3600);
    EXPECT_TRUE(s.sessions.cookie_secure);
    EXPECT_TRUE(s.sessions.cache);
    EXPECT_EQ(s.sessions.cache_max_age, 5);
    EXPECT_EQ(s.passwords.min_length, 6);
    EXPECT_EQ(s.passwords.argon2_memory_kib, 19456u);
    EXPECT_EQ(s.tokens.confirm_ttl, 48 * 3600);
    EXPECT_EQ(s.tokens.reset_ttl, 3600);
    EXPECT_EQ(s.throttle.login_failures_per_email, 5);
    // Comments and empty sections are fine too.
    EXPECT_EQ(load_ok("# nothing\n[portal]\n[throttle]\n").portal.locale, "ru");
}

TEST(Settings, EveryKeyIsRead) {
    const Settings s = load_ok(R"(
[portal]
base_url = "https://lkk.example.org/"
base_path = "/cabinet/gas/"
support_email = "help@gas.example"
locale = "en"
templates_dir = "."
time_zone = "Europe/Moscow"
consent_version = "2024-01"

[storage]
url = "mysql://u:p@127.0.0.1:3306/lkk"

[sessions]
url = "redis://127.0.0.1:6379/0"
idle_timeout = "20m"
absolute_timeout = 7200
cookie_secure = false
cache = false
cache_max_age = "30s"

[mail]
url = "smtps://user:pass@mail.example:465"
from = "Portal <noreply@gas.example>"
max_attempts = 7
poll_interval = "10s"
max_age = "3d"

[passwords]
min_length = 8
argon2_memory_kib = 65536
argon2_iterations = 3
argon2_parallelism = 2

[tokens]
confirm_ttl = "2d"
reset_ttl = "30m"

[throttle]
login_failures_per_email = 6
login_failure_window = "10m"
login_lock_base = "5m"
login_attempts_per_ip = 40
login_ip_window = "2m"
register_per_ip = 11
register_window = "2h"
resend_per_email = 4
resend_window = "3h"
link_failures_per_user = 7
link_user_window = "4h"
link_failures_per_account = 8
link_account_window = "3d"
)");
    EXPECT_EQ(s.portal.base_url, "https://lkk.example.org");  // trailing slash dropped
    EXPECT_EQ(s.portal.base_path, "/cabinet/gas");
    EXPECT_EQ(s.portal.support_email, "help@gas.example");
    EXPECT_EQ(s.portal.locale, "en");
    EXPECT_TRUE(std::filesystem::path(s.portal.templates_dir).is_absolute());
    EXPECT_EQ(s.portal.time_zone, "Europe/Moscow");
    EXPECT_EQ(s.portal.consent_version, "2024-01");
    EXPECT_EQ(s.storage.url, "mysql://u:p@127.0.0.1:3306/lkk");
    EXPECT_EQ(s.sessions.url, "redis://127.0.0.1:6379/0");
    EXPECT_EQ(s.sessions.idle_timeout, 1200);
    EXPECT_EQ(s.sessions.absolute_timeout, 7200);
    EXPECT_FALSE(s.sessions.cookie_secure);
    EXPECT_FALSE(s.sessions.cache);
    EXPECT_EQ(s.sessions.cache_max_age, 30);
    EXPECT_EQ(s.mail.url, "smtps://user:pass@mail.example:465");
    EXPECT_EQ(s.mail.from, "Portal <noreply@gas.example>");
    EXPECT_EQ(s.mail.max_attempts, 7);
    EXPECT_EQ(s.mail.poll_interval, 10);
    EXPECT_EQ(s.mail.max_age, 3 * 86400);
    EXPECT_EQ(s.passwords.min_length, 8);
    EXPECT_EQ(s.passwords.argon2_memory_kib, 65536u);
    EXPECT_EQ(s.passwords.argon2_iterations, 3u);
    EXPECT_EQ(s.passwords.argon2_parallelism, 2u);
    EXPECT_EQ(s.tokens.confirm_ttl, 2 * 86400);
    EXPECT_EQ(s.tokens.reset_ttl, 1800);
    EXPECT_EQ(s.throttle.login_failures_per_email, 6);
    EXPECT_EQ(s.throttle.login_failure_window, 600);
    EXPECT_EQ(s.throttle.login_lock_base, 300);
    EXPECT_EQ(s.throttle.login_attempts_per_ip, 40);
    EXPECT_EQ(s.throttle.login_ip_window, 120);
    EXPECT_EQ(s.throttle.register_per_ip, 11);
    EXPECT_EQ(s.throttle.register_window, 7200);
    EXPECT_EQ(s.throttle.resend_per_email, 4);
    EXPECT_EQ(s.throttle.resend_window, 3 * 3600);
    EXPECT_EQ(s.throttle.link_failures_per_user, 7);
    EXPECT_EQ(s.throttle.link_user_window, 4 * 3600);
    EXPECT_EQ(s.throttle.link_failures_per_account, 8);
    EXPECT_EQ(s.throttle.link_account_window, 3 * 86400);
}

// Every link a mail carries is made here: the base URL, the base path, then the page.
TEST(Settings, PortalLinksJoinTheBaseUrlThePathAndThePage) {
    Settings::Portal portal;
    portal.base_url = "https://lkk.example.org";
    portal.base_path = "/cabinet/gas";
    EXPECT_EQ(portal.link("/"), "https://lkk.example.org/cabinet/gas/");
    EXPECT_EQ(portal.link("/confirm?token=abc"),
              "https://lkk.example.org/cabinet/gas/confirm?token=abc");
    portal.base_path = "/lkk/";  // as set by code; the settings file drops the slash itself
    EXPECT_EQ(portal.link("/accounts"), "https://lkk.example.org/lkk/accounts");
}

TEST(Settings, TheExampleFileLoadsWithDefaults) {
    auto r = load_settings_file(LKK_SOURCE_DIR "/conf-examples/lkk.toml");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    const Settings defaults;
    EXPECT_EQ(r->portal.base_path, defaults.portal.base_path);
    EXPECT_EQ(r->sessions.idle_timeout, defaults.sessions.idle_timeout);
    EXPECT_EQ(r->tokens.confirm_ttl, defaults.tokens.confirm_ttl);
    EXPECT_EQ(r->throttle.link_account_window, defaults.throttle.link_account_window);
    EXPECT_EQ(r->mail.from, defaults.mail.from);
}

TEST(Settings, UnknownKeyNamesItsLine) {
    const SettingsError e = load_fail("[portal]\nlocale = \"ru\"\n\nfoo = 1\n");
    EXPECT_EQ(e.line, 4);
    EXPECT_EQ(e.column, 1);
    EXPECT_EQ(e.message, "unknown key 'foo' in [portal]");
    EXPECT_EQ(e.to_string(), "test.toml:4:1: unknown key 'foo' in [portal]");
}

TEST(Settings, UnknownSectionNamesItsLine) {
    const SettingsError e = load_fail("[portal]\n\n[portall]\nlocale = \"ru\"\n");
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.message, "unknown section [portall]");
    EXPECT_EQ(load_fail("stray = 1\n").message, "unknown section [stray]");
}

TEST(Settings, WrongTypeNamesItsLine) {
    SettingsError e = load_fail("[passwords]\nmin_length = \"8\"\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.message, "'min_length' in [passwords] must be an integer");
    e = load_fail("[sessions]\n\ncookie_secure = \"yes\"\n");
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(load_fail("[portal]\nlocale = 1\n").message, "'locale' in [portal] must be a string");
    EXPECT_EQ(load_fail("portal = 1\n").message, "[portal] must be a table");
}

TEST(Settings, BadDurationNamesItsLine) {
    const SettingsError e = load_fail("[sessions]\nidle_timeout = \"30x\"\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_NE(e.message.find("idle_timeout"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("30x"), std::string::npos) << e.message;
    EXPECT_EQ(load_fail("[tokens]\nreset_ttl = 0\n").line, 2);
    EXPECT_EQ(load_fail("[tokens]\nreset_ttl = \"0s\"\n").line, 2);
    EXPECT_EQ(load_fail("[tokens]\nreset_ttl = -5\n").line, 2);
    EXPECT_EQ(load_fail("[tokens]\nreset_ttl = 1.5\n").line, 2);
}

TEST(Settings, BadValuesAreRefused) {
    EXPECT_EQ(load_fail("[portal]\nlocale = \"de\"\n").message,
              "'locale' in [portal] must be \"ru\" or \"en\"");
    EXPECT_EQ(load_fail("[portal]\nlocale = \"de\"\n").line, 2);
    for (const char* path : {"lkk", "/", "/a//b", "/a b", "/../x", "/lkk?x"}) {
        EXPECT_FALSE(
            load_settings_string(std::string("[portal]\nbase_path = \"") + path + "\"\n", "t").ok())
            << path;
    }
    EXPECT_EQ(load_ok("[portal]\nbase_path = \"/lkk/\"\n").portal.base_path, "/lkk");
    EXPECT_FALSE(load_settings_string("[portal]\nbase_url = \"ftp://x\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[portal]\nbase_url = \"https://\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[portal]\nsupport_email = \"nobody\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[portal]\ntime_zone = \"Mars/Olympus\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[portal]\ntemplates_dir = \"/no/such/dir\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[portal]\nconsent_file = \"/no/such/file\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[portal]\nconsent_version = \"\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[storage]\nurl = \"postgres://x\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[storage]\nurl = \"sqlite:\"\n", "t").ok());
    EXPECT_TRUE(load_settings_string("[storage]\nurl = \"sqlite:lkk.db\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[sessions]\nurl = \"memcached://x\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[sessions]\nurl = \"storage2\"\n", "t").ok());
    // High availability (SPEC 14): a Galera host list, Redis behind Sentinel.
    EXPECT_TRUE(
        load_settings_string("[storage]\nurl = \"mysql://u:p@h1:3306,h2:3306/lkk\"\n", "t").ok());
    EXPECT_TRUE(load_settings_string(
                    "[sessions]\nurl = \"redis-sentinel://s1:26379,s2:26379/mymaster/0\"\n", "t")
                    .ok());
    EXPECT_FALSE(load_settings_string("[mail]\nurl = \"http://x\"\n", "t").ok());
    EXPECT_TRUE(load_settings_string("[mail]\nurl = \"smtp://localhost:25\"\n", "t").ok());
    EXPECT_TRUE(load_settings_string("[mail]\nurl = \"file:/tmp/mail\"\n", "t").ok());
    // A header injection through the sender: TOML allows "\r\n" escapes in strings.
    EXPECT_FALSE(load_settings_string("[mail]\nfrom = \"a@b\\r\\nBcc: x@y\"\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[mail]\nmax_attempts = 0\n", "t").ok());
    // max_age is a duration like the others; a week unless set.
    EXPECT_EQ(load_settings_string("", "t")->mail.max_age, 7 * 86400);
    EXPECT_EQ(load_settings_string("[mail]\nmax_age = \"36h\"\n", "t")->mail.max_age, 36 * 3600);
    EXPECT_EQ(load_settings_string("[mail]\nmax_age = 600\n", "t")->mail.max_age, 600);
    for (const char* bad : {"\"0s\"", "\"7x\"", "\"\"", "-5", "true"}) {
        auto r = load_settings_string(std::string("[mail]\nmax_age = ") + bad + "\n", "t");
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().to_string().find("max_age"), std::string::npos)
            << r.error().to_string();
    }
}

// The read cache keeps an answer at most an hour, and at least a second.
TEST(Settings, CacheMaxAgeBounds) {
    EXPECT_EQ(load_ok("[sessions]\ncache_max_age = \"1h\"\n").sessions.cache_max_age, 3600);
    EXPECT_EQ(load_fail("[sessions]\ncache_max_age = \"61m\"\n").message,
              "'cache_max_age' in [sessions] must not exceed one hour (\"1h\")");
    EXPECT_EQ(load_fail("[sessions]\ncache_max_age = \"61m\"\n").line, 2);
    EXPECT_FALSE(load_settings_string("[sessions]\ncache_max_age = 0\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[sessions]\ncache = \"yes\"\n", "t").ok());
}

TEST(Settings, PasswordBounds) {
    EXPECT_FALSE(load_settings_string("[passwords]\nmin_length = 5\n", "t").ok());
    EXPECT_TRUE(load_settings_string("[passwords]\nmin_length = 6\n", "t").ok());
    EXPECT_TRUE(load_settings_string("[passwords]\nmin_length = 128\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[passwords]\nmin_length = 129\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[passwords]\nargon2_iterations = 0\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[passwords]\nargon2_iterations = 101\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[passwords]\nargon2_parallelism = 65\n", "t").ok());
    EXPECT_FALSE(load_settings_string("[passwords]\nargon2_memory_kib = 4194305\n", "t").ok());
    EXPECT_TRUE(load_settings_string("[passwords]\nargon2_memory_kib = 4194304\n", "t").ok());
    // 8 KiB per lane: 64 KiB is too little for 16 lanes; the error names the memory line.
    const SettingsError e =
        load_fail("[passwords]\nargon2_parallelism = 16\nargon2_memory_kib = 64\n");
    EXPECT_EQ(e.line, 3);
    EXPECT_NE(e.message.find("argon2_memory_kib"), std::string::npos);
}

TEST(Settings, ReadingsWindowAndLimits) {
    const Settings d = load_ok("");
    EXPECT_EQ(d.readings.window_start_day, 15);
    EXPECT_EQ(d.readings.window_end_day, 25);
    EXPECT_EQ(d.readings.decimals, 0);
    EXPECT_EQ(d.readings.max_monthly_m3, 500);
    EXPECT_EQ(d.readings.remind_interval, 600);
    const Settings s = load_ok(
        "[readings]\nwindow_start_day = 1\nwindow_end_day = 31\ndecimals = 3\n"
        "max_monthly_m3 = 900\nremind_interval = \"90s\"\n");
    EXPECT_EQ(s.readings.window_start_day, 1);
    EXPECT_EQ(s.readings.window_end_day, 31);
    EXPECT_EQ(s.readings.decimals, 3);
    EXPECT_EQ(s.readings.max_monthly_m3, 900);
    EXPECT_EQ(s.readings.remind_interval, 90);
    EXPECT_EQ(load_fail("[readings]\n\nremind_interval = \"soon\"\n").line, 3);
    EXPECT_TRUE(
        load_settings_string("[readings]\nwindow_start_day = 20\nwindow_end_day = 20\n", "t").ok());
    SettingsError e = load_fail("[readings]\ndecimals = 4\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_NE(e.message.find("'decimals' in [readings]"), std::string::npos) << e.message;
    EXPECT_EQ(load_fail("[readings]\n\nwindow_end_day = 32\n").line, 3);
    EXPECT_EQ(load_fail("[readings]\nwindow_start_day = 0\n").line, 2);
    EXPECT_EQ(load_fail("[readings]\nmax_monthly_m3 = 0\n").line, 2);
    // A start day after the end day names the start day's line, whichever comes first.
    e = load_fail("[readings]\nwindow_end_day = 10\n\nwindow_start_day = 20\n");
    EXPECT_EQ(e.line, 4);
    EXPECT_NE(e.message.find("must not be after 'window_end_day'"), std::string::npos) << e.message;
    // The end day alone before the default start (15) names the end day's line.
    EXPECT_EQ(load_fail("[readings]\nwindow_end_day = 10\n").line, 2);
}

TEST(Settings, SyntaxErrorNamesItsLine) {
    const SettingsError e = load_fail("[portal]\nlocale = \"ru\"\nbase_path = /lkk\n");
    EXPECT_EQ(e.line, 3);
    EXPECT_GT(e.column, 0);
    EXPECT_EQ(e.file, "test.toml");
    EXPECT_EQ(e.to_string().rfind("test.toml:3:", 0), 0u) << e.to_string();
    EXPECT_EQ(load_fail("[portal]\n[portal]\n").line, 2);  // a redefined table
}

TEST(Settings, FileErrorsNameTheFile) {
    auto missing = load_settings_file("/no/such/lkk.toml");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().line, 0);
    EXPECT_EQ(missing.error().to_string().rfind("/no/such/lkk.toml: ", 0), 0u);

    const auto dir = std::filesystem::temp_directory_path() / "lkk_settings_test";
    std::filesystem::create_directories(dir / "tpl");
    {
        std::ofstream(dir / "consent.md") << "consent";
        std::ofstream(dir / "lkk.toml") << "[portal]\ntemplates_dir = \"tpl\"\n"
                                           "consent_file = \"consent.md\"\nlocale = \"xx\"\n";
    }
    auto bad = load_settings_file((dir / "lkk.toml").string());
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().to_string().rfind((dir / "lkk.toml").string() + ":4:", 0), 0u)
        << bad.error().to_string();
    // Relative paths are taken from the settings file's directory, not the process's.
    std::ofstream(dir / "lkk.toml") << "[portal]\ntemplates_dir = \"tpl\"\n"
                                       "consent_file = \"consent.md\"\n";
    auto ok = load_settings_file((dir / "lkk.toml").string());
    ASSERT_TRUE(ok.ok()) << ok.error().to_string();
    EXPECT_EQ(ok->portal.templates_dir, (dir / "tpl").string());
    EXPECT_EQ(ok->portal.consent_file, (dir / "consent.md").string());
    std::filesystem::remove_all(dir);
}

TEST(Duration, Forms) {
    EXPECT_EQ(*parse_duration("90s"), 90);
    EXPECT_EQ(*parse_duration("30m"), 1800);
    EXPECT_EQ(*parse_duration("12h"), 43200);
    EXPECT_EQ(*parse_duration("2d"), 172800);
    EXPECT_EQ(*parse_duration("1h30m"), 5400);
    EXPECT_EQ(*parse_duration("45"), 45);
    EXPECT_EQ(*parse_duration("0"), 0);  // the settings loader refuses zero, not the parser
}

TEST(Duration, Garbage) {
    for (const char* bad : {"", "30x", "m", "-5m", "5 m", " 5m", "1.5h", "30M", "1h30", "h1",
                            "99999999999999999999s", "4000d"}) {
        auto r = parse_duration(bad);
        EXPECT_FALSE(r.ok()) << bad;
        if (!r.ok()) {
            EXPECT_EQ(r.error().code(), StatusCode::invalid_argument);
        }
    }
}

}  // namespace
}  // namespace lkk
