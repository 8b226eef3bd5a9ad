// The MySQL/MariaDB backend: a connection per thread to the server named by the URL.
// Everything else is the shared SQL code (sql_storage.h).
#include "lkk/mysql_storage.h"

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
    Result<std::unique_ptr<db::Connection>> open_connection() override {
        auto c = mysql::Connection::open(address_);
        if (!c) return c.error();
        return std::unique_ptr<db::Connection>(std::move(c.value()));
    }

  private:
    mysql::Address address_;
};

}  // namespace

Result<std::unique_ptr<Storage>> open_mysql_storage(const std::string& url) {
    auto address = mysql::parse_url(url);
    if (!address) return address.error();
    return std::unique_ptr<Storage>(std::make_unique<MysqlStorage>(std::move(address.value())));
}

}  // namespace lkk
