// Picks the storage backend from the settings' [storage] url.
#include <string>
#include <string_view>

#include "lkk/mysql_storage.h"
#include "lkk/sqlite_storage.h"
#include "lkk/storage.h"

namespace lkk {

std::string_view user_status_name(UserStatus s) {
    switch (s) {
        case UserStatus::active:
            return "active";
        case UserStatus::blocked:
            return "blocked";
        case UserStatus::deleted:
            return "deleted";
        case UserStatus::pending:
            break;
    }
    return "pending";
}

std::string_view mail_state_name(MailState s) {
    switch (s) {
        case MailState::sent:
            return "sent";
        case MailState::failed:
            return "failed";
        case MailState::pending:
            break;
    }
    return "pending";
}

// "sqlite:PATH" (also "sqlite://PATH") or "mysql://user:pass@host:port/db".
Result<std::unique_ptr<Storage>> open_storage(const std::string& url) {
    constexpr std::string_view sqlite_scheme = "sqlite:";
    if (url.starts_with(sqlite_scheme)) {
        std::string path = url.substr(sqlite_scheme.size());
        if (path.starts_with("//")) path.erase(0, 2);
        return open_sqlite_storage(path);
    }
    if (url.starts_with("mysql://")) {
        return open_mysql_storage(url);
    }
    return Status::Invalid("unknown storage url \"" + url +
                           "\": expected sqlite:PATH or mysql://user:pass@host:port/db");
}

}  // namespace lkk
