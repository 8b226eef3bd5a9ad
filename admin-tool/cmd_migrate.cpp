// migrate: create or upgrade the schema (SQLite migrates on open too; MySQL only here).
#include <iostream>

#include "commands.h"

namespace lkk::admin {

void add_migrate_command(CLI::App& app, AdminContext& ctx) {
    auto* cmd = app.add_subcommand("migrate", "create or upgrade the database schema (idempotent)");
    cmd->callback([&ctx] {
        ctx.run([&ctx]() -> Status {
            auto r = ctx.support().migrate();
            if (!r.ok()) return r.error();
            if (ctx.json) {
                ctx.print_json({{"schema_version", r->after},
                                {"previous_version", r->before},
                                {"expected_version", r->expected}});
            } else if (r->after == r->before) {
                std::cout << "schema version " << r->after << ": up to date\n";
            } else {
                std::cout << "schema version " << r->after << " (was " << r->before << ")\n";
            }
            if (r->after != r->expected) {
                return Status::Internal("schema version " + std::to_string(r->after) +
                                        " differs from the " + std::to_string(r->expected) +
                                        " this build expects");
            }
            return Status::Ok();
        });
    });
}

}  // namespace lkk::admin
