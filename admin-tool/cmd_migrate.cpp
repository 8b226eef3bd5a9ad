// migrate: create or upgrade the schema (SQLite migrates on open too; MySQL only here).
#include <iostream>

#include "commands.h"

namespace lkk::admin {

void add_migrate_command(CLI::App& app, AdminContext& ctx) {
    auto* cmd = app.add_subcommand("migrate", "create or upgrade the database schema (idempotent)");
    cmd->callback([&ctx] {
        ctx.run([&ctx]() -> Status {
            auto before = ctx.storage().schema_version();
            if (!before.ok()) return before.error();
            if (Status s = ctx.storage().migrate(); !s.ok()) {
                return Status(s.code(), "migration failed: " + s.message());
            }
            auto after = ctx.storage().schema_version();
            if (!after.ok()) return after.error();
            const int expected = ctx.storage().expected_schema_version();
            if (after.value() != before.value()) {
                if (Status s =
                        ctx.audit("admin_migrate", "schema " + std::to_string(before.value()) +
                                                       " -> " + std::to_string(after.value()));
                    !s.ok()) {
                    return s;
                }
            }
            if (ctx.json) {
                ctx.print_json({{"schema_version", after.value()},
                                {"previous_version", before.value()},
                                {"expected_version", expected}});
            } else if (after.value() == before.value()) {
                std::cout << "schema version " << after.value() << ": up to date\n";
            } else {
                std::cout << "schema version " << after.value() << " (was " << before.value()
                          << ")\n";
            }
            if (after.value() != expected) {
                return Status::Internal("schema version " + std::to_string(after.value()) +
                                        " differs from the " + std::to_string(expected) +
                                        " this build expects");
            }
            return Status::Ok();
        });
    });
}

}  // namespace lkk::admin
