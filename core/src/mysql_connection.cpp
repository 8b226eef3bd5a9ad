// One MySQL/MariaDB connection of one thread: options, the statement cache, and the
// translation of Connector/C++ exceptions into Status (none escapes this file).
#include "mysql_connection.h"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <charconv>
#include <mutex>

namespace lkk::mysql {

namespace {

constexpr int kConnectTimeoutSeconds = 3;
constexpr int kReadWriteTimeoutSeconds = 10;

// Client-side error codes (CR_*) after which the connection is gone.
bool breaks_connection(int code) {
    return code == 2002 || code == 2003 || code == 2006 || code == 2013 || code == 2055 ||
           code == 0;  // Connector/C++ reports some transport failures with code 0
}

Status status_of(int code, std::string message) {
    switch (code) {
        case 1062:  // ER_DUP_ENTRY
        case 1451:  // ER_ROW_IS_REFERENCED_2
        case 1586:  // ER_DUP_ENTRY_WITH_KEY_NAME
            return Status::Conflict(std::move(message));
        case 1452:  // ER_NO_REFERENCED_ROW_2
            return Status::NotFound(std::move(message));
        case 1205:  // lock wait timeout
        case 1213:  // deadlock: the transaction was rolled back, retry later
        case 1040:  // too many connections
        case 1047:  // a Galera node that is not ready (outside the primary component)
        case 1053:  // server shutdown in progress
        case 1927:  // connection killed
            return Status::Unavailable(std::move(message));
        default:
            if (breaks_connection(code) || code >= 2000)
                return Status::Unavailable(std::move(message));
            return Status::Internal(std::move(message));
    }
}

// Statements that change nothing: when one fails, no change of the unit was committed.
bool changes_nothing(const std::string& sql) {
    for (std::string_view head :
         {"SELECT", "START TRANSACTION", "SAVEPOINT", "ROLLBACK", "SHOW", "SET "}) {
        if (sql.compare(0, head.size(), head) == 0) return true;
    }
    return false;
}

std::string percent_decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int v = 0;
            auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
            if (ec == std::errc() && p == s.data() + i + 3) {
                out += static_cast<char>(v);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

// get_mysql_driver_instance() is not thread-safe (NOTES.md): take it once.
::sql::mysql::MySQL_Driver* driver() {
    static std::once_flag once;
    static ::sql::mysql::MySQL_Driver* d = nullptr;
    std::call_once(once, [] { d = ::sql::mysql::get_mysql_driver_instance(); });
    return d;
}

class MysqlRow final : public db::Row {
  public:
    explicit MysqlRow(::sql::ResultSet* rs) : rs_(rs) {}
    int64_t integer(int col) const override {
        return static_cast<int64_t>(rs_->getInt64(static_cast<uint32_t>(col + 1)));
    }
    std::optional<int64_t> nullable(int col) const override {
        if (rs_->isNull(static_cast<uint32_t>(col + 1))) return std::nullopt;
        return integer(col);
    }
    std::string text(int col) const override {
        return rs_->getString(static_cast<uint32_t>(col + 1)).asStdString();
    }

  private:
    ::sql::ResultSet* rs_;
};

void bind(::sql::PreparedStatement* ps, db::Params params) {
    unsigned i = 1;
    for (const db::Param& p : params) {
        if (std::holds_alternative<int64_t>(p)) {
            ps->setInt64(i, std::get<int64_t>(p));
        } else if (std::holds_alternative<std::string_view>(p)) {
            const auto& t = std::get<std::string_view>(p);
            ps->setString(i, ::sql::SQLString(std::string(t)));
        } else {
            ps->setNull(i, 0);
        }
        ++i;
    }
}

}  // namespace

Result<Address> parse_url(const std::string& url) {
    constexpr std::string_view scheme = "mysql://";
    if (url.rfind(scheme, 0) != 0) return Status::Invalid("mysql url must start with mysql://");
    std::string rest = url.substr(scheme.size());
    Address a;
    if (auto at = rest.rfind('@'); at != std::string::npos) {
        std::string cred = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = cred.find(':');
        a.user = percent_decode(cred.substr(0, colon));
        if (colon != std::string::npos) a.password = percent_decode(cred.substr(colon + 1));
    }
    auto slash = rest.find('/');
    if (slash == std::string::npos || slash + 1 == rest.size())
        return Status::Invalid("mysql url needs a database name: mysql://user:pass@host:port/db");
    a.database = rest.substr(slash + 1);
    if (auto q = a.database.find('?'); q != std::string::npos) a.database.resize(q);
    rest = rest.substr(0, slash);
    size_t start = 0;
    while (true) {
        const size_t comma = rest.find(',', start);
        std::string item = rest.substr(start, comma == std::string::npos ? comma : comma - start);
        Host h;
        if (auto colon = item.rfind(':'); colon != std::string::npos) {
            std::string port = item.substr(colon + 1);
            item.resize(colon);
            auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), h.port);
            if (ec != std::errc() || p != port.data() + port.size() || h.port <= 0 ||
                h.port > 65535)
                return Status::Invalid("mysql url: bad port '" + port + "'");
        }
        if (!item.empty()) {
            h.name = item;
        } else if (rest.find(',') != std::string::npos) {
            return Status::Invalid("mysql url: an empty host in the list '" + rest + "'");
        }
        a.hosts.push_back(std::move(h));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (a.user.empty()) return Status::Invalid("mysql url needs a user: mysql://user:pass@host/db");
    return a;
}

Result<std::unique_ptr<Connection>> Connection::open(const Address& address, size_t host) {
    const Host& h = address.hosts.at(host);
    const std::string where = h.name + ":" + std::to_string(h.port) + "/" + address.database;
    try {
        ::sql::ConnectOptionsMap opts;
        opts["hostName"] = ::sql::SQLString("tcp://" + h.name + ":" + std::to_string(h.port));
        opts["userName"] = ::sql::SQLString(address.user);
        opts["password"] = ::sql::SQLString(address.password);
        opts["schema"] = ::sql::SQLString(address.database);
        opts["OPT_CONNECT_TIMEOUT"] = kConnectTimeoutSeconds;
        opts["OPT_READ_TIMEOUT"] = kReadWriteTimeoutSeconds;
        opts["OPT_WRITE_TIMEOUT"] = kReadWriteTimeoutSeconds;
        opts["OPT_RECONNECT"] = false;  // we reopen ourselves, outside any transaction
        opts["OPT_CHARSET_NAME"] = ::sql::SQLString("utf8mb4");
        // "Rows affected" counts the rows an UPDATE matched, as SQLite does, not only those
        // it changed: setting a value it already has is still "found".
        opts["CLIENT_FOUND_ROWS"] = true;
        std::unique_ptr<::sql::Connection> c(driver()->connect(opts));
        std::unique_ptr<::sql::Statement> st(c->createStatement());
        st->execute(
            "SET SESSION time_zone = '+00:00', "
            "SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'");
        // Fewer gap locks than REPEATABLE READ: concurrent registrations and claims do not
        // deadlock on ranges they never touch.
        st->execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
        // A Galera node outside the primary component, or still joining, accepts connections
        // but no queries (error 1047): take the next host instead. Other servers have no row.
        // (MariaDB without Galera has wsrep_ready too, OFF, with wsrep_on OFF.)
        std::unique_ptr<::sql::ResultSet> on(st->executeQuery("SHOW VARIABLES LIKE 'wsrep_on'"));
        if (on->next() && on->getString(2).asStdString() == "ON") {
            std::unique_ptr<::sql::ResultSet> ready(
                st->executeQuery("SHOW STATUS LIKE 'wsrep_ready'"));
            if (!ready->next() || ready->getString(2).asStdString() != "ON") {
                return Status::Unavailable("MySQL " + where + " is a Galera node not ready yet");
            }
        }
        return std::unique_ptr<Connection>(new Connection(std::move(c), host));
    } catch (const ::sql::SQLException& e) {
        return Status::Unavailable("cannot connect to MySQL " + where + ": " + e.what());
    } catch (const std::exception& e) {
        return Status::Unavailable("cannot connect to MySQL " + where + ": " + e.what());
    }
}

Connection::Connection(std::unique_ptr<::sql::Connection> c, size_t host)
    : conn_(std::move(c)), host_(host) {}

Connection::~Connection() {
    try {
        statements_.clear();
        conn_.reset();
    } catch (...) {  // a destructor must not throw; the server may be gone already
    }
}

Status Connection::fail(int code, const std::string& sql, const std::string& what) {
    const bool lost = breaks_connection(code);
    if (lost) mark_broken();
    switch (code) {
        case 1213:  // a deadlock or a Galera certification failure: all rolled back
        case 1205:  // lock wait timeout (the storage rolls the rest back)
            aborted = true;
            break;
        case 1047:          // "WSREP has not yet prepared node for application use": nothing ran
        case 1053:          // server shutdown in progress: the statement was not run
        case 1927:          // connection killed
            mark_broken();  // the next connection goes to another node
            aborted = true;
            break;
        default:
            // A lost connection rolls back an open transaction, and a read changed nothing;
            // an autocommit write or a COMMIT may have been done: never run again.
            if (lost) aborted = depth > 0 || changes_nothing(sql);
            break;
    }
    return status_of(code, what);
}

void Connection::succeeded(const std::string& sql) {
    if (depth == 0 && !changes_nothing(sql)) wrote = true;
}

Result<::sql::PreparedStatement*> Connection::prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second.get();
    std::unique_ptr<::sql::PreparedStatement> ps(conn_->prepareStatement(sql));
    auto* raw = ps.get();
    statements_.emplace(sql, std::move(ps));
    return raw;
}

