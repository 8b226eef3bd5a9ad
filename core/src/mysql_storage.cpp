// The MySQL/MariaDB backend: a connection per thread to the server named by the URL, or to
// the first node that answers of a Galera cluster named by several hosts. Everything else
// is the shared SQL code (sql_storage.h), which also runs aborted units of work again.
#include "lkk/mysql_storage.h"

#include <atomic>
#include <chrono>

#include "mysql_connection.h"
#include "sql_storage.h"

namespace lkk {

namespace {

class MysqlStorage final : public SqlStorage {
  public:
    explicit MysqlStorage(mysql::Address address)
        : SqlStorage(kMysqlDialect), address_(std::move(address)) {}

    // DDL commits implicitly in MySQL, so a migration is not one transaction: a named server
    // lock keeps two hosts that run `lkk-admin migrate` at once from interleaving.
    Status migrate() override {
        auto c = connection();
        if (!c) return c.error();
        int64_t got = 0;
        Status s = (*c)->query("SELECT GET_LOCK('lkk_migrate', 60)", {},
                               [&](const db::Row& r) { got = r.integer(0); });
        if (!s.ok()) return s;
        if (got != 1) return Status::Unavailable("another lkk-admin migrate is running");
        s = SqlStorage::migrate();
        auto released =
            (*c)->query("SELECT RELEASE_LOCK('lkk_migrate')", {}, [](const db::Row&) {});
        if (s.ok() && !released.ok()) return released;
        return s;
    }

  protected:
    // The hosts in turn from the one in use; after kBackToFirst on another host, the first
    // is tried again first. Every thread follows the host that answered last.
    Result<std::unique_ptr<db::Connection>> open_connection() override {
        const size_t n = address_.hosts.size();
        size_t start = preferred_.load();
        if (start != 0 && now() - moved_at_.load() >= kBackToFirst) start = 0;
        Status last;
        for (size_t i = 0; i < n; ++i) {
            const size_t host = (start + i) % n;
            auto c = mysql::Connection::open(address_, host);
            if (!c) {
                last = c.error();
                continue;
            }
            if (host != preferred_.load() || (start == 0 && host != 0)) moved_at_.store(now());
            preferred_.store(host);
            return std::unique_ptr<db::Connection>(std::move(c.value()));
        }
        if (n > 1) return Status::Unavailable("no MySQL host answers; last: " + last.message());
        return last;
    }

    // A connection to another node than the preferred one, or to a later node once the first
    // is due to be tried again, is replaced between units of work.
    bool stale(const db::Connection& c) const override {
        const size_t host = static_cast<const mysql::Connection&>(c).host();
        const size_t preferred = preferred_.load();
        return host != preferred || (host != 0 && now() - moved_at_.load() >= kBackToFirst);
    }

  private:
    static constexpr std::chrono::seconds kBackToFirst{30};
    static std::chrono::seconds now() {
        return std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::steady_clock::now().time_since_epoch());
    }

    mysql::Address address_;
    std::atomic<size_t> preferred_{0};              // index of the host in use
    std::atomic<std::chrono::seconds> moved_at_{};  // when it was chosen (not the first host)
};

}  // namespace

Result<std::unique_ptr<Storage>> open_mysql_storage(const std::string& url) {
    auto address = mysql::parse_url(url);
    if (!address) return address.error();
    return std::unique_ptr<Storage>(std::make_unique<MysqlStorage>(std::move(address.value())));
}

}  // namespace lkk
