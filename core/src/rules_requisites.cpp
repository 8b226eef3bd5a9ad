// Payment requisites checked the way banks check them (lkk/requisites.h): the INN's check
// digits (Federal Tax Service), the KPP's shape, and the Bank of Russia control key that
// ties a 20-digit account to its bank's BIC. A typing mistake in any of them would send
// subscribers' payments back or to a stranger, so it is caught when support staff enter it.
#include "lkk/requisites.h"

#include <algorithm>
#include <array>
#include <utility>

#include "lkk/rules.h"

namespace lkk::requisites {

namespace {

bool all_digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int digit(char c) {
    return c - '0';
}

// A value in an error message: long or unprintable ones are left out rather than echoed.
std::string shown(std::string_view value) {
    if (value.size() > 64 || !rules::is_clean_text(value)) return "";
    return " '" + std::string(value) + "'";
}

Problem problem(Field field, std::string_view value, const std::string& why) {
    return {field, std::string(field_label(field)) + shown(value) + ": " + why};
}

// UTF-8 characters (code points), for the QR code's length limits.
std::size_t characters(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// Text shared by the payee and the bank: clean, on one line, without the QR separator.
std::optional<Problem> check_text(Field field, std::string_view text, std::size_t max) {
    if (text.empty()) return problem(field, text, "empty");
    if (!rules::is_clean_text(text)) return problem(field, "", "must be text on one line");
    if (text.find('|') != std::string_view::npos) {
        return problem(field, text,
                       "'|' is not allowed (it separates the fields of the payment QR code)");
    }
    if (characters(text) > max) {
        return problem(field, text,
                       "longer than " + std::to_string(max) +
                           " characters (the payment QR code's limit); use the short name");
    }
    return std::nullopt;
}

// A number of `length` digits; says what is wrong in words.
std::optional<Problem> check_digits(Field field, std::string_view value, std::size_t length) {
    if (value.empty()) return problem(field, value, "empty");
    if (!all_digits(value)) {
        return problem(field, value,
                       "digits only, " + std::to_string(length) + " of them (no spaces)");
    }
    if (value.size() != length) {
        return problem(
            field, value,
            "has " + std::to_string(value.size()) + " digits instead of " + std::to_string(length));
    }
    return std::nullopt;
}

// The FNS check digit: sum of digit * weight, mod 11, mod 10.
int inn_check_digit(std::string_view digits, const int* weights, std::size_t count) {
    int sum = 0;
    for (std::size_t i = 0; i < count; ++i) sum += digit(digits[i]) * weights[i];
    return sum % 11 % 10;
}

// The weighted sum of the 23 digits (three in front + the account), modulo 10.
bool key_matches(std::string_view prefix, std::string_view account) {
    static constexpr std::array<int, 3> kWeights = {7, 1, 3};
    int sum = 0;
    int i = 0;
    for (std::string_view part : {prefix, account}) {
        for (char c : part) sum += digit(c) * kWeights[static_cast<std::size_t>(i++ % 3)] % 10;
    }
    return sum % 10 == 0;
}

// "0" + BIC digits 5-6: the conditional number of a Bank of Russia unit.
std::string unit_prefix(std::string_view bic) {
    return "0" + std::string(bic.substr(4, 2));
}

// A BIC ending in 000, 001 or 002 belongs to a Bank of Russia or Treasury unit, not to a
// credit institution.
bool is_central_bank_unit(std::string_view bic) {
    const std::string_view tail = bic.substr(6, 3);
    return tail == "000" || tail == "001" || tail == "002";
}

}  // namespace

std::string_view field_name(Field field) {
    switch (field) {
        case Field::payee:
            return "payee";
        case Field::inn:
            return "inn";
        case Field::kpp:
            return "kpp";
        case Field::bank:
            return "bank";
        case Field::bic:
            return "bic";
        case Field::account:
            return "account";
        case Field::corr_account:
            return "corr_account";
    }
    return "";
}

std::string_view field_label(Field field) {
    switch (field) {
        case Field::payee:
            return "payee";
        case Field::inn:
            return "INN";
        case Field::kpp:
            return "KPP";
        case Field::bank:
            return "bank";
        case Field::bic:
            return "BIC";
        case Field::account:
            return "account";
        case Field::corr_account:
            return "correspondent account";
    }
    return "";
}

std::optional<Problem> check_payee(std::string_view payee) {
    return check_text(Field::payee, payee, kMaxPayeeLength);
}

std::optional<Problem> check_bank(std::string_view bank) {
    return check_text(Field::bank, bank, kMaxBankLength);
}

std::optional<Problem> check_inn(std::string_view inn) {
    if (inn.empty()) return problem(Field::inn, inn, "empty");
    if (!all_digits(inn) || (inn.size() != 10 && inn.size() != 12)) {
        return problem(Field::inn, inn,
                       "10 digits (an organisation) or 12 (an entrepreneur), digits only");
    }
    static constexpr int k10[] = {2, 4, 10, 3, 5, 9, 4, 6, 8};
    static constexpr int k11[] = {7, 2, 4, 10, 3, 5, 9, 4, 6, 8};
    static constexpr int k12[] = {3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8};
    const bool valid = inn.size() == 10 ? inn_check_digit(inn, k10, 9) == digit(inn[9])
                                        : inn_check_digit(inn, k11, 10) == digit(inn[10]) &&
                                              inn_check_digit(inn, k12, 11) == digit(inn[11]);
    if (!valid) {
        return problem(Field::inn, inn,
                       "the check digits do not match: a digit is mistyped; copy the INN from "
                       "the organisation's documents");
    }
    return std::nullopt;
}

std::optional<Problem> check_kpp(std::string_view kpp) {
    auto reason_char = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); };
    const bool valid = kpp.size() == 9 && all_digits(kpp.substr(0, 4)) && reason_char(kpp[4]) &&
                       reason_char(kpp[5]) && all_digits(kpp.substr(6));
    if (!valid) {
        return problem(Field::kpp, kpp,
                       "9 characters: 4 digits, 2 digits or capital Latin letters, 3 digits "
                       "(e.g. 910201001)");
    }
    return std::nullopt;
}

