// The Bills service: a registry row's month gathered from the stores into bill::BillFacts.
// Whose row it is and whether the month has a statement is the Statements service's answer
// (Statements::month), so the bill, the account page and the API agree on both.
#include "lkk/bills.h"

#include <utility>

#include "lkk/meter_store.h"
#include "lkk/readings.h"

namespace lkk {

Bills::Bills(const Settings& settings, Storage& storage, Clock& clock)
    : settings_(settings), storage_(storage), clock_(clock), statements_(storage, clock) {}

Result<bill::BillFacts> Bills::facts(int64_t user_id, int64_t link_id, const std::string& period) {
    auto month = statements_.month(user_id, link_id, period);
    if (!month) return month.error();
    return facts_of(*month);
}

Result<std::string> Bills::pdf(int64_t user_id, int64_t link_id, const std::string& period,
                               Locale locale) {
    auto f = facts(user_id, link_id, period);
    if (!f) return f.error();
    auto sheet = bill::make_sheet(*f, locale);
    if (!sheet) return sheet.error();
    return bill::render_pdf(*sheet);
}

Result<bill::BillFacts> Bills::facts_of(const AccountMonth& month) {
    const LinkedAccount& l = month.account;
    const Statement& st = month.statement;
    // A bill without a payee would be a QR code that pays nobody: not a bill yet.
    if (!l.office.requisites.complete()) {
        return Status::NotFound("office " + l.office.code + " has no payment requisites");
    }
    MeterStore* meters = meter_store_of(storage_);
    if (meters == nullptr) return Status::Unavailable("this storage keeps no meters");

    bill::BillFacts f;
    f.office_name = l.office.name;
    f.office_phones = l.office.phones;
    f.payee = l.office.requisites;
    f.account_number = l.account.account_number;
    f.surname = l.account.surname;
    f.address = l.account.address;
    f.period = st.period;
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
        auto previous = meters->last_reading(m.id, st.period);
        if (!previous) return previous.error();
        if (*previous) r.previous = (*previous)->value;
        auto from_month = meters->readings_of(m.id, st.period);
        if (!from_month) return from_month.error();
        if (!from_month->empty() && from_month->front().period == st.period) {
            r.current = from_month->front().value;
        }
        if (r.previous && r.current) {
            r.consumption = readings::consumption_between(*r.previous, *r.current, m.digits);
        }
        f.readings.push_back(std::move(r));
    }
    return f;
}

}  // namespace lkk
