// lkk-admin [--config FILE] [--json] COMMAND: the support staff's tool (SPEC section 7).
// Exit codes: 0 done, 1 the command failed, 2 the command line is wrong.
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "admin_context.h"
#include "commands.h"

int main(int argc, char** argv) {
    using namespace lkk::admin;
    AdminContext ctx;
    CLI::App app{
        "lkk-admin: manage the lkk subscriber portal (offices, billing data, cabinets, mail).\n"
        "Reads the same settings file as the nginx module."};
    app.require_subcommand(1);
    // Global options may follow the command too: `lkk-admin users show X --json`.
    app.fallthrough();
    app.add_option("--config", ctx.config_path,
                   "settings file (default: $LKK_CONFIG, then /etc/lkk/lkk.toml)");
    app.add_flag("--json", ctx.json, "machine-readable JSON on stdout");

    add_migrate_command(app, ctx);
    add_offices_commands(app, ctx);
    add_billing_commands(app, ctx);
    add_meters_commands(app, ctx);
    add_money_commands(app, ctx);
    add_users_commands(app, ctx);
    add_accounts_commands(app, ctx);
    add_outbox_commands(app, ctx);
    add_stats_command(app, ctx);
    add_audit_command(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help is a "parse error" with exit code 0; every real one is a usage error.
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "lkk-admin: unexpected error: " << e.what() << "\n";
        return kExitFailure;
    }
    return ctx.exit_code;
}
