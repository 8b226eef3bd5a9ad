// Money on the web (SPEC 10): the registry's balances, the account page's balance, history
// and payments, and the JSON API. Every figure comes from the Statements service; this file
// only formats (lkk/money.h) and draws the chart (app_chart.h).
#include "app_bill.h"
#include "app_chart.h"
#include "app_money.h"
#include "lkk/money.h"
#include "lkk/readings.h"

namespace lkk::web {

namespace {

// Thousandths of m³ as people read them ("102,5"), with as many decimals as billing gave.
std::string m3_text(int64_t milli, char separator) {
    return readings::format_value(milli, 0, separator);
}

nlohmann::json amount_json(Kopecks k) {
    return money::format_decimal(k);
}

const char* balance_kind_name(money::BalanceKind kind) {
    switch (kind) {
        case money::BalanceKind::due:
            return "due";
        case money::BalanceKind::overpaid:
            return "overpaid";
        case money::BalanceKind::settled:
            break;
    }
    return "settled";
}

nlohmann::json account_json(const LinkedAccount& l) {
    return {{"id", l.link_id}, {"office", l.office.code}, {"account", l.account.account_number}};
}

}  // namespace

MoneyPages::MoneyPages(Portal& portal, Storage& storage, Clock& clock)
    : portal_(portal), statements_(storage, clock) {}

void MoneyPages::add_routes(std::vector<Route>&, std::vector<Route>& api) {
    auto bind = [this](HttpResponse (MoneyPages::*f)(Exchange&)) {
        return [this, f](Exchange& x) { return (this->*f)(x); };
    };
    // Counted with the account pages they belong to.
    constexpr auto page = metrics::Route::accounts;
    api.push_back(
        {"GET", "/accounts/{id}/statements", page, nullptr, bind(&MoneyPages::api_statements)});
    api.push_back(
        {"GET", "/accounts/{id}/payments", page, nullptr, bind(&MoneyPages::api_payments)});
}

TemplateData MoneyPages::balance_data(Kopecks balance) const {
    TemplateData b(TemplateData::type::object);
    put(b, "balance_text", money::balance_text(balance, portal_.locale()));
    put(b, balance_kind_name(money::balance_kind(balance)), true);
    return b;
}

Result<std::vector<TemplateData>> MoneyPages::registry_balances(
    const std::vector<LinkedAccount>& links) {
    auto latest = statements_.latest_of(links);
    if (!latest) return latest.error();
    std::vector<TemplateData> out;
    for (size_t i = 0; i < links.size(); ++i) {
        const std::optional<Statement>& s = (*latest)[i];
        if (s) {
            out.push_back(balance_data(s->closing_balance));
        } else if (links[i].account.balance) {
            out.push_back(balance_data(*links[i].account.balance));
        } else {
            out.emplace_back(false);
        }
    }
    return out;
}

// The chart shows what was charged each month; the table beside it is its text alternative
// and carries every figure (paid, balance, consumption) too.
Status MoneyPages::add_account_money(int64_t user_id, int64_t link_id, TemplateData& data) {
    auto acc = statements_.account(user_id, link_id);
    if (!acc) return acc.error();
    TemplateData m(TemplateData::type::object);
    put(m, "has_statements", acc->latest.has_value());
    if (acc->latest) {
        // The statement's balance replaces the one of the billing file on the page.
        put(data, "balance", false);
        put(m, "balance", balance_data(acc->latest->closing_balance));
        put(m, "balance_month", month_text(acc->latest->period));
        TemplateData rows(TemplateData::type::list);
        std::vector<MonthBar> bars;
        for (auto it = acc->history.rbegin(); it != acc->history.rend(); ++it) {
            const Statement& s = *it;
            TemplateData row(TemplateData::type::object);
            put(row, "month", month_text(s.period));
            // A month's bill exists once the office's payment requisites are set.
            if (acc->account.office.requisites.complete()) {
                put(row, "bill_href", bill_path(portal_.base_, link_id, s.period));
            }
            put(row, "accrued", money::format_number(s.accrued));
            put(row, "paid", money::format_number(s.paid));
            put(row, "balance", money::format_number(s.closing_balance));
            put(row, "consumption", s.consumption ? m3_text(*s.consumption, ',') : "—");
            push(rows, std::move(row));
            bars.push_back(
                {s.period, s.accrued, month_text(s.period) + ": " + money::format(s.accrued)});
        }
        put(m, "history", std::move(rows));
        const int64_t top =
            put_month_bars(m, bars, acc->latest->period, statements::kHistoryMonths);
        put(m, "chart_max", money::format(top));
        put(m, "chart_from",
            month_text(
                readings::period_before(acc->latest->period, statements::kHistoryMonths - 1)));
        put(m, "chart_to", month_text(acc->latest->period));
    }
    TemplateData payments(TemplateData::type::list);
    for (const Payment& p : acc->payments) {
        TemplateData row(TemplateData::type::object);
        put(row, "date", display_date(p.date));
        put(row, "amount", money::format(p.amount));
        if (!p.channel.empty()) put(row, "channel", p.channel);
        push(payments, std::move(row));
    }
    put(m, "has_payments", !acc->payments.empty());
    put(m, "payments", std::move(payments));
    put(data, "money", std::move(m));
    return Status::Ok();
}

// ---- JSON API ----

// Amounts as decimal strings ("734.40", exact) and as integer kopecks, like lkk-admin --json.
HttpResponse MoneyPages::api_statements(Exchange& x) {
    if (auto refused = portal_.api_session(x, false)) return *refused;
    auto acc = statements_.account(x.session->user.id, x.id);
    if (!acc) return portal_.backend_problem(x, acc.error());
    nlohmann::json list = nlohmann::json::array();
    for (const Statement& s : acc->history) {
        nlohmann::json j = {{"period", s.period}};
        for (auto [name, value] :
             {std::pair{"opening_balance", s.opening_balance}, std::pair{"accrued", s.accrued},
              std::pair{"paid", s.paid}, std::pair{"closing_balance", s.closing_balance}}) {
            j[name] = amount_json(value);
            j[std::string(name) + "_kopecks"] = value;
        }
        j["consumption"] =
            s.consumption ? nlohmann::json(m3_text(*s.consumption, '.')) : nlohmann::json(nullptr);
        j["tariff"] = s.tariff ? amount_json(*s.tariff) : nlohmann::json(nullptr);
        list.push_back(j);
    }
    nlohmann::json balance = nullptr;
    if (acc->latest) {
        const Kopecks b = acc->latest->closing_balance;
        balance = {{"period", acc->latest->period},
                   {"amount", amount_json(b)},
                   {"kopecks", b},
                   {"kind", balance_kind_name(money::balance_kind(b))},
                   {"text", money::balance_text(b, portal_.locale())}};
    }
    return portal_.json(
        x, 200,
        {{"account", account_json(acc->account)}, {"balance", balance}, {"statements", list}});
}

HttpResponse MoneyPages::api_payments(Exchange& x) {
    if (auto refused = portal_.api_session(x, false)) return *refused;
    auto acc = statements_.account(x.session->user.id, x.id);
    if (!acc) return portal_.backend_problem(x, acc.error());
    nlohmann::json list = nlohmann::json::array();
    for (const Payment& p : acc->payments) {
        list.push_back({{"payment_id", p.payment_id},
                        {"date", p.date},
                        {"amount", amount_json(p.amount)},
                        {"amount_kopecks", p.amount},
                        {"channel", p.channel}});
    }
    return portal_.json(x, 200, {{"account", account_json(acc->account)}, {"payments", list}});
}

}  // namespace lkk::web
