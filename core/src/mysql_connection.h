// One MySQL/MariaDB connection of one thread (MySQL Connector/C++ 1.1), with its cache of
// prepared statements.
//
// Private to the MySQL backend; the twin of sqlite_connection.h with the same calls, so the
// records code runs on either. The connection is opened with connect/read/write timeouts so
// a hung server cannot hold a pool thread for ever, and with utf8mb4 so 4-byte characters
// round-trip. Connector/C++ reports errors as exceptions: they are caught here and turned
// into Status; a lost connection marks it broken and the storage opens a new one next call.
// A failure also says whether the unit of work may run again (db::Connection::aborted): the
// storage re-runs units that a Galera cluster aborted on certification or lost with a node.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lkk/status.h"
#include "sql_connection.h"

namespace sql {
class Connection;
class PreparedStatement;
class ResultSet;
}  // namespace sql

namespace lkk::mysql {

struct Host {
    std::string name = "127.0.0.1";
    int port = 3306;
};

struct Address {
    // One server, or the nodes of a Galera cluster in the order they are preferred.
    std::vector<Host> hosts;
    std::string user;
    std::string password;
    std::string database;
};

// "mysql://user:pass@host:port/db" or "mysql://user:pass@h1:port,h2:port,h3:port/db" (user and
// password percent-decoded; a host without a port has 3306).
Result<Address> parse_url(const std::string& url);

class Connection final : public db::Connection {
  public:
    // Connects to address.hosts[host] and checks that the server takes queries (a Galera node
    // that is not synced with its cluster answers unavailable).
    static Result<std::unique_ptr<Connection>> open(const Address& address, size_t host);
    ~Connection() override;

    size_t host() const { return host_; }

    Result<int64_t> exec(const std::string& sql, db::Params params) override;
    Status query(const std::string& sql, db::Params params,
                 const std::function<void(const db::Row&)>& on_row) override;
    Result<int64_t> insert(const std::string& sql, db::Params params) override;
    Status exec_script(const std::string& sql) override;

  private:
    Connection(std::unique_ptr<::sql::Connection> c, size_t host);
    Result<::sql::PreparedStatement*> prepare(const std::string& sql);
    Status fail(int code, const std::string& sql, const std::string& what);
    void succeeded(const std::string& sql);
    Status refuse_after_abort() const;

    std::unique_ptr<::sql::Connection> conn_;
    size_t host_ = 0;
    std::unordered_map<std::string, std::unique_ptr<::sql::PreparedStatement>> statements_;
};

}  // namespace lkk::mysql
