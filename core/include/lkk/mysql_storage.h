// The MySQL/MariaDB backend of Storage (MySQL Connector/C++), for sites with several nginx
// hosts sharing one database. Like the SQLite backend, the object also implements
// SessionStore and CounterStore ([sessions] url = "storage").
#pragma once

#include <memory>
#include <string>

#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

// url: "mysql://user:password@host:port/database". Nothing is connected or migrated here:
// connections open lazily per thread, and the schema is created/upgraded by
// `lkk-admin migrate` (Storage::migrate).
Result<std::unique_ptr<Storage>> open_mysql_storage(const std::string& url);

}  // namespace lkk