// After an abort inside a transaction the server has rolled it back: a statement sent now
// would commit on its own. Nothing runs until the storage has rolled back and starts over.
Status Connection::refuse_after_abort() const {
    return Status::Unavailable("mysql: the transaction was aborted and runs again");
}

Result<int64_t> Connection::exec(const std::string& sql, db::Params params) {
    if (aborted && depth > 0) return refuse_after_abort();
    note_write(sql);
    try {
        auto ps = prepare(sql);
        if (!ps) return ps.error();
        bind(*ps, params);
        const auto changed = static_cast<int64_t>((*ps)->executeUpdate());
        succeeded(sql);
        return changed;
    } catch (const ::sql::SQLException& e) {
        return fail(e.getErrorCode(), sql, std::string("mysql exec: ") + e.what());
    } catch (const std::exception& e) {
        return fail(0, sql, std::string("mysql exec: ") + e.what());
    }
}

Status Connection::query(const std::string& sql, db::Params params,
                         const std::function<void(const db::Row&)>& on_row) {
    if (aborted && depth > 0) return refuse_after_abort();
    note_write(sql);  // a write with RETURNING yields rows too
    try {
        auto ps = prepare(sql);
        if (!ps) return ps.error();
        bind(*ps, params);
        std::unique_ptr<::sql::ResultSet> rs((*ps)->executeQuery());
        succeeded(sql);
        const MysqlRow row(rs.get());
        while (rs->next()) on_row(row);
        return Status::Ok();
    } catch (const ::sql::SQLException& e) {
        return fail(e.getErrorCode(), sql, std::string("mysql query: ") + e.what());
    } catch (const std::exception& e) {
        return fail(0, sql, std::string("mysql query: ") + e.what());
    }
}

