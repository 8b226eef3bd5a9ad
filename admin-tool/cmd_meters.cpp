// meters import FILE | meters list OFFICE ACCOUNT | meters remove OFFICE ACCOUNT METER, and
// readings export: the meters subscribers report readings for, and the readings going back
// to billing (SPEC 9). Argument parsing and printing only; the work is the Readings service's.
#include <iostream>
#include <memory>
#include <regex>

#include "commands.h"
#include "csv_import_cmd.h"
#include "lkk/readings.h"
#include "table.h"

namespace lkk::admin {

namespace {

struct MeterArgs {
    std::string office;
    std::string account;
    std::string meter;
};

struct ExportArgs {
    std::string period;
    std::string office;
    std::string format = "csv";
};

std::string value_text(int64_t milli) {
    return readings::format_value(milli, 0, '.');
}

// "2026-05-20T09:00:00Z": what another program reads without guessing a zone.
std::string iso_utc(int64_t t) {
    return format_time(t, "%Y-%m-%dT%H:%M:%SZ");
}

Status import(AdminContext& ctx, const CsvImportArgs& a) {
    return run_csv_import(
        ctx, a,
        [&ctx](std::istream& in, const CsvImportOptions& options, std::string_view source,
               const std::function<void(const CsvImportProgress&)>& progress) {
            return ctx.support().import_meters(in, options, source, progress);
        });
}

Status list(AdminContext& ctx, const MeterArgs& a) {
    auto rows = ctx.support().meters(a.office, a.account);
    if (!rows.ok()) return ctx.argument_error(rows.error());
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const MeterRow& r : *rows) {
            nlohmann::json j = {{"office", r.office_code},
                                {"account", r.account_number},
                                {"meter", r.meter.serial},
                                {"name", r.meter.name},
                                {"model", r.meter.model},
                                {"digits", r.meter.digits},
                                {"verification_due", r.meter.verification_due}};
            if (r.last) {
                j["last_reading"] = value_text(r.last->value);
                j["last_reading_period"] = r.last->period;
                j["last_reading_at"] = iso_utc(r.last->submitted_at);
                j["last_reading_source"] = std::string(reading_source_name(r.last->source));
            } else {
                j["last_reading"] = nullptr;
            }
            out.push_back(j);
        }
        ctx.print_json(out);
        return Status::Ok();
    }
    if (rows->empty()) {
        std::cout << "no meters on account " << a.account << " of office " << a.office
                  << ": import them with `lkk-admin meters import FILE`\n";
        return Status::Ok();
    }
    Table t({"METER", "NAME", "MODEL", "DIGITS", "LAST READING", "PERIOD", "SOURCE",
             "VERIFICATION DUE"});
    for (const MeterRow& r : *rows) {
        t.add({r.meter.serial, r.meter.name.empty() ? "-" : r.meter.name,
               r.meter.model.empty() ? "-" : r.meter.model, std::to_string(r.meter.digits),
               r.last ? value_text(r.last->value) : "-", r.last ? r.last->period : "-",
               r.last ? std::string(reading_source_name(r.last->source)) : "-",
               r.meter.verification_due.empty() ? "-" : r.meter.verification_due});
    }
    t.print(std::cout);
    return Status::Ok();
}

Status remove(AdminContext& ctx, const MeterArgs& a) {
    Status s = ctx.support().remove_meter(a.office, a.account, a.meter);
    if (!s.ok()) return ctx.argument_error(s);
    if (ctx.json) {
        ctx.print_json(
            {{"office", a.office}, {"account", a.account}, {"meter", a.meter}, {"removed", true}});
    } else {
        std::cout << "meter " << a.meter << " of account " << a.account << " (office " << a.office
                  << ") removed with its readings\n";
    }
    return Status::Ok();
}

