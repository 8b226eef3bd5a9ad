// Meter readings on the web (SPEC 9): the meters on the account page, the readings page with
// one small form per meter and the 36-month history (a table and an inline SVG bar chart,
// no script), and the JSON API. Every rule is the Readings service's; this file translates.
#include <algorithm>
#include <cstdio>

#include "app_chart.h"
#include "app_readings.h"
#include "lkk/rules.h"

namespace lkk::web {

using namespace readings;

namespace {

const char* verification_key(Verification v) {
    switch (v) {
        case Verification::overdue:
            return "verification_overdue";
        case Verification::due_soon:
            return "verification_due_soon";
        default:
            return "verification_ok";
    }
}

bool truthy(const std::string* v) {
    return v != nullptr && !v->empty() && *v != "0" && *v != "false";
}

nlohmann::json window_json(const Window& w) {
    return {{"open", w.open},
            {"period", w.period},
            {"start", iso_date(w.start)},
            {"end", iso_date(w.end)},
            {"next_start", iso_date(w.next_start)}};
}

const char* verification_name(Verification v) {
    switch (v) {
        case Verification::overdue:
            return "overdue";
        case Verification::due_soon:
            return "due_soon";
        case Verification::ok:
            return "ok";
        case Verification::unknown:
            break;
    }
    return "unknown";
}

}  // namespace

ReadingsPages::ReadingsPages(Portal& portal, const Settings& settings, Storage& storage,
                             Clock& clock)
    : portal_(portal), settings_(settings), readings_(settings, storage, clock) {}

void ReadingsPages::add_routes(std::vector<Route>& html, std::vector<Route>& api) {
    auto bind = [this](HttpResponse (ReadingsPages::*f)(Exchange&)) {
        return [this, f](Exchange& x) { return (this->*f)(x); };
    };
    constexpr auto page = metrics::Route::readings;
    html.push_back(
        {"GET", "/accounts/{id}/readings", page, nullptr, bind(&ReadingsPages::get_readings)});
    html.push_back(
        {"POST", "/accounts/{id}/readings", page, nullptr, bind(&ReadingsPages::post_readings)});
    api.push_back(
        {"GET", "/accounts/{id}/meters", page, nullptr, bind(&ReadingsPages::api_meters)});
    api.push_back(
        {"POST", "/accounts/{id}/readings", page, nullptr, bind(&ReadingsPages::api_submit)});
}

std::string ReadingsPages::value_text(int64_t milli) const {
    return format_value(milli, settings_.readings.decimals, ',');
}

std::string ReadingsPages::date_text(int64_t unix_seconds) const {
    return display_date(iso_date(local_date(unix_seconds, settings_.portal.time_zone)));
}

TemplateData ReadingsPages::window_data(const Window& w) const {
    TemplateData d(TemplateData::type::object);
    put(d, "window_open", w.open);
    put(d, "window_start", display_date(iso_date(w.start)));
    put(d, "window_end", display_date(iso_date(w.end)));
    put(d, "window_next", display_date(iso_date(w.next_start)));
    put(d, "window_start_day", std::to_string(settings_.readings.window_start_day));
    put(d, "window_end_day", std::to_string(settings_.readings.window_end_day));
    return d;
}

TemplateData ReadingsPages::meter_data(const MeterView& v, const Window& w) const {
    TemplateData m(TemplateData::type::object);
    put(m, "meter_id", std::to_string(v.meter.id));
    put(m, "serial", v.meter.serial);
    if (!v.meter.name.empty()) put(m, "meter_name", v.meter.name);
    if (!v.meter.model.empty()) put(m, "model", v.meter.model);
    if (v.last) {
        put(m, "last_value", value_text(v.last->value));
        put(m, "last_date", date_text(v.last->submitted_at));
    }
    if (v.this_month) {
        put(m, "month_value", value_text(v.this_month->value));
        put(m, "month_date", date_text(v.this_month->submitted_at));
    }
    if (!v.meter.verification_due.empty()) {
        put(m, "verification_due", display_date(v.meter.verification_due));
        put(m, verification_key(v.verification), true);
    }
    put(m, "open", w.open);
    return m;
}

Status ReadingsPages::add_account_meters(int64_t user_id, int64_t link_id, TemplateData& data) {
    auto acc = readings_.account(user_id, link_id);
    if (!acc) return acc.error();
    TemplateData list(TemplateData::type::list);
    for (const MeterView& v : acc->meters) push(list, meter_data(v, acc->window));
    put(data, "has_meters", !acc->meters.empty());
    put(data, "meters", std::move(list));
    put(data, "window", window_data(acc->window));
    return Status::Ok();
}

// The readings page. The chart is drawn here rather than in the template: bar geometry is
// arithmetic, and the template then only places numbers into attributes (no style, no
// script, so the CSP holds).
HttpResponse ReadingsPages::readings_view(Exchange& x, int status, const std::string& form_meter,
                                          TemplateData form) {
    auto acc = readings_.account(x.session->user.id, x.id);
    if (!acc) return portal_.failure_page(x, acc.error());
    auto history = readings_.history(*acc);
    if (!history) return portal_.failure_page(x, history.error());
    TemplateData d = portal_.page_data(x);
    put(d, "link_id", std::to_string(acc->account.link_id));
    put(d, "account_number", acc->account.account.account_number);
    put(d, "window", window_data(acc->window));
    put(d, "has_meters", !acc->meters.empty());
    const std::string saved(x.query.value("saved"));
    TemplateData meters(TemplateData::type::list);
    for (size_t i = 0; i < acc->meters.size(); ++i) {
        const MeterView& v = acc->meters[i];
        TemplateData m = meter_data(v, acc->window);
        if (v.meter.serial == form_meter) {
            // The form shown again: what was typed, its error or the confirmation asked for.
            for (const char* key :
                 {"value", "value_error", "confirm", "confirm_consumption", "rollover"}) {
                if (const TemplateData* f = form.get(key)) put(m, key, *f);
            }
        }
        // The confirmation of a redirect names the meter and the consumption from the
        // database, never from the query.
        if (!saved.empty() && saved == v.meter.serial && v.this_month) {
            TemplateData ok(TemplateData::type::object);
            put(ok, "value", value_text(v.this_month->value));
            if (v.last) {
                put(ok, "consumption",
                    value_text(
                        consumption_between(v.last->value, v.this_month->value, v.meter.digits)));
            }
            put(m, "saved", std::move(ok));
            put(d, "saved_serial", v.meter.serial);
        }
        const MeterHistory& h = (*history)[i];
        TemplateData rows(TemplateData::type::list);
        for (auto it = h.rows.rbegin(); it != h.rows.rend(); ++it) {
            const HistoryRow& r = *it;
            TemplateData row(TemplateData::type::object);
            put(row, "month", month_text(r.period));
            put(row, "value", value_text(r.reading.value));
            put(row, "consumption", r.consumption ? value_text(*r.consumption) : "—");
            put(row, r.reading.source == ReadingSource::utility ? "utility" : "subscriber", true);
            put(row, "date", date_text(r.reading.submitted_at));
            push(rows, std::move(row));
        }
        std::vector<MonthBar> bars;
        for (const HistoryRow& r : h.rows) {
            if (!r.consumption) continue;
            bars.push_back({r.period, *r.consumption,
                            month_text(r.period) + ": " + value_text(*r.consumption) + " м³"});
        }
        const int64_t top = put_month_bars(m, bars, acc->window.period, kHistoryMonths);
        put(m, "history", std::move(rows));
        put(m, "has_history", !h.rows.empty());
        put(m, "chart_max", value_text(top));
        put(m, "chart_from", month_text(period_before(acc->window.period, kHistoryMonths - 1)));
        put(m, "chart_to", month_text(acc->window.period));
        push(meters, std::move(m));
    }
    put(d, "meters", std::move(meters));
    return portal_.html(x, status, "readings.html", d);
}

HttpResponse ReadingsPages::get_readings(Exchange& x) {
    if (!x.session) return portal_.redirect(x, portal_.base_ + "/");
    return readings_view(x, 200, "", TemplateData(TemplateData::type::object));
}

// Success redirects back (a reload posts nothing); every refusal shows the page again with
// the meter's form filled in.
HttpResponse ReadingsPages::post_readings(Exchange& x) {
    if (!x.session) return portal_.redirect(x, portal_.base_ + "/");
    const FormView view = [this](Exchange& e, int s, TemplateData d) {
        return readings_view(e, s, "", std::move(d));
    };
    auto form = portal_.accept_form(x, CsrfKind::session, {}, view);
    if (!form.ok()) return form.error();
    const std::string meter(form->value("meter"));
    const std::string value(form->value("value"));
    const bool confirm = truthy(form->get("confirm"));
    SubmitReply reply = readings_.submit(x.session->user.id, x.id, meter, value, confirm, x.ctx);
    const std::string page = portal_.base_ + "/accounts/" + std::to_string(x.id) + "/readings";
    TemplateData f(TemplateData::type::object);
    put(f, "value", value);
    switch (reply.outcome) {
        case SubmitOutcome::ok:
            return portal_.redirect(x, page + "?saved=" + http::url_encode(meter));
        case SubmitOutcome::form_error:
            put(f, "value_error", std::string(reply.errors.front().text(portal_.locale())));
            return readings_view(x, 400, meter, f);
        case SubmitOutcome::needs_confirmation:
            put(f, "confirm", true);
            if (reply.check.verdict == Verdict::rollover) put(f, "rollover", true);
            put(f, "confirm_consumption", value_text(reply.check.consumption.value_or(0)));
            return readings_view(x, 422, meter, f);
        case SubmitOutcome::window_closed:
            return readings_view(x, 409, "", TemplateData(TemplateData::type::object));
        case SubmitOutcome::not_found:
            return portal_.error_page(x, 404, ErrorPage::not_found);
        default:
            return portal_.failure_page(x, reply.status);
    }
}

// ---- JSON API ----

HttpResponse ReadingsPages::api_meters(Exchange& x) {
    if (auto refused = portal_.api_session(x, false)) return *refused;
    auto acc = readings_.account(x.session->user.id, x.id);
    if (!acc) return portal_.backend_problem(x, acc.error());
    nlohmann::json meters = nlohmann::json::array();
    auto reading_json = [this](const Reading& r) {
        return nlohmann::json{
            {"value", format_value(r.value, settings_.readings.decimals, '.')},
            {"period", r.period},
            {"date", iso_date(local_date(r.submitted_at, settings_.portal.time_zone))},
            {"source", std::string(reading_source_name(r.source))}};
    };
    for (const MeterView& v : acc->meters) {
        nlohmann::json m = {{"meter", v.meter.serial},
                            {"name", v.meter.name},
                            {"model", v.meter.model},
                            {"digits", v.meter.digits},
                            {"verification_due", v.meter.verification_due},
                            {"verification", verification_name(v.verification)}};
        m["last_reading"] = v.last ? reading_json(*v.last) : nlohmann::json(nullptr);
        m["this_month"] = v.this_month ? reading_json(*v.this_month) : nlohmann::json(nullptr);
        meters.push_back(m);
    }
    return portal_.json(x, 200,
                        {{"account",
                          {{"id", acc->account.link_id},
                           {"office", acc->account.office.code},
                           {"account", acc->account.account.account_number}}},
                         {"window", window_json(acc->window)},
                         {"decimals", settings_.readings.decimals},
                         {"max_monthly_m3", settings_.readings.max_monthly_m3},
                         {"meters", meters}});
}

// {"meter": "...", "value": "1234,5", "confirm": true}. The value may be a JSON string or a
// whole number; a float is refused (its decimals are not what the person typed).
HttpResponse ReadingsPages::api_submit(Exchange& x) {
    if (auto refused = portal_.api_session(x, true)) return *refused;
    auto body = portal_.json_body(x);
    if (!body.ok()) return body.error();
    const nlohmann::json& b = body.value();
    const Locale l = portal_.locale();
    auto string_field = [&b](const char* name) -> std::optional<std::string> {
        auto it = b.find(name);
        if (it == b.end() || it->is_null()) return std::string();
        if (it->is_string()) return it->get<std::string>();
        if (it->is_number_integer() || it->is_number_unsigned()) return it->dump();
        return std::nullopt;
    };
    nlohmann::json errors = nlohmann::json::object();
    const auto meter = string_field("meter");
    const auto value = string_field("value");
    for (const auto& [name, v] : {std::pair{"meter", &meter}, std::pair{"value", &value}}) {
        if (!*v) {
            errors[name] = l == Locale::en ? "must be a string" : "должно быть строкой";
        } else if (!rules::is_clean_text(**v)) {
            errors[name] = std::string(rules::message(rules::RuleError::text_invalid).in(l));
        }
    }
    if (!errors.empty()) return portal_.problem(x, 400, "form_error", "", "", errors);
    bool confirm = false;
    if (auto it = b.find("confirm"); it != b.end()) {
        confirm = (it->is_boolean() && it->get<bool>()) ||
                  (it->is_number_integer() && it->get<int64_t>() == 1) ||
                  (it->is_string() &&
                   (it->get<std::string>() == "1" || it->get<std::string>() == "true"));
    }
    SubmitReply reply = readings_.submit(x.session->user.id, x.id, *meter, *value, confirm, x.ctx);
    auto consumption = [&reply, this]() -> nlohmann::json {
        if (!reply.check.consumption) return nullptr;
        return format_value(*reply.check.consumption, settings_.readings.decimals, '.');
    };
    switch (reply.outcome) {
        case SubmitOutcome::ok: {
            const Reading& r = *reply.stored;
            return portal_.json(x, 200,
                                {{"meter", reply.meter->serial},
                                 {"period", r.period},
                                 {"value", format_value(r.value, settings_.readings.decimals, '.')},
                                 {"consumption", consumption()},
                                 {"replaced", reply.replaced.has_value()}});
        }
        case SubmitOutcome::form_error: {
            nlohmann::json errs = nlohmann::json::object();
            nlohmann::json codes = nlohmann::json::object();
            for (const FieldError& e : reply.errors) {
                errs[e.field] = std::string(e.text(l));
                codes[e.field] = e.code;
            }
            HttpResponse r = portal_.problem(x, 422, "form_error", "", "", errs);
            auto j = nlohmann::json::parse(r.body, nullptr, false);
            j["error_codes"] = codes;
            r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            return r;
        }
        case SubmitOutcome::needs_confirmation: {
            const std::string c =
                format_value(reply.check.consumption.value_or(0), settings_.readings.decimals, '.');
            const bool rolled = reply.check.verdict == Verdict::rollover;
            std::string detail =
                l == Locale::en
                    ? "This reading means " + c + " m³ this month" +
                          (rolled ? " (the dial went past zero)" : "") +
                          ". Send it again with \"confirm\": true if it is right."
                    : "По этому показанию расход за месяц — " + c + " м³" +
                          (rolled ? " (счётчик прошёл через ноль)" : "") +
                          ". Если всё верно, отправьте его ещё раз с \"confirm\": true.";
            HttpResponse r = portal_.problem(x, 422, "needs_confirmation", "", detail);
            auto j = nlohmann::json::parse(r.body, nullptr, false);
            j["consumption"] = c;
            j["reason"] = rolled ? "rollover" : "big";
            r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            return r;
        }
        case SubmitOutcome::window_closed: {
            const std::string opens = iso_date(reply.window.next_start);
            HttpResponse r = portal_.problem(
                x, 409, "window_closed", "",
                l == Locale::en ? "Readings are accepted from " + opens + "."
                                : "Показания принимаются с " + display_date(opens) + ".");
            auto j = nlohmann::json::parse(r.body, nullptr, false);
            j["window"] = window_json(reply.window);
            r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            return r;
        }
        case SubmitOutcome::not_found:
            return portal_.problem(x, 404, "not_found", "");
        default:
            return portal_.backend_problem(x, reply.status);
    }
}

}  // namespace lkk::web
