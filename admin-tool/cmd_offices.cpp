// offices list | add | update | remove: the utility's offices ("УЭГХ") that subscribers
// choose from when linking an account, with the phones shown when the data do not match.
#include <iostream>
#include <memory>

#include "commands.h"
#include "table.h"

namespace lkk::admin {

namespace {

nlohmann::json office_json(const Office& o) {
    return {{"code", o.code}, {"name", o.name}, {"phones", o.phones}, {"email", o.email}};
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
    auto offices = ctx.support().offices();
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
    const Office o{a.code, a.name, a.phones, a.email};
    Status s = ctx.support().add_office(o);
    if (s.code() == StatusCode::conflict) {
        return Status::Conflict(s.message() + ": change it with `lkk-admin offices update " +
                                a.code + " --name ...`");
    }
    if (!s.ok()) return ctx.argument_error(s);
    if (ctx.json) {
        ctx.print_json(office_json(o));
    } else {
        std::cout << "office " << a.code << " added: " << a.name << "\n";
    }
    return Status::Ok();
}

Status update(AdminContext& ctx, const OfficeArgs& a) {
    OfficeChange change;
    if (a.name_opt->count() > 0) change.name = a.name;
    if (a.phones_opt->count() > 0) change.phones = a.phones;
    if (a.email_opt->count() > 0) change.email = a.email;
    if (!change.name && !change.phones && !change.email) {
        return ctx.usage("nothing to change: give --name, --phones and/or --email");
    }
    auto o = ctx.support().update_office(a.code, change);
    if (!o.ok()) {
        if (o.error().code() == StatusCode::not_found) return not_found(a.code);
        return ctx.argument_error(o.error());
    }
    if (ctx.json) {
        ctx.print_json(office_json(*o));
    } else {
        std::cout << "office " << o->code << " updated: " << o->name << "; " << o->phones
                  << (o->email.empty() ? "" : "; " + o->email) << "\n";
    }
    return Status::Ok();
}

Status remove(AdminContext& ctx, const OfficeArgs& a) {
    Status s = ctx.support().remove_office(a.code, a.force);
    if (s.code() == StatusCode::not_found) return not_found(a.code);
    if (s.code() == StatusCode::conflict) {
        return Status::Conflict(s.message() +
                                ". Subscribers still have its accounts in their cabinets; "
                                "unlink them (`lkk-admin accounts unlink EMAIL " +
                                a.code + " ACCOUNT`) or add --force to remove them too");
    }
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