std::optional<Problem> check_bic(std::string_view bic) {
    return check_digits(Field::bic, bic, 9);
}

bool account_key_matches(std::string_view account, std::string_view bic) {
    if (account.size() != 20 || bic.size() != 9 || !all_digits(account) || !all_digits(bic)) {
        return false;
    }
    const std::string prefix =
        is_central_bank_unit(bic) ? unit_prefix(bic) : std::string(bic.substr(6, 3));
    return key_matches(prefix, account);
}

bool corr_account_key_matches(std::string_view corr_account, std::string_view bic) {
    if (corr_account.size() != 20 || bic.size() != 9 || !all_digits(corr_account) ||
        !all_digits(bic)) {
        return false;
    }
    return key_matches(unit_prefix(bic), corr_account);
}

std::optional<Problem> check_account(std::string_view account, std::string_view bic) {
    if (auto p = check_digits(Field::account, account, 20)) return p;
    if (check_bic(bic)) {
        return problem(Field::account, account, "is checked against the BIC: give a valid BIC");
    }
    if (!account_key_matches(account, bic)) {
        return problem(Field::account, account,
                       "the control key does not match BIC " + std::string(bic) +
                           ": a digit is mistyped, or the account is in another bank");
    }
    return std::nullopt;
}

std::optional<Problem> check_corr_account(std::string_view corr_account, std::string_view bic) {
    if (auto p = check_digits(Field::corr_account, corr_account, 20)) return p;
    if (check_bic(bic)) {
        return problem(Field::corr_account, corr_account,
                       "is checked against the BIC: give a valid BIC");
    }
    if (!corr_account_key_matches(corr_account, bic)) {
        return problem(Field::corr_account, corr_account,
                       "the control key does not match BIC " + std::string(bic) +
                           ": a digit is mistyped, or it is another bank's account");
    }
    return std::nullopt;
}

std::optional<Problem> check(const PaymentRequisites& r) {
    if (r.empty()) return std::nullopt;
    // Half a set is no use on a bill: name the first field that is missing.
    const std::pair<Field, const std::string*> required[] = {{Field::payee, &r.payee},
                                                             {Field::inn, &r.inn},
                                                             {Field::bank, &r.bank},
                                                             {Field::bic, &r.bic},
                                                             {Field::account, &r.account}};
    for (const auto& [field, value] : required) {
        if (value->empty()) {
            return problem(field, "",
                           "missing: the payee, INN, bank, BIC and account go together "
                           "(KPP and the correspondent account are optional)");
        }
    }
    if (auto p = check_payee(r.payee)) return p;
    if (auto p = check_inn(r.inn)) return p;
    if (!r.kpp.empty()) {
        if (auto p = check_kpp(r.kpp)) return p;
    }
    if (auto p = check_bank(r.bank)) return p;
    if (auto p = check_bic(r.bic)) return p;
    if (auto p = check_account(r.account, r.bic)) return p;
    if (!r.corr_account.empty()) {
        if (auto p = check_corr_account(r.corr_account, r.bic)) return p;
    }
    return std::nullopt;
}

}  // namespace lkk::requisites
