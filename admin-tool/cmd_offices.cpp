// offices list | add | update | remove: the utility's offices ("УЭГХ") that subscribers
// choose from when linking an account, with the phones shown when the data do not match.
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "table.h"

namespace lkk::admin {

namespace {

nlohmann::json office_json(const Office& o) {
    const PaymentRequisites& r = o.requisites;
    nlohmann::json requisites = nullptr;
    if (!r.empty()) {
        requisites = {{"payee", r.payee},
                      {"inn", r.inn},
                      {"kpp", r.kpp},
                      {"bank", r.bank},
                      {"bic", r.bic},
                      {"account", r.account},
                      {"corr_account", r.corr_account}};
    }
    return {{"code", o.code},
            {"name", o.name},
            {"phones", o.phones},
            {"email", o.email},
            {"requisites", requisites}};
}

// The requisites options, shared by add and update (SPEC 10).
struct RequisiteOption {
    const char* flag;
    const char* help;
    std::string PaymentRequisites::*field;
    std::optional<std::string> OfficeChange::*change;
    std::string value{};
    CLI::Option* option = nullptr;
};

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
    std::vector<RequisiteOption> requisites = {
        {"--payee", "payment requisites: the payee's name as the bank knows it (at most 160)",
         &PaymentRequisites::payee, &OfficeChange::payee},
        {"--inn", "payment requisites: the payee's INN, 10 or 12 digits", &PaymentRequisites::inn,
         &OfficeChange::inn},
        {"--kpp", "payment requisites: the payee's KPP, 9 characters (optional)",
         &PaymentRequisites::kpp, &OfficeChange::kpp},
        {"--bank", "payment requisites: the bank's name (at most 45 characters)",
         &PaymentRequisites::bank, &OfficeChange::bank},
        {"--bic", "payment requisites: the bank's BIC, 9 digits", &PaymentRequisites::bic,
         &OfficeChange::bic},
        {"--account", "payment requisites: the 20-digit settlement account (checked with the BIC)",
         &PaymentRequisites::account, &OfficeChange::account},
        {"--corr-account", "payment requisites: the bank's 20-digit correspondent account",
         &PaymentRequisites::corr_account, &OfficeChange::corr_account},
    };
    void add_requisites_options(CLI::App* command) {
        for (RequisiteOption& r : requisites) {
            r.option = command->add_option(r.flag, r.value, r.help);
        }
    }
    // The options given (the others stay empty / unchanged).
    void requisites_into(PaymentRequisites& into) const {
        for (const RequisiteOption& r : requisites) {
            if (r.option->count() > 0) into.*r.field = r.value;
        }
    }
    void requisites_into(OfficeChange& change) const {
        for (const RequisiteOption& r : requisites) {
            if (r.option->count() > 0) change.*r.change = r.value;
        }
    }
    bool requisites_given() const {
        return std::any_of(requisites.begin(), requisites.end(),
                           [](const RequisiteOption& r) { return r.option->count() > 0; });
    }
    // A refused value: a mistyped requisite is a failure that names the field (exit 1, SPEC
    // 10), like a wrong amount in an import; the other fields' mistakes stay usage errors.
    Status refused(AdminContext& ctx, const Status& s) const {
        if (s.code() == StatusCode::invalid_argument && requisites_given()) return s;
        return ctx.argument_error(s);
    }
};

// "payee; INN ...; BIC ...; account ...", or "no payment requisites".
std::string requisites_text(const PaymentRequisites& r) {
    if (r.empty()) return "no payment requisites";
    std::string out = r.payee + "; INN " + r.inn;
    if (!r.kpp.empty()) out += ", KPP " + r.kpp;
    out += "; " + r.bank + ", BIC " + r.bic + "; account " + r.account;
    if (!r.corr_account.empty()) out += ", corr. account " + r.corr_account;
    return out;
}

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
    Table t({"CODE", "NAME", "PHONES", "EMAIL", "INN", "ACCOUNT"});
    for (const auto& o : offices.value()) {
        t.add({o.code, o.name, o.phones, o.email, o.requisites.inn.empty() ? "-" : o.requisites.inn,
               o.requisites.account.empty() ? "-" : o.requisites.account});
    }
    t.print(std::cout);
    return Status::Ok();
}

