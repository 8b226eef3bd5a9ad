// An office's payment requisites (SPEC 10): whom subscribers pay and through which bank.
// They are printed on the bill and go into its payment QR code (ГОСТ Р 56042-2014), so a
// mistake sends people's money nowhere: every number is checked the way banks check it
// (INN check digits, the Bank of Russia control key of accounts against the BIC), and no
// value may hold '|', the QR payload's field separator. Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lkk {

// Stored on the office (Office::requisites), set by lkk-admin offices add/update. Every field
// is empty until support staff set the requisites; a stored set is always valid
// (requisites::check) and either empty or complete().
struct PaymentRequisites {
    std::string payee;         // the payee's name as the bank knows it (QR Name, ≤ 160)
    std::string inn;           // ИНН: 10 digits (organisation) or 12 (person) (QR PayeeINN)
    std::string kpp;           // КПП: 9 characters; empty for a payee without one (QR KPP)
    std::string bank;          // the bank's name (QR BankName, ≤ 45)
    std::string bic;           // БИК: 9 digits (QR BIC)
    std::string account;       // расчётный счёт: 20 digits (QR PersonalAcc)
    std::string corr_account;  // корр. счёт: 20 digits; empty when the bank has none
                               // (QR CorrespAcc, written "0" then)

    // None of the fields is set.
    bool empty() const {
        return payee.empty() && inn.empty() && kpp.empty() && bank.empty() && bic.empty() &&
               account.empty() && corr_account.empty();
    }
    // Everything a bill needs is set: payee, INN, bank, BIC and account (KPP and the
    // correspondent account are optional).
    bool complete() const {
        return !payee.empty() && !inn.empty() && !bank.empty() && !bic.empty() && !account.empty();
    }
};

namespace requisites {

// The QR code's limits for the text fields (ГОСТ Р 56042-2014, table 1), in characters.
inline constexpr std::size_t kMaxPayeeLength = 160;
inline constexpr std::size_t kMaxBankLength = 45;

enum class Field { payee, inn, kpp, bank, bic, account, corr_account };

// "payee", "inn", "kpp", "bank", "bic", "account", "corr_account".
std::string_view field_name(Field field);
// How people call it: "payee", "INN", "KPP", "bank", "BIC", "account",
// "correspondent account".
std::string_view field_label(Field field);

// What is wrong with one field, in a sentence for support staff that names the field and
// the value ("INN 7707083894: the check digit does not match; ...").
struct Problem {
    Field field;
    std::string message;
};

// One field on its own. Numbers are digits only (no spaces); text is clean UTF-8 on one line.
std::optional<Problem> check_payee(std::string_view payee);
std::optional<Problem> check_inn(std::string_view inn);  // 10 or 12 digits, check digits
// 4 digits (tax office), 2 digits or capital Latin letters (reason), 3 digits.
std::optional<Problem> check_kpp(std::string_view kpp);
std::optional<Problem> check_bank(std::string_view bank);
std::optional<Problem> check_bic(std::string_view bic);  // 9 digits

// The Bank of Russia control key (the 9th digit of an account): the three digits in front of
// the account (see below) and its 20 digits, weighted 7, 1, 3, 7, 1, 3... add up, counting
// only the last digit of each product, to a multiple of 10.
//
// Settlement account (bic_digits_for_account): in a credit institution the three digits are
// the BIC's digits 7-9; in a Bank of Russia or Treasury unit (BIC ending in 000, 001 or 002)
// they are "0" and the BIC's digits 5-6. Correspondent account: always "0" and the BIC's
// digits 5-6. Both expect a valid BIC and 20 digits.
bool account_key_matches(std::string_view account, std::string_view bic);
bool corr_account_key_matches(std::string_view corr_account, std::string_view bic);

// The account: 20 digits and its control key against the BIC (a BIC is needed).
std::optional<Problem> check_account(std::string_view account, std::string_view bic);
std::optional<Problem> check_corr_account(std::string_view corr_account, std::string_view bic);

// A whole set, as it would be stored: either empty, or complete with every field valid and the
// accounts matching the BIC. Answers the first problem in the order of Field.
std::optional<Problem> check(const PaymentRequisites& r);

}  // namespace requisites

}  // namespace lkk
