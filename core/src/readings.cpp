// The Readings service (SPEC 9): a subscriber's meters, history and submissions, and the
// support side (import, list, remove, export). The rules themselves are the pure functions
// of readings_rules.cpp.
#include "lkk/readings.h"

#include <algorithm>
#include <string>

#include "csv_pipeline.h"
#include "lkk/audit.h"
#include "lkk/metrics.h"
#include "lkk/rules.h"

namespace lkk {

using namespace readings;

namespace {

FieldError field_error(std::string field, std::string code, std::string ru, std::string en) {
    return FieldError{std::move(field), std::move(code), std::move(ru), std::move(en)};
}

SubmitReply failed(SubmitReply r, const Status& s) {
    r.outcome = s.code() == StatusCode::not_found     ? SubmitOutcome::not_found
                : s.code() == StatusCode::unavailable ? SubmitOutcome::unavailable
                                                      : SubmitOutcome::internal;
    r.status = s;
    return r;
}

}  // namespace

std::string_view submit_outcome_code(SubmitOutcome outcome) {
    switch (outcome) {
        case SubmitOutcome::ok:
            return "ok";
        case SubmitOutcome::form_error:
            return "form_error";
        case SubmitOutcome::needs_confirmation:
            return "needs_confirmation";
        case SubmitOutcome::window_closed:
            return "window_closed";
        case SubmitOutcome::not_found:
            return "not_found";
        case SubmitOutcome::unavailable:
            return "unavailable";
        case SubmitOutcome::internal:
            return "internal";
    }
    return "internal";
}

Readings::Readings(const Settings& settings, Storage& storage, Clock& clock)
    : settings_(settings), storage_(storage), clock_(clock) {}

Result<MeterStore*> Readings::meters() {
    MeterStore* m = meter_store_of(storage_);
    if (m == nullptr) return Status::Unavailable("this storage backend keeps no meters");
    return m;
}

Window Readings::window() {
    const auto& r = settings_.readings;
    return window_at(clock_.now(), settings_.portal.time_zone, r.window_start_day,
                     r.window_end_day);
}

Result<AccountMeters> Readings::account(int64_t user_id, int64_t link_id) {
    auto ms = meters();
    if (!ms) return ms.error();
    auto links = storage_.list_links(user_id);
    if (!links) return links.error();
    auto it = std::find_if(links->begin(), links->end(),
                           [link_id](const LinkedAccount& l) { return l.link_id == link_id; });
    if (it == links->end()) return Status::NotFound("no such account in this cabinet");
    AccountMeters out;
    out.account = *it;
    out.window = window();
    auto list = (*ms)->meters_of_account(it->account.id);
    if (!list) return list.error();
    for (Meter& m : *list) {
        MeterView v;
        auto last = (*ms)->last_reading(m.id, out.window.period);
        if (!last) return last.error();
        auto newest = (*ms)->last_reading(m.id, "");
        if (!newest) return newest.error();
        v.last = std::move(last.value());
        if (*newest && (*newest)->period == out.window.period) v.this_month = **newest;
        v.verification = verification_state(m.verification_due, out.window.today);
        v.meter = std::move(m);
        out.meters.push_back(std::move(v));
    }
    return out;
}

Result<std::vector<MeterHistory>> Readings::history(const AccountMeters& account) {
    auto ms = meters();
    if (!ms) return ms.error();
    const std::string from = period_before(account.window.period, kHistoryMonths - 1);
    std::vector<MeterHistory> out;
    for (const MeterView& v : account.meters) {
        MeterHistory h;
        h.meter = v.meter;
        auto before = (*ms)->last_reading(v.meter.id, from);
        if (!before) return before.error();
        auto list = (*ms)->readings_of(v.meter.id, from);
        if (!list) return list.error();
        std::optional<int64_t> previous;
        if (*before) previous = (*before)->value;
        for (Reading& r : *list) {
            HistoryRow row;
            row.period = r.period;
            if (previous) row.consumption = consumption_between(*previous, r.value, v.meter.digits);
            previous = r.value;
            row.reading = std::move(r);
            h.rows.push_back(std::move(row));
        }
        out.push_back(std::move(h));
    }
    return out;
}

SubmitReply Readings::submit(int64_t user_id, int64_t link_id, std::string_view meter_serial,
                             std::string_view value, bool confirm, const RequestContext& ctx) {
    SubmitReply r;
    auto acc = account(user_id, link_id);
    if (!acc) return failed(std::move(r), acc.error());
    r.window = acc->window;
    const auto& cfg = settings_.readings;
    const MeterView* view = nullptr;
    for (const MeterView& v : acc->meters) {
        if (v.meter.serial == meter_serial) view = &v;
    }
    if (view == nullptr) {
        return failed(std::move(r), Status::NotFound("no such meter on this account"));
    }
    r.meter = view->meter;
    r.last = view->last;
    if (!r.window.open) {
        r.outcome = SubmitOutcome::window_closed;
        return r;
    }
    auto parsed = parse_value(value, cfg.decimals);
    if (!parsed.ok()) {
        r.outcome = SubmitOutcome::form_error;
        r.errors.push_back(field_error("value", std::string(error_code(parsed.error())),
                                       format_message(parsed.error(), Locale::ru, cfg.decimals),
                                       format_message(parsed.error(), Locale::en, cfg.decimals)));
        return r;
    }
    std::optional<int64_t> last;
    if (view->last) last = view->last->value;
    r.check = check_value(parsed.value(), last, view->meter.digits, cfg.max_monthly_m3);
    if (r.check.verdict == Verdict::below_last) {
        const std::string v = format_value(*last, cfg.decimals);
        const CivilDate day = local_date(view->last->submitted_at, settings_.portal.time_zone);
        r.outcome = SubmitOutcome::form_error;
        r.errors.push_back(field_error("value", "reading_below_last",
                                       "Показание меньше последнего известного (" + v + " м³, " +
                                           dotted_date(day) + "). Проверьте цифры на счётчике.",
                                       "The reading is below the last known one (" + v + " m³, " +
                                           iso_date(day) +
                                           "). Please check the digits on the meter."));
        return r;
    }
    if (r.check.verdict == Verdict::too_many_digits) {
        const std::string n = std::to_string(view->meter.digits);
        r.outcome = SubmitOutcome::form_error;
        r.errors.push_back(field_error(
            "value", "reading_too_many_digits",
            "На этом счётчике " + n + " цифр(ы) до запятой; проверьте показание.",
            "This meter has " + n + " digit(s) before the comma; please check the reading."));
        return r;
    }
    if (r.check.needs_confirmation() && !confirm) {
        r.outcome = SubmitOutcome::needs_confirmation;
        return r;
    }
    Reading stored;
    stored.meter_id = view->meter.id;
    stored.period = r.window.period;
    stored.value = parsed.value();
    stored.source = ReadingSource::subscriber;
    stored.submitted_at = clock_.now();
    stored.user_id = user_id;
    auto ms = meters();
    if (!ms) return failed(std::move(r), ms.error());
    // The audit keeps every submission, so a replaced reading stays on record there.
    std::string detail = "office " + acc->account.office.code + " account " +
                         acc->account.account.account_number + " meter " + view->meter.serial +
                         " period " + stored.period + " value " +
                         format_value(stored.value, 3, '.');
    if (r.check.consumption) {
        detail += " consumption " + format_value(*r.check.consumption, 3, '.');
    }
    if (view->this_month) {
        detail += " replaces " + format_value(view->this_month->value, 3, '.');
    }
    if (r.check.needs_confirmation()) detail += " confirmed";
    Status s = storage_.in_transaction([&]() -> Status {
        if (Status put = (*ms)->put_reading(stored); !put.ok()) return put;
        return record_audit(storage_, stored.submitted_at, subscriber_actor(user_id, ctx.ip),
                            user_id, "reading", detail);
    });
    if (!s.ok()) return failed(std::move(r), s);
    r.stored = stored;
    r.replaced = view->this_month;
    r.outcome = SubmitOutcome::ok;
    metrics::count_reading();
    return r;
}

// ---- support ----

Result<BillingAccount> Readings::billing_account(const std::string& office,
                                                 const std::string& account_number) {
    auto number = rules::normalize_account_number(account_number);
    if (!number.ok()) {
        return Status::Invalid("account '" + account_number +
                               "': " + std::string(rules::message(number.error()).en));
    }
    auto found = storage_.find_billing_account(office, number.value());
    if (!found) return found.error();
    if (!found->has_value()) {
        return Status::NotFound("no billing account " + number.value() + " in office " + office);
    }
    return **found;
}

Result<std::vector<MeterRow>> Readings::list_meters(const std::string& office,
                                                    const std::string& account_number) {
    auto ms = meters();
    if (!ms) return ms.error();
    auto account = billing_account(office, account_number);
    if (!account) return account.error();
    auto list = (*ms)->meters_of_account(account->id);
    if (!list) return list.error();
    std::vector<MeterRow> out;
    for (Meter& m : *list) {
        MeterRow row;
        row.office_code = account->office_code;
        row.account_number = account->account_number;
        auto last = (*ms)->last_reading(m.id, "");
        if (!last) return last.error();
        row.last = std::move(last.value());
        row.meter = std::move(m);
        out.push_back(std::move(row));
    }
    return out;
}

Status Readings::remove_meter(const std::string& office, const std::string& account_number,
                              const std::string& serial) {
    auto ms = meters();
    if (!ms) return ms.error();
    auto account = billing_account(office, account_number);
    if (!account) return account.error();
    Status s = (*ms)->remove_meter(account->id, serial);
    if (s.code() == StatusCode::not_found) {
        return Status::NotFound("no meter " + serial + " on account " + account->account_number +
                                " in office " + office + ": see `lkk-admin meters list`");
    }
    return s;
}

Status Readings::export_readings(const ReadingExportFilter& filter,
                                 const std::function<void(const ReadingExportRow&)>& on_row) {
    auto ms = meters();
    if (!ms) return ms.error();
    return (*ms)->export_readings(filter, on_row);
}

Result<CsvImportReport> Readings::import_meters(
    std::istream& in, const CsvImportOptions& options,
    const std::function<void(const CsvImportProgress&)>& progress) {
    auto ms = meters();
    if (!ms) return ms.error();
    MeterCsvReader reader(in, options.encoding, options.office);
    return csv::run_account_import<MeterRecord>(
        storage_, reader, in, options,
        [&ms](std::vector<MeterRow>& rows) { return (*ms)->upsert_meters(rows); },
        [&ms] { return (*ms)->count_meters(); }, progress);
}

}  // namespace lkk
