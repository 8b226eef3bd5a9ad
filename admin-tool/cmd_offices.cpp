// offices list | add | update | remove: the utility's offices ("УЭГХ") that subscribers
// choose from when linking an account, with the phones shown when the data do not match.
#include <algorithm>
#include <iostream>
#include <memory>

#include "commands.h"
#include "lkk/rules.h"
#include "table.h"

namespace lkk::admin {

namespace {

nlohmann::json office_json(const Office& o) {
    return {{"code", o.code}, {"name", o.name}, {"phones", o.phones}, {"email", o.email}};
}

// Codes appear in CSV files and on command lines: keep them plain.
Status check_code(AdminContext& ctx, const std::string& code) {
    const bool plain =
        !code.empty() && code.size() <= 32 && std::all_of(code.begin(), code.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-';
        });
    if (!plain) {
        return ctx.usage("office code '" + code +
                         "': use 1 to 32 Latin letters, digits, '_' or '-' (e.g. SIM)");
    }
    return Status::Ok();
}

Status check_text(AdminContext& ctx, const std::string& what, const std::string& text) {
    if (text.empty() || !rules::is_clean_text(text)) {
        return ctx.usage(what + " must be non-empty text on one line");
    }
    return Status::Ok();
}

// The office e-mail is shown to people as typed; it only has to be an address.
Status check_email(AdminContext& ctx, const std::string& email) {
    if (email.empty()) return Status::Ok();
    auto r = ctx.email_argument(email);
    return r.ok() ? Status::Ok() : r.error();
}

Status not_found(const std::string& code) {
    return Status::NotFound("office " + code + " not found: see `lkk-admin offices list`");
}

struct OfficeArgs {
    std::string code;
    std::string name;
    std::string phones;
    std::string email;
    bool force = false;
    CLI::Option* name_opt = nullptr;
    CLI::Option* phones_opt = nullptr;
    CLI::Option* email_opt = nullptr;
};

Status list(AdminContext& ctx) {
    auto offices = ctx.storage().list_offices();
    if (!offices.ok()) return offices.error();
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& o : offices.value()) out.push_back(office_json(o));
        ctx.print_json(out);
        return Status::Ok();
    }
    if (offices->empty()) {
        std::cout << "no offices yet: add one with `lkk-admin offices add CODE --name NAME "
                     "--phones PHONES`\n";
        return Status::Ok();
    }
    Table t({"CODE", "NAME", "PHONES", "EMAIL"});
    for (const auto& o : offices.value()) t.add({o.code, o.name, o.phones, o.email});
    t.print(std::cout);
    return Status::Ok();
}

Status add(AdminContext& ctx, const OfficeArgs& a) {
    if (Status s = check_code(ctx, a.code); !s.ok()) return s;
    if (Status s = check_text(ctx, "--name", a.name); !s.ok()) return s;
    if (Status s = check_text(ctx, "--phones", a.phones); !s.ok()) return s;
    if (Status s = check_email(ctx, a.email); !s.ok()) return s;
    Office o{a.code, a.name, a.phones, a.email};
    Status s = ctx.storage().in_transaction([&]() -> Status {
        Status ins = ctx.storage().insert_office(o);
        if (ins.code() == StatusCode::conflict) {
            return Status::Conflict("office " + a.code +
                                    " already exists: change it with "
                                    "`lkk-admin offices update " +
                                    a.code + " --name ...`");
        }
        if (!ins.ok()) return ins;
        return ctx.audit("admin_offices_add", "office " + a.code);
    });
    if (!s.ok()) return s;
    if (ctx.json) {
        ctx.print_json(office_json(o));
    } else {
        std::cout << "office " << a.code << " added: " << a.name << "\n";
    }
    return Status::Ok();
}

