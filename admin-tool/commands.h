// The command groups of lkk-admin (SPEC section 7), one file each. Each function adds its
// subcommands to the CLI11 app; their callbacks run through AdminContext::run.
#pragma once

#include <CLI/CLI.hpp>

#include "admin_context.h"

namespace lkk::admin {

void add_migrate_command(CLI::App& app, AdminContext& ctx);    // cmd_migrate.cpp
void add_offices_commands(CLI::App& app, AdminContext& ctx);   // cmd_offices.cpp
void add_billing_commands(CLI::App& app, AdminContext& ctx);   // cmd_billing.cpp
void add_meters_commands(CLI::App& app, AdminContext& ctx);    // cmd_meters.cpp (+ readings)
void add_money_commands(CLI::App& app, AdminContext& ctx);     // cmd_money.cpp
void add_users_commands(CLI::App& app, AdminContext& ctx);     // cmd_users.cpp
void add_accounts_commands(CLI::App& app, AdminContext& ctx);  // cmd_accounts.cpp
void add_outbox_commands(CLI::App& app, AdminContext& ctx);    // cmd_outbox.cpp
void add_stats_command(CLI::App& app, AdminContext& ctx);      // cmd_stats.cpp
void add_audit_command(CLI::App& app, AdminContext& ctx);      // cmd_audit.cpp

}  // namespace lkk::admin
