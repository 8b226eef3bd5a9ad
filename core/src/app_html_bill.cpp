// The monthly bill on the web (SPEC 10): GET accounts/{id}/bill/{YYYY-MM} (a printable page,
// the QR code as inline SVG), the same with ".pdf" (rendered here, in the thread pool like
// every request), and the API's JSON with the exact QR payload. Another cabinet's account,
// a month without a statement and an office without requisites are all 404; so is a malformed
// month ("2026-13", "2026-5"), which no route matches.
#include "app_bill.h"
#include "lkk/money.h"
#include "lkk/readings.h"

namespace lkk::web {

namespace {

TemplateData rows_data(const std::vector<bill::SheetRow>& rows) {
    TemplateData list(TemplateData::type::list);
    for (const bill::SheetRow& r : rows) {
        TemplateData row(TemplateData::type::object);
        put(row, "label", r.label);
        put(row, "value", r.value);
        if (r.strong) put(row, "strong", true);
        push(list, std::move(row));
    }
    return list;
}

TemplateData strings_data(const std::vector<std::string>& cells) {
    TemplateData list(TemplateData::type::list);
    for (const std::string& c : cells) push(list, TemplateData(c));
    return list;
}

}  // namespace

std::string bill_path(const std::string& base, int64_t link_id, const std::string& period) {
    return base + "/accounts/" + std::to_string(link_id) + "/bill/" + period;
}

BillPages::BillPages(Portal& portal, const Settings& settings, Storage& storage, Clock& clock)
    : portal_(portal), bills_(settings, storage, clock) {}

void BillPages::add_routes(std::vector<Route>& html, std::vector<Route>& api) {
    auto bind = [this](HttpResponse (BillPages::*f)(Exchange&)) {
        return [this, f](Exchange& x) { return (this->*f)(x); };
    };
    // A bill is one account's page: its requests count under the `accounts` route label.
    constexpr auto label = metrics::Route::accounts;
    html.push_back(
        {"GET", "/accounts/{id}/bill/{month}", label, nullptr, bind(&BillPages::get_page)});
    html.push_back(
        {"GET", "/accounts/{id}/bill/{month}.pdf", label, nullptr, bind(&BillPages::get_pdf)});
    api.push_back(
        {"GET", "/accounts/{id}/bill/{month}", label, nullptr, bind(&BillPages::api_bill)});
}

// The month's bill of x's registry row worded in the portal's language, or the answer that
// says why there is none: the start screen without a session, 404 for another cabinet's
// account, a month without a statement or an office without requisites.
Result<BillPages::MonthSheet, HttpResponse> BillPages::month_sheet(Exchange& x) {
    if (!x.session) return portal_.redirect(x, portal_.base_ + "/");
    auto facts = bills_.facts(x.session->user.id, x.id, x.month);
    if (!facts) return portal_.failure_page(x, facts.error());
    auto sheet = bill::make_sheet(*facts, portal_.locale());
    if (!sheet) return portal_.failure_page(x, sheet.error());
    return MonthSheet{std::move(facts.value()), std::move(sheet.value())};
}

AttachmentRenderer BillPages::attachment_renderer() {
    return
        [this](const MailAttachment& a) { return bills_.render_attachment(a, portal_.locale()); };
}

HttpResponse BillPages::get_page(Exchange& x) {
    auto month = month_sheet(x);
    if (!month) return month.error();
    const bill::BillSheet* sheet = &month->sheet;
    auto code = bill::encode_qr(sheet->qr_payload);
    if (!code) return portal_.failure_page(x, code.error());

    TemplateData d = portal_.page_data(x);
    put(d, "link_id", std::to_string(x.id));
    put(d, "period", x.month);
    put(d, "title", sheet->title);
    put(d, "subtitle", sheet->subtitle);
    TemplateData sections(TemplateData::type::list);
    for (const bill::SheetSection& s : sheet->sections) {
        TemplateData section(TemplateData::type::object);
        put(section, "heading", s.heading);
        put(section, "rows", rows_data(s.rows));
        push(sections, std::move(section));
    }
    put(d, "sections", std::move(sections));
    put(d, "readings_heading", sheet->readings.heading);
    put(d, "readings_columns", strings_data(sheet->readings.columns));
    TemplateData rows(TemplateData::type::list);
    for (const auto& r : sheet->readings.rows) {
        TemplateData row(TemplateData::type::object);
        put(row, "cells", strings_data(r));
        push(rows, std::move(row));
    }
    put(d, "readings_rows", std::move(rows));
    put(d, "has_readings", !sheet->readings.rows.empty());
    put(d, "readings_empty", sheet->readings.empty_text);
    put(d, "qr_svg", bill::qr_svg(*code, sheet->qr_caption));
    put(d, "qr_caption", sheet->qr_caption);
    put(d, "footer", sheet->footer);
    return portal_.html(x, 200, "bill.html", d);
}

HttpResponse BillPages::get_pdf(Exchange& x) {
    auto month = month_sheet(x);
    if (!month) return month.error();
    auto pdf = bill::render_pdf(month->sheet);
    if (!pdf) return portal_.failure_page(x, pdf.error());
    // The body is binary (NUL bytes and all): HttpResponse::body is a std::string with its
    // size, and both glues send exactly body.size() bytes.
    HttpResponse r;
    r.status = 200;
    r.headers.emplace_back("Content-Type", "application/pdf");
    r.headers.emplace_back(
        "Content-Disposition",
        "inline; filename=\"" + bill::pdf_file_name(month->facts.account_number, x.month) + "\"");
    r.headers.emplace_back("Cache-Control", "no-store");
    portal_.add_security_headers(r);
    portal_.add_cookies(x, r);
    r.body = std::move(pdf.value());
    return r;
}

HttpResponse BillPages::api_bill(Exchange& x) {
    if (auto refused = portal_.api_session(x, false)) return *refused;
    auto facts = bills_.facts(x.session->user.id, x.id, x.month);
    if (!facts) return portal_.backend_problem(x, facts.error());
    const bill::BillFacts& f = *facts;
    auto payload = bill::payment_payload(bill::payment_order(f));
    if (!payload) return portal_.backend_problem(x, payload.error());
    auto amount = [](Kopecks k) { return money::format_decimal(k); };
    nlohmann::json readings = nlohmann::json::array();
    for (const bill::BillReading& r : f.readings) {
        auto value = [&f](const std::optional<int64_t>& v) -> nlohmann::json {
            if (!v) return nullptr;
            return readings::format_value(*v, f.decimals, '.');
        };
        readings.push_back({{"meter", r.serial},
                            {"name", r.name},
                            {"previous", value(r.previous)},
                            {"current", value(r.current)},
                            {"consumption", value(r.consumption)}});
    }
    const PaymentRequisites& p = f.payee;
    const std::string pdf = bill_path(portal_.base_, x.id, x.month) + ".pdf";
    return portal_.json(
        x, 200,
        {{"account", {{"id", x.id}, {"account", f.account_number}}},
         {"period", f.period},
         {"opening_balance", amount(f.opening_balance)},
         {"accrued", amount(f.accrued)},
         {"paid", amount(f.paid)},
         {"closing_balance", amount(f.closing_balance)},
         {"amount_due", amount(money::amount_due(f.closing_balance))},
         {"amount_due_kopecks", money::amount_due(f.closing_balance)},
         {"consumption",
          f.consumption ? nlohmann::json(readings::format_value(*f.consumption, f.decimals, '.'))
                        : nlohmann::json(nullptr)},
         {"tariff", f.tariff ? nlohmann::json(amount(*f.tariff)) : nlohmann::json(nullptr)},
         {"readings", readings},
         {"payee",
          {{"payee", p.payee},
           {"inn", p.inn},
           {"kpp", p.kpp},
           {"bank", p.bank},
           {"bic", p.bic},
           {"account", p.account},
           {"corr_account", p.corr_account}}},
         {"qr_payload", payload.value()},
         {"html", bill_path(portal_.base_, x.id, x.month)},
         {"pdf", pdf}});
}

}  // namespace lkk::web
