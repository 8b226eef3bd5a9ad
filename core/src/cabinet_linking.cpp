// Linking personal accounts to a cabinet and the registry of linked accounts (SPEC 2.6-2.7,
// section 3).
#include <string>

#include "cabinet_internal.h"
#include "lkk/cabinet.h"
#include "lkk/crypto.h"
#include "lkk/rules.h"

namespace lkk {

using namespace cabinet_detail;

Result<std::vector<Office>> Cabinet::offices() {
    return storage_.list_offices();
}

// "If nothing was paid in the current calendar year, the amount to enter is 0" — the year
// of the portal's time zone, not of UTC (a payment on 31 December evening counts).
int64_t Cabinet::expected_amount(const BillingAccount& account) {
    const std::string& date = account.last_payment_date;
    if (date.size() < 4) return 0;
    int year = 0;
    for (size_t i = 0; i < 4; ++i) {
        if (date[i] < '0' || date[i] > '9') return 0;
        year = year * 10 + (date[i] - '0');
    }
    return year == calendar_year(clock_.now(), settings_.portal.time_zone) ? account.last_payment
                                                                           : 0;
}

namespace {

metrics::LinkResult link_result(Outcome outcome) {
    switch (outcome) {
        case Outcome::ok:
            return metrics::LinkResult::success;
        case Outcome::mismatch:
            return metrics::LinkResult::mismatch;
        case Outcome::already_linked:
            return metrics::LinkResult::already_linked;
        case Outcome::throttled:
            return metrics::LinkResult::throttled;
        case Outcome::form_error:
            return metrics::LinkResult::invalid;
        default:
            return metrics::LinkResult::error;
    }
}

}  // namespace

LinkReply Cabinet::link_account(int64_t user_id, std::string_view office_code,
                                std::string_view account_number, std::string_view surname,
                                std::string_view amount, const RequestContext& ctx) {
    LinkReply reply = attempt_link(user_id, office_code, account_number, surname, amount, ctx);
    metrics::count_link(link_result(reply.outcome));
    return reply;
}

LinkReply Cabinet::attempt_link(int64_t user_id, std::string_view office_code,
                                std::string_view account_number, std::string_view surname,
                                std::string_view amount, const RequestContext& ctx) {
    using R = LinkReply;
    R form = with_outcome<R>(Outcome::form_error);
    std::optional<Office> office;
    if (office_code.empty()) {
        form.errors.push_back(required("office"));
    } else if (!rules::is_clean_text(office_code) || office_code.size() > 64) {
        form.errors.push_back(rule_error("office", rules::RuleError::text_invalid));
    } else {
        auto found = storage_.find_office(std::string(office_code));
        if (!found) return failure<R>(found.error());
        if (!*found) {
            form.errors.push_back(field_error(
                "office", "office_unknown",
                {"Выберите управление из списка.", "Please choose an office from the list."}));
        }
        office = std::move(*found);
    }
    auto number = rules::normalize_account_number(account_number);
    if (!number) form.errors.push_back(rule_error("account", number.error()));
    auto typed_surname = rules::normalize_surname(surname);
    if (!typed_surname) form.errors.push_back(rule_error("surname", typed_surname.error()));
    auto kopecks = rules::parse_amount_kopecks(amount);
    if (!kopecks) form.errors.push_back(rule_error("amount", kopecks.error()));
    if (!form.errors.empty()) return form;

    // Guessing is bounded per cabinet and per billing account; past the limit the person is
    // sent to the office, whose phones the page shows.
    const auto& t = settings_.throttle;
    const std::string user_key = key_link_user(user_id);
    const std::string account_key = key_link_account(office->code, *number);
    for (const auto& [key, limit] : {std::pair{user_key, t.link_failures_per_user},
                                     std::pair{account_key, t.link_failures_per_account}}) {
        auto full = at_limit(key, limit);
        if (!full) return failure<R>(full.error());
        if (*full) {
            metrics::count_throttled(key == user_key ? metrics::ThrottleKind::link_user
                                                     : metrics::ThrottleKind::link_account);
            R r = with_outcome<R>(Outcome::throttled);
            r.retry_after = key == user_key ? t.link_user_window : t.link_account_window;
            r.office = office;
            return r;
        }
    }

    auto billing = storage_.find_billing_account(office->code, *number);
    if (!billing) return failure<R>(billing.error());
    bool match = false;
    if (*billing) {
        // Both compared every time (no short cut), and the reply never says which differed.
        const bool surname_ok =
            crypto::constant_time_equal((*billing)->surname_key, *typed_surname);
        const bool amount_ok = expected_amount(**billing) == *kopecks;
        match = surname_ok & amount_ok;
    }
    if (!match) {
        const int64_t now = clock_.now();
        auto a = counters_.hit(user_key, t.link_user_window, now);
        if (!a) return failure<R>(a.error());
        auto b = counters_.hit(account_key, t.link_account_window, now);
        if (!b) return failure<R>(b.error());
        (void)audit(user_id, "link_fail", ctx,
                    "office " + office->code + " account " + *number +
                        (*billing ? "" : " (no such account)"));
        R r = with_outcome<R>(Outcome::mismatch);
        r.office = office;
        return r;
    }

    auto link_id = storage_.insert_link(user_id, (*billing)->id, clock_.now());
    if (!link_id) {
        if (link_id.error().code() == StatusCode::conflict) {
            R r = with_outcome<R>(Outcome::already_linked);
            r.office = office;
            return r;
        }
        return failure<R>(link_id.error());
    }
    (void)audit(user_id, "link_ok", ctx, "office " + office->code + " account " + *number);
    R r;
    r.office = office;
    auto details = account_details(user_id, *link_id);
    if (details) r.linked = std::move(*details);
    return r;
}

Result<std::vector<LinkedAccount>> Cabinet::accounts(int64_t user_id) {
    return storage_.list_links(user_id);
}

Result<LinkedAccount> Cabinet::account_details(int64_t user_id, int64_t link_id) {
    auto links = storage_.list_links(user_id);
    if (!links) return links.error();
    for (auto& l : *links) {
        if (l.link_id == link_id) return std::move(l);
    }
    return Status::NotFound("no such linked account");
}

Reply Cabinet::unlink(int64_t user_id, int64_t link_id, const RequestContext& ctx) {
    auto link = account_details(user_id, link_id);
    if (!link) {
        if (link.error().code() == StatusCode::not_found) return with_outcome(Outcome::not_found);
        return failure(link.error());
    }
    Status st = storage_.delete_link(user_id, link_id);
    if (st.code() == StatusCode::not_found) return with_outcome(Outcome::not_found);
    if (!st.ok()) return failure(st);
    (void)audit(user_id, "unlink", ctx,
                "office " + link->office.code + " account " + link->account.account_number);
    return Reply{};
}

}  // namespace lkk