Status add(AdminContext& ctx, const OfficeArgs& a) {
    Office o{a.code, a.name, a.phones, a.email};
    a.requisites_into(o.requisites);
    Status s = ctx.support().add_office(o);
    if (s.code() == StatusCode::conflict) {
        return Status::Conflict(s.message() + ": change it with `lkk-admin offices update " +
                                a.code + " --name ...`");
    }
    if (!s.ok()) return a.refused(ctx, s);
    if (ctx.json) {
        ctx.print_json(office_json(o));
    } else {
        std::cout << "office " << a.code << " added: " << a.name << "; "
                  << requisites_text(o.requisites) << "\n";
    }
    return Status::Ok();
}

Status update(AdminContext& ctx, const OfficeArgs& a) {
    OfficeChange change;
    if (a.name_opt->count() > 0) change.name = a.name;
    if (a.phones_opt->count() > 0) change.phones = a.phones;
    if (a.email_opt->count() > 0) change.email = a.email;
    a.requisites_into(change);
    if (change.empty()) {
        return ctx.usage(
            "nothing to change: give --name, --phones, --email and/or the payment requisites "
            "(--payee --inn --kpp --bank --bic --account --corr-account)");
    }
    auto o = ctx.support().update_office(a.code, change);
    if (!o.ok()) {
        if (o.error().code() == StatusCode::not_found) return not_found(a.code);
        return a.refused(ctx, o.error());
    }
    if (ctx.json) {
        ctx.print_json(office_json(*o));
    } else {
        std::cout << "office " << o->code << " updated: " << o->name << "; " << o->phones
                  << (o->email.empty() ? "" : "; " + o->email) << "; "
                  << requisites_text(o->requisites) << "\n";
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

    // add and update each have their own requisites options (CLI11 counts per option).
    auto add_args = std::make_shared<OfficeArgs>();
    auto* add_cmd = group->add_subcommand("add", "add an office");
    add_cmd->add_option("CODE", add_args->code, "short code used in billing files, e.g. SIM")
        ->required();
    add_cmd->add_option("--name", add_args->name, "name shown to subscribers")->required();
    add_cmd->add_option("--phones", add_args->phones, "accounting phones shown on a mismatch")
        ->required();
    add_cmd->add_option("--email", add_args->email, "the office's e-mail");
    add_args->add_requisites_options(add_cmd);
    add_cmd->callback(
        [&ctx, add_args] { ctx.run([&ctx, add_args] { return add(ctx, *add_args); }); });

    auto* update_cmd = group->add_subcommand(
        "update", "change an office's name, phones, e-mail or payment requisites");
    update_cmd->add_option("CODE", args->code, "office code")->required();
    args->name_opt = update_cmd->add_option("--name", args->name, "new name");
    args->phones_opt = update_cmd->add_option("--phones", args->phones, "new phones");
    args->email_opt = update_cmd->add_option("--email", args->email, "new e-mail ('' clears it)");
    args->add_requisites_options(update_cmd);
    update_cmd->callback([&ctx, args] { ctx.run([&ctx, args] { return update(ctx, *args); }); });

    auto* remove_cmd = group->add_subcommand(
        "remove", "remove an office (refused while subscribers have its accounts linked)");
    remove_cmd->add_option("CODE", args->code, "office code")->required();
    remove_cmd->add_flag("--force", args->force,
                         "remove even with linked accounts (their links go too)");
    remove_cmd->callback([&ctx, args] { ctx.run([&ctx, args] { return remove(ctx, *args); }); });
}

}  // namespace lkk::admin
