// Money as kopecks (lkk/money.h) and the payment requisites' checks (lkk/requisites.h), with
// real requisites of Russian banks and organisations and the mistakes people make typing them.
#include "lkk/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "lkk/requisites.h"

namespace lkk {
namespace {

// The display form with its no-break spaces written visibly.
std::string nb(std::string s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s.compare(i, 2, "\u00A0") == 0) {
            out += '_';
            ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

TEST(Money, ParsesRoublesExactly) {
    EXPECT_EQ(money::parse("1234.56").value(), 123456);
    EXPECT_EQ(money::parse("1 234,56").value(), 123456);
    EXPECT_EQ(money::parse("1\u00A0234,5").value(), 123450);
    EXPECT_EQ(money::parse("-1 234,56").value(), -123456);
    EXPECT_EQ(money::parse("\u22127,05").value(), -705);  // the typographic minus
    EXPECT_EQ(money::parse("+0.1").value(), 10);
    EXPECT_EQ(money::parse(" 0 ").value(), 0);
    EXPECT_EQ(money::parse("0.29").value(), 29);  // 0.29 * 100 is 28.999... in a double
    EXPECT_EQ(money::parse("10000000000").value(), 1'000'000'000'000);
}

TEST(Money, RefusesWhatIsNotAnAmount) {
    using rules::RuleError;
    EXPECT_EQ(money::parse("").error(), RuleError::amount_empty);
    EXPECT_EQ(money::parse("-").error(), RuleError::amount_empty);
    EXPECT_EQ(money::parse("--1").error(), RuleError::amount_sign);
    EXPECT_EQ(money::parse("1-").error(), RuleError::amount_sign);
    EXPECT_EQ(money::parse("12,345").error(), RuleError::amount_too_many_decimals);
    EXPECT_EQ(money::parse("1e3").error(), RuleError::amount_invalid_char);
    EXPECT_EQ(money::parse("12 34,50").error(), RuleError::amount_bad_grouping);
    EXPECT_EQ(money::parse("10000000000.01").error(), RuleError::amount_too_large);
    EXPECT_EQ(money::parse("1.2.3").error(), RuleError::amount_several_separators);
}

TEST(Money, DisplayFollowsRussianConventions) {
    EXPECT_EQ(nb(money::format(123456)), "1_234,56_₽");
    EXPECT_EQ(nb(money::format(-5000)), "−50,00_₽");
    EXPECT_EQ(nb(money::format(0)), "0,00_₽");
    EXPECT_EQ(nb(money::format(5)), "0,05_₽");
    EXPECT_EQ(nb(money::format(123456789012)), "1_234_567_890,12_₽");
    EXPECT_EQ(nb(money::format_number(-123456)), "−1_234,56");
    EXPECT_EQ(nb(money::format(INT64_MIN)), "−92_233_720_368_547_758,08_₽");
}

TEST(Money, MachineFormats) {
    EXPECT_EQ(money::format_decimal(123456), "1234.56");
    EXPECT_EQ(money::format_decimal(-5), "-0.05");
    EXPECT_EQ(money::format_plain_kopecks(123456), "123456");
    EXPECT_EQ(money::format_plain_kopecks(0), "0");
    for (Kopecks v : {Kopecks{0}, Kopecks{1}, Kopecks{-99}, Kopecks{123456}, Kopecks{-100000}}) {
        EXPECT_EQ(money::parse(money::format_decimal(v)).value(), v);
        EXPECT_EQ(money::parse(money::format_number(v)).value(), v);
    }
}

TEST(Money, BalanceInWords) {
    EXPECT_EQ(nb(money::balance_text(123456, Locale::ru)), "К оплате 1_234,56_₽");
    EXPECT_EQ(nb(money::balance_text(-5000, Locale::ru)), "Переплата 50,00_₽");
    EXPECT_EQ(money::balance_text(0, Locale::ru), "Задолженности нет");
    EXPECT_EQ(nb(money::balance_text(123456, Locale::en)), "To pay 1_234,56_₽");
    EXPECT_EQ(nb(money::balance_text(-1, Locale::en)), "Overpaid 0,01_₽");
    EXPECT_EQ(money::balance_text(0, Locale::en), "Nothing due");
    EXPECT_EQ(money::balance_kind(1), money::BalanceKind::due);
    EXPECT_EQ(money::balance_kind(-1), money::BalanceKind::overpaid);
    EXPECT_EQ(money::amount_due(-300), 0);
    EXPECT_EQ(money::amount_due(300), 300);
}

TEST(Money, SignedKopecksForImports) {
    EXPECT_EQ(parse_signed_kopecks("-1 234,56").value(), -123456);
    auto bad = parse_signed_kopecks("12,345");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code(), StatusCode::invalid_argument);
}

// ---- requisites ----

using requisites::Field;

// ПАО Сбербанк (Moscow) and РНКБ Банк (Simferopol): their published BIC, correspondent
// account and INN; the settlement accounts carry a correct control key for their bank.
PaymentRequisites sberbank() {
    return {"ООО «Газ Крыма»", "7707083893",           "773601001",           "ПАО Сбербанк",
            "044525225",       "40702810938000000001", "30101810400000000225"};
}

PaymentRequisites rnkb() {
    return {"ГУП РК «Крымгазсети»", "9102019769", "910201001",
            "РНКБ Банк (ПАО)",      "043510607",  "40702810041200000123",
            "30101810335100000607"};
}

Field field_of(const std::optional<requisites::Problem>& p) {
    return p ? p->field : static_cast<Field>(-1);
}

TEST(Requisites, RealOnesPass) {
    EXPECT_FALSE(requisites::check(sberbank())) << requisites::check(sberbank())->message;
    EXPECT_FALSE(requisites::check(rnkb())) << requisites::check(rnkb())->message;
    EXPECT_FALSE(requisites::check(PaymentRequisites{}));  // none at all is fine too
    PaymentRequisites no_optional = rnkb();
    no_optional.kpp.clear();
    no_optional.corr_account.clear();
    EXPECT_FALSE(requisites::check(no_optional));
}

TEST(Requisites, InnCheckDigits) {
    EXPECT_FALSE(requisites::check_inn("7707083893"));    // ПАО Сбербанк
    EXPECT_FALSE(requisites::check_inn("7728168971"));    // АО «Альфа-Банк»
    EXPECT_FALSE(requisites::check_inn("500100732259"));  // 12 digits, both check digits
    EXPECT_EQ(field_of(requisites::check_inn("7707083894")), Field::inn);  // last digit off
    EXPECT_EQ(field_of(requisites::check_inn("7707038893")), Field::inn);  // two swapped
    EXPECT_EQ(field_of(requisites::check_inn("500100732258")), Field::inn);
    EXPECT_EQ(field_of(requisites::check_inn("500100732249")), Field::inn);
    EXPECT_EQ(field_of(requisites::check_inn("77070838")), Field::inn);
    EXPECT_EQ(field_of(requisites::check_inn("77070838931")), Field::inn);  // 11 digits
    EXPECT_EQ(field_of(requisites::check_inn("770708389X")), Field::inn);
    EXPECT_EQ(field_of(requisites::check_inn("")), Field::inn);
    auto p = requisites::check_inn("7707083894");
    EXPECT_NE(p->message.find("INN '7707083894'"), std::string::npos) << p->message;
    EXPECT_NE(p->message.find("check digits"), std::string::npos) << p->message;
}

TEST(Requisites, KppShape) {
    EXPECT_FALSE(requisites::check_kpp("773601001"));
    EXPECT_FALSE(requisites::check_kpp("7736AB001"));  // reason code in capital letters
    EXPECT_EQ(field_of(requisites::check_kpp("7736ab001")), Field::kpp);
    EXPECT_EQ(field_of(requisites::check_kpp("77360100")), Field::kpp);
    EXPECT_EQ(field_of(requisites::check_kpp("7736010011")), Field::kpp);
    EXPECT_EQ(field_of(requisites::check_kpp("A73601001")), Field::kpp);
    EXPECT_EQ(field_of(requisites::check_kpp("773601A01")), Field::kpp);
}

TEST(Requisites, BicIsNineDigits) {
    EXPECT_FALSE(requisites::check_bic("044525225"));
    EXPECT_EQ(field_of(requisites::check_bic("04452522")), Field::bic);
    EXPECT_EQ(field_of(requisites::check_bic("04452522X")), Field::bic);
    EXPECT_EQ(field_of(requisites::check_bic("0445 25225")), Field::bic);
}

TEST(Requisites, AccountControlKeyAgainstTheBic) {
    EXPECT_TRUE(requisites::account_key_matches("40702810938000000001", "044525225"));
    EXPECT_TRUE(requisites::account_key_matches("40702810041200000123", "043510607"));
    // One mistyped digit, two swapped digits, the right account with another bank's BIC.
    EXPECT_FALSE(requisites::account_key_matches("40702810938000000002", "044525225"));
    EXPECT_FALSE(requisites::account_key_matches("40702810398000000001", "044525225"));
    EXPECT_FALSE(requisites::account_key_matches("40702810938000000001", "043510607"));
    auto p = requisites::check_account("40702810938000000002", "044525225");
    EXPECT_EQ(field_of(p), Field::account);
    EXPECT_NE(p->message.find("control key"), std::string::npos) << p->message;
    EXPECT_NE(p->message.find("044525225"), std::string::npos) << p->message;
    EXPECT_EQ(field_of(requisites::check_account("4070281093800000000", "044525225")),
              Field::account);
    EXPECT_EQ(field_of(requisites::check_account("40702810938000000001", "")), Field::account);
    // The Treasury of Crimea (BIC ending in 002): the key uses "0" + BIC digits 5-6.
    EXPECT_TRUE(requisites::account_key_matches("40102810645370000035", "013510002"));
}

TEST(Requisites, CorrespondentAccountControlKey) {
    EXPECT_TRUE(requisites::corr_account_key_matches("30101810400000000225", "044525225"));
    EXPECT_TRUE(requisites::corr_account_key_matches("30101810335100000607", "043510607"));
    EXPECT_TRUE(requisites::corr_account_key_matches("30101810200000000593", "044525593"));
    EXPECT_FALSE(requisites::corr_account_key_matches("30101810400000000226", "044525225"));
    EXPECT_FALSE(requisites::corr_account_key_matches("30101810400000000225", "043510607"));
    EXPECT_EQ(field_of(requisites::check_corr_account("30101810400000000226", "044525225")),
              Field::corr_account);
}

TEST(Requisites, TextFieldsAreCleanShortAndHaveNoBar) {
    EXPECT_FALSE(requisites::check_payee("ГУП РК «Крымгазсети»"));
    EXPECT_EQ(field_of(requisites::check_payee("ООО |Газ")), Field::payee);
    EXPECT_EQ(field_of(requisites::check_bank("Банк|Плюс")), Field::bank);
    EXPECT_EQ(field_of(requisites::check_payee("Газ\nКрыма")), Field::payee);
    EXPECT_EQ(field_of(requisites::check_payee("")), Field::payee);
    // The QR code's limits count characters, not bytes: 45 Cyrillic letters fit.
    std::string cyrillic;
    for (int i = 0; i < 45; ++i) cyrillic += "Б";
    EXPECT_FALSE(requisites::check_bank(cyrillic));
    EXPECT_EQ(field_of(requisites::check_bank(cyrillic + "Б")), Field::bank);
    EXPECT_EQ(field_of(requisites::check_bank(std::string(46, 'B'))), Field::bank);
    EXPECT_EQ(field_of(requisites::check_payee(std::string(161, 'P'))), Field::payee);
}

TEST(Requisites, AWholeSetNamesTheFirstBadOrMissingField) {
    PaymentRequisites r = rnkb();
    r.inn = "9102019768";
    EXPECT_EQ(field_of(requisites::check(r)), Field::inn);
    r = rnkb();
    r.bic = "044525225";  // the account and the correspondent account are RNKB's
    EXPECT_EQ(field_of(requisites::check(r)), Field::account);
    r = rnkb();
    r.corr_account = "30101810400000000225";
    EXPECT_EQ(field_of(requisites::check(r)), Field::corr_account);
    r = rnkb();
    r.kpp = "91020100";
    EXPECT_EQ(field_of(requisites::check(r)), Field::kpp);
    PaymentRequisites half;
    half.inn = "9102019769";
    auto p = requisites::check(half);
    EXPECT_EQ(field_of(p), Field::payee);
    EXPECT_NE(p->message.find("missing"), std::string::npos) << p->message;
    EXPECT_TRUE(rnkb().complete());
    EXPECT_FALSE(half.complete());
    EXPECT_EQ(requisites::field_name(Field::corr_account), "corr_account");
}

}  // namespace
}  // namespace lkk
