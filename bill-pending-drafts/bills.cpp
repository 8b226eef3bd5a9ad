// The Bills service: a registry row's month gathered from the stores (the office and its
// requisites, the statement, the meters' readings) into BillFacts, which bill_sheet.cpp
// words and bill_pdf.cpp prints.
#include <algorithm>

#include "lkk/bill.h"
#include "lkk/meter_store.h"
#include "lkk/money_store.h"
#include "lkk/readings.h"

namespace lkk {

Bills::Bills(const Settings& settings, Storage& storage) : settings_(settings), storage_(storage) {}

Result<bill::BillFacts> Bills::facts(int64_t user_id, int64_t link_id, const std::string& period) {
    auto links = storage_.list_links(user_id);
    if (!links) return links.error();
    auto it = std::find_if(links->begin(), links->end(),
                           [link_id](const LinkedAccount& l) { return l.link_id == link_id; });
    if (it == links->end()) return Status::NotFound("no such account in this cabinet");
    return facts_of(*it, period);
}

Result<bill::BillFacts> Bills::facts_of(const LinkedAccount& l, const std::string& period) {
    MoneyStore* money = money_store_of(storage_);
    MeterStore* meters = meter_store_of(storage_);
    if (money == nullptr || meters == nullptr) {
        return Status::Unavailable("this storage keeps no statements or meters");
    }
    if (!l.office.requisites.complete()) {
        return Status::NotFound("office " + l.office.code + " has no payment requisites");
    }
    auto statement = money->statement(l.account.id, period);
    if (!statement) return statement.error();
    if (!*statement) return Status::NotFound("no statement of " + period);
    const Statement& st = **statement;

    bill::BillFacts f;
    f.office_name = l.office.name;
    f.office_phones = l.office.phones;
    f.payee = l.office.requisites;
    f.account_number = l.account.account_number;
    f.surname = l.account.surname;
    f.address = l.account.address;
    f.period = period;
    f.opening_balance = st.opening_balance;
    f.accrued = st.accrued;
    f.paid = st.paid;
    f.closing_balance = st.closing_balance;
    f.consumption = st.consumption;
    f.tariff = st.tariff;
    f.decimals = settings_.readings.decimals;

    auto list = meters->meters_of_account(l.account.id);
    if (!list) return list.error();
    for (const Meter& m : *list) {
        bill::BillReading r;
        r.serial = m.serial;
        r.name = m.name;
        auto previous = meters->last_reading(m.id, period);
        if (!previous) return previous.error();
        if (*previous) r.previous = (*previous)->value;
        auto month = meters->readings_of(m.id, period);
        if (!month) return month.error();
        if (!month->empty() && month->front().period == period) r.current = month->front().value;
        if (r.previous && r.current) {
            r.consumption = readings::consumption_between(*r.previous, *r.current, m.digits);
        }
        f.readings.push_back(std::move(r));
    }
    return f;
}

}  // namespace lkk