// Read-only and repeatable: the billing system may load the same month again.
Status export_readings(AdminContext& ctx, const ExportArgs& a) {
    static const std::regex kPeriod("^[0-9]{4}-(0[1-9]|1[0-2])$");
    if (!a.period.empty() && !std::regex_match(a.period, kPeriod)) {
        return ctx.usage("--period '" + a.period + "': write the month as YYYY-MM");
    }
    const bool json = ctx.json || a.format == "json";
    if (a.format != "csv" && a.format != "json") {
        return ctx.usage("--format '" + a.format + "': csv or json");
    }
    nlohmann::json out = nlohmann::json::array();
    if (!json) std::cout << "office;account;meter;period;value;submitted_at;source\n";
    Status s = ctx.support().export_readings({a.period, a.office}, [&](const ReadingExportRow& r) {
        const std::string value = value_text(r.reading.value);
        const std::string at = iso_utc(r.reading.submitted_at);
        const std::string source(reading_source_name(r.reading.source));
        if (json) {
            out.push_back({{"office", r.office_code},
                           {"account", r.account_number},
                           {"meter", r.serial},
                           {"period", r.reading.period},
                           {"value", value},
                           {"submitted_at", at},
                           {"source", source}});
        } else {
            // Codes, numbers and serials carry no ';' (the importers refuse none, so
            // quote a serial that has one).
            std::string serial = r.serial;
            if (serial.find_first_of(";\"") != std::string::npos) {
                std::string q = "\"";
                for (char c : serial) q += c == '"' ? std::string("\"\"") : std::string(1, c);
                serial = q + "\"";
            }
            std::cout << r.office_code << ';' << r.account_number << ';' << serial << ';'
                      << r.reading.period << ';' << value << ';' << at << ';' << source << '\n';
        }
    });
    if (!s.ok()) return s;
    if (json) ctx.print_json(out);
    return Status::Ok();
}

}  // namespace

void add_meters_commands(CLI::App& app, AdminContext& ctx) {
    auto* group = app.add_subcommand("meters", "gas meters of billing accounts (SPEC 9)");
    group->require_subcommand(1);

    auto ia = std::make_shared<CsvImportArgs>();
    auto* imp = group->add_subcommand(
        "import", "import a meters CSV file (all or nothing; upserts by account + meter)");
    add_csv_import_options(imp, *ia,
                           "CSV with a header: office;account;meter;last_reading;"
                           "last_reading_date[;name][;model][;digits][;verification_due] "
                           "('-' = stdin)");
    imp->callback([&ctx, ia] { ctx.run([&ctx, ia] { return import(ctx, *ia); }); });

    auto la = std::make_shared<MeterArgs>();
    auto* ls = group->add_subcommand("list", "the meters of one account with their last reading");
    ls->add_option("OFFICE", la->office, "office code")->required();
    ls->add_option("ACCOUNT", la->account, "account number")->required();
    ls->callback([&ctx, la] { ctx.run([&ctx, la] { return list(ctx, *la); }); });

    auto ra = std::make_shared<MeterArgs>();
    auto* rm = group->add_subcommand("remove", "remove a meter and its readings");
    rm->add_option("OFFICE", ra->office, "office code")->required();
    rm->add_option("ACCOUNT", ra->account, "account number")->required();
    rm->add_option("METER", ra->meter, "meter serial number")->required();
    rm->callback([&ctx, ra] { ctx.run([&ctx, ra] { return remove(ctx, *ra); }); });

    auto* readings = app.add_subcommand("readings", "meter readings (SPEC 9)");
    readings->require_subcommand(1);
    auto ea = std::make_shared<ExportArgs>();
    auto* ex = readings->add_subcommand(
        "export", "write readings for the billing system (read-only; may be run again)");
    ex->add_option("--period", ea->period, "only this month, YYYY-MM");
    ex->add_option("--office", ea->office, "only this office");
    ex->add_option("--format", ea->format,
                   "csv (default; office;account;meter;period;value;"
                   "submitted_at;source) or json");
    ex->callback([&ctx, ea] { ctx.run([&ctx, ea] { return export_readings(ctx, *ea); }); });
}

}  // namespace lkk::admin