// Migrations are files of statements separated by ";" at the end of a line.
Status Connection::exec_script(const std::string& sql) {
    note_write(sql);
    try {
        std::unique_ptr<::sql::Statement> st(conn_->createStatement());
        size_t start = 0;
        while (start < sql.size()) {
            size_t end = sql.find(";\n", start);
            if (end == std::string::npos) end = sql.size();
            std::string stmt = sql.substr(start, end - start);
            start = end + 2;
            // skip chunks that hold only comments and blanks
            bool has_sql = false;
            size_t pos = 0;
            while (pos < stmt.size()) {
                size_t eol = stmt.find('\n', pos);
                if (eol == std::string::npos) eol = stmt.size();
                std::string line = stmt.substr(pos, eol - pos);
                size_t first = line.find_first_not_of(" \t\r");
                if (first != std::string::npos && line.compare(first, 2, "--") != 0) has_sql = true;
                pos = eol + 1;
            }
            if (has_sql) {
                st->execute(stmt);
                succeeded(stmt);
            }
        }
        return Status::Ok();
    } catch (const ::sql::SQLException& e) {
        return fail(e.getErrorCode(), sql, std::string("mysql script: ") + e.what());
    } catch (const std::exception& e) {
        return fail(0, sql, std::string("mysql script: ") + e.what());
    }
}

// LAST_INSERT_ID() is per connection, and a connection belongs to one thread: no race.
Result<int64_t> Connection::insert(const std::string& sql, db::Params params) {
    auto changed = exec(sql, params);
    if (!changed) return changed.error();
    int64_t id = 0;
    Status s = query("SELECT LAST_INSERT_ID()", {}, [&](const db::Row& r) { id = r.integer(0); });
    if (!s.ok()) return s;
    return id;
}

}  // namespace lkk::mysql