Status update(AdminContext& ctx, const OfficeArgs& a) {
    if (a.name_opt->count() == 0 && a.phones_opt->count() == 0 && a.email_opt->count() == 0) {
        return ctx.usage("nothing to change: give --name, --phones and/or --email");
    }
    if (a.name_opt->count() > 0) {
        if (Status s = check_text(ctx, "--name", a.name); !s.ok()) return s;
    }
    if (a.phones_opt->count() > 0) {
        if (Status s = check_text(ctx, "--phones", a.phones); !s.ok()) return s;
    }
    if (Status s = check_email(ctx, a.email); !s.ok()) return s;
    Office o;
    Status s = ctx.storage().in_transaction([&]() -> Status {
        auto found = ctx.storage().find_office(a.code);
        if (!found.ok()) return found.error();
        if (!found->has_value()) return not_found(a.code);
        o = **found;
        if (a.name_opt->count() > 0) o.name = a.name;
        if (a.phones_opt->count() > 0) o.phones = a.phones;
        if (a.email_opt->count() > 0) o.email = a.email;
        if (Status u = ctx.storage().update_office(o); !u.ok()) return u;
        return ctx.audit("admin_offices_update", "office " + a.code);
    });
    if (!s.ok()) return s;
    if (ctx.json) {
        ctx.print_json(office_json(o));
    } else {
        std::cout << "office " << o.code << " updated: " << o.name << "; " << o.phones
                  << (o.email.empty() ? "" : "; " + o.email) << "\n";
    }
    return Status::Ok();
}

Status remove(AdminContext& ctx, const OfficeArgs& a) {
    Status s = ctx.storage().in_transaction([&]() -> Status {
        Status r = ctx.storage().remove_office(a.code, a.force);
        if (r.code() == StatusCode::not_found) return not_found(a.code);
        if (r.code() == StatusCode::conflict) {
            return Status::Conflict("office " + a.code + " not removed: " + r.message() +
                                    ". Subscribers still have its accounts in their cabinets; "
                                    "unlink them (`lkk-admin accounts unlink EMAIL " +
                                    a.code + " ACCOUNT`) or add --force to remove them too");
        }
        if (!r.ok()) return r;
        return ctx.audit("admin_offices_remove",
                         "office " + a.code + (a.force ? " (--force)" : ""));
    });
    if (!s.ok()) return s;
    if (ctx.json) {
        ctx.print_json({{"removed", a.code}});
    } else {
        std::cout << "office " << a.code << " removed\n";
    }
    return Status::Ok();
}

}  // namespace

void add_offices_commands(CLI::App& app, AdminContext& ctx) {
    auto args = std::make_shared<OfficeArgs>();
    auto* group = app.add_subcommand("offices", "the utility's offices subscribers choose from");
    group->require_subcommand(1);

    group->add_subcommand("list", "list the offices")->callback([&ctx] {
        ctx.run([&ctx] { return list(ctx); });
    });

    auto* add_cmd = group->add_subcommand("add", "add an office");
    add_cmd->add_option("CODE", args->code, "short code used in billing files, e.g. SIM")
        ->required();
    add_cmd->add_option("--name", args->name, "name shown to subscribers")->required();
    add_cmd->add_option("--phones", args->phones, "accounting phones shown on a mismatch")
        ->required();
    add_cmd->add_option("--email", args->email, "the office's e-mail");
    add_cmd->callback([&ctx, args] { ctx.run([&ctx, args] { return add(ctx, *args); }); });

    auto* update_cmd = group->add_subcommand("update", "change an office's name, phones or e-mail");
    update_cmd->add_option("CODE", args->code, "office code")->required();
    args->name_opt = update_cmd->add_option("--name", args->name, "new name");
    args->phones_opt = update_cmd->add_option("--phones", args->phones, "new phones");
    args->email_opt = update_cmd->add_option("--email", args->email, "new e-mail ('' clears it)");
    update_cmd->callback([&ctx, args] { ctx.run([&ctx, args] { return update(ctx, *args); }); });

    auto* remove_cmd = group->add_subcommand(
        "remove", "remove an office (refused while subscribers have its accounts linked)");
    remove_cmd->add_option("CODE", args->code, "office code")->required();
    remove_cmd->add_flag("--force", args->force,
                         "remove even with linked accounts (their links go too)");
    remove_cmd->callback([&ctx, args] { ctx.run([&ctx, args] { return remove(ctx, *args); }); });
}

}  // namespace lkk::admin
