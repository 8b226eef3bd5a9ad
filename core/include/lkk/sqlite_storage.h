// The SQLite backend of Storage (the embedded default: no server to run).
// The object it answers also implements SessionStore and CounterStore, so sessions and
// throttle counters can live in the same file ([sessions] url = "storage").
#pragma once

#include <memory>
#include <string>

#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

// Opens (creating if missing) the database file at path and applies pending migrations.
// The file's directory must exist and be writable: WAL mode keeps two files beside it.
Result<std::unique_ptr<Storage>> open_sqlite_storage(const std::string& path);

}  // namespace lkk
