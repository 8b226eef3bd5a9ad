// The ГОСТ Р 56042-2014 payment payload: the text a banking app reads from the bill's QR
// code. Banks parse it strictly, so a value that would change how the string splits ('|'),
// or that is longer than the standard allows, is refused rather than cut or escaped: the
// standard has no escaping, and a silently altered payment is worse than no QR code.

#include "../rules_unicode.h"
#include "lkk/bill.h"
#include "lkk/rules.h"

namespace lkk::bill {

namespace {

// Code points, the unit of the standard's maximum lengths (Cyrillic is 2 bytes in UTF-8).
size_t characters(std::string_view s) {
    size_t n = 0;
    int32_t i = 0;
    while (static_cast<size_t>(i) < s.size()) {
        rules::detail::next_code_point(s, i);
        ++n;
    }
    return n;
}

struct Field {
    const char* name;
    const std::string* value;
    size_t max_chars;  // ГОСТ Р 56042-2014, tables 1 and 2
    bool mandatory;
};

}  // namespace

Result<std::string> payment_payload(const PaymentOrder& order) {
    const std::string sum = order.due > 0 ? money::format_plain_kopecks(order.due) : std::string();
    // The standard makes CorrespAcc mandatory; a Bank of Russia or Treasury unit has none.
    const std::string corr = order.payee.corr_account.empty() ? "0" : order.payee.corr_account;
    const Field fields[] = {
        {"Name", &order.payee.payee, 160, true},
        {"PersonalAcc", &order.payee.account, 20, true},
        {"BankName", &order.payee.bank, 45, true},
        {"BIC", &order.payee.bic, 9, true},
        {"CorrespAcc", &corr, 20, true},
        {"PayeeINN", &order.payee.inn, 12, false},
        {"KPP", &order.payee.kpp, 9, false},
        {"PersAcc", &order.pers_acc, 30, false},
        {"Sum", &sum, 18, false},
        {"Purpose", &order.purpose, 210, false},
    };
    // "ST" + format version "0001" + encoding "2" (UTF-8).
    std::string out = "ST00012";
    for (const Field& f : fields) {
        const std::string& v = *f.value;
        if (v.empty()) {
            if (f.mandatory) return Status::Invalid(std::string(f.name) + " is missing");
            continue;
        }
        if (!rules::is_clean_text(v)) {
            return Status::Invalid(std::string(f.name) + " has a control character or bad UTF-8");
        }
        if (v.find('|') != std::string::npos) {
            return Status::Invalid(std::string(f.name) + " contains '|'");
        }
        if (characters(v) > f.max_chars) {
            return Status::Invalid(std::string(f.name) + " is longer than " +
                                   std::to_string(f.max_chars) + " characters");
        }
        out += '|';
        out += f.name;
        out += '=';
        out += v;
    }
    return out;
}

std::string payment_purpose(std::string_view period, std::string_view account_number) {
    std::string month(period);
    if (period.size() == 7)
        month = std::string(period.substr(5, 2)) + "." + std::string(period.substr(0, 4));
    return "Оплата за газ за " + month + ", л/с " + std::string(account_number);
}

}  // namespace lkk::bill
