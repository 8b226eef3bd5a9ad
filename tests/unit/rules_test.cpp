// The input rules of SPEC sections 2-3, with the examples of the spec and issue 2 and the
// edges around every limit.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "lkk/rules.h"

namespace lkk::rules {
namespace {

// ---------------------------------------------------------------- e-mail

std::string email_ok(std::string_view input) {
    auto r = normalize_email(input);
    EXPECT_TRUE(r.ok()) << input << " -> " << (r.ok() ? "" : error_code(r.error()));
    return r.ok() ? r.value() : std::string();
}

RuleError email_error(std::string_view input) {
    auto r = normalize_email(input);
    EXPECT_FALSE(r.ok()) << input << " was accepted as " << (r.ok() ? r.value() : "");
    return r.ok() ? RuleError::text_invalid : r.error();
}

TEST(NormalizeEmail, LowerCasesAndTrims) {
    EXPECT_EQ(email_ok("  Ivan.Petrov@Mail.RU \t"), "ivan.petrov@mail.ru");
    EXPECT_EQ(email_ok("ivan.petrov@mail.ru"), email_ok("IVAN.PETROV@MAIL.RU"));
}

TEST(NormalizeEmail, CyrillicDomainBecomesPunycodeAndLocalPartLowerCase) {
    EXPECT_EQ(email_ok("ИВАНОВ@Почта.РФ"), "иванов@xn--80a1acny.xn--p1ai");
    EXPECT_EQ(email_ok("иванов@почта.рф"), "иванов@xn--80a1acny.xn--p1ai");
    EXPECT_EQ(email_ok("user@xn--80a1acny.xn--p1ai"), "user@xn--80a1acny.xn--p1ai");
}

TEST(NormalizeEmail, DecomposedYoInLocalPartIsTheSameMailbox) {
    // "ё" typed as "е" + combining diaeresis (U+0308) is one mailbox with the composed "ё".
    EXPECT_EQ(email_ok("\xD0\x95\xCC\x88lkina@mail.ru"), email_ok("ёlkina@mail.ru"));
}

TEST(NormalizeEmail, AcceptsAllAtomSpecials) {
    EXPECT_EQ(email_ok("a!#$%&'*+/=?^_`{|}~.-b@example.org"), "a!#$%&'*+/=?^_`{|}~.-b@example.org");
    EXPECT_EQ(email_ok("ivan+lkk@sub.example.co.uk"), "ivan+lkk@sub.example.co.uk");
}

TEST(NormalizeEmail, EmptyAndWhitespaceOnly) {
    EXPECT_EQ(email_error(""), RuleError::email_empty);
    EXPECT_EQ(email_error("   \t "), RuleError::email_empty);
}

TEST(NormalizeEmail, AtSigns) {
    EXPECT_EQ(email_error("ivanov.mail.ru"), RuleError::email_missing_at);
    EXPECT_EQ(email_error("ivan@ov@mail.ru"), RuleError::email_several_at);
    EXPECT_EQ(email_error("@mail.ru"), RuleError::email_local_empty);
    EXPECT_EQ(email_error("ivanov@"), RuleError::email_domain_empty);
}

TEST(NormalizeEmail, LocalPartCharactersAndDots) {
    EXPECT_EQ(email_error("iva nov@mail.ru"), RuleError::email_local_invalid);
    EXPECT_EQ(email_error("\"ivanov\"@mail.ru"), RuleError::email_local_invalid);
    EXPECT_EQ(email_error("iva(n)ov@mail.ru"), RuleError::email_local_invalid);
    EXPECT_EQ(email_error("ivan\xC2\xA0ov@mail.ru"), RuleError::email_local_invalid);
    EXPECT_EQ(email_error(".ivanov@mail.ru"), RuleError::email_local_dots);
    EXPECT_EQ(email_error("ivanov.@mail.ru"), RuleError::email_local_dots);
    EXPECT_EQ(email_error("iva..nov@mail.ru"), RuleError::email_local_dots);
}

TEST(NormalizeEmail, LocalPartOf64IsAcceptedAnd65Refused) {
    const std::string local64(64, 'a');
    EXPECT_EQ(email_ok(local64 + "@mail.ru"), local64 + "@mail.ru");
    EXPECT_EQ(email_error(std::string(65, 'a') + "@mail.ru"), RuleError::email_local_too_long);
}

TEST(NormalizeEmail, TotalOf254IsAcceptedAnd255Refused) {
    // 64 + 1 + domain; the domain is built from labels of at most 63 characters.
    const std::string local(64, 'a');
    const std::string labels = std::string(63, 'b') + "." + std::string(63, 'c') + ".";
    const std::string domain254 =
        labels + std::string(254 - 64 - 1 - labels.size() - 3, 'd') + ".ru";
    const std::string email254 = local + "@" + domain254;
    ASSERT_EQ(email254.size(), 254u);
    EXPECT_EQ(email_ok(email254), email254);
    const std::string email255 =
        local + "@" + labels + std::string(254 - 64 - 1 - labels.size() - 2, 'd') + ".ru";
    ASSERT_EQ(email255.size(), 255u);
    EXPECT_EQ(email_error(email255), RuleError::email_too_long);
    EXPECT_EQ(email_error(std::string(5000, 'a') + "@mail.ru"), RuleError::email_too_long);
}

TEST(NormalizeEmail, DomainRules) {
    EXPECT_EQ(email_error("ivanov@mail"), RuleError::email_domain_no_dot);
    EXPECT_EQ(email_error("ivanov@mail..ru"), RuleError::email_domain_invalid);
    EXPECT_EQ(email_error("ivanov@.mail.ru"), RuleError::email_domain_invalid);
    EXPECT_EQ(email_error("ivanov@mail.ru."), RuleError::email_domain_invalid);
    EXPECT_EQ(email_error("ivanov@-mail.ru"), RuleError::email_domain_invalid);
    EXPECT_EQ(email_error("ivanov@mail_box.ru"), RuleError::email_domain_invalid);
    EXPECT_EQ(email_error("ivanov@ma il.ru"), RuleError::email_domain_invalid);
    EXPECT_EQ(email_error("ivanov@[127.0.0.1]"), RuleError::email_domain_invalid);
    EXPECT_EQ(email_error("ivanov@127.0.0.1"), RuleError::email_domain_invalid);
    EXPECT_EQ(email_error("ivanov@" + std::string(64, 'x') + ".ru"),
              RuleError::email_domain_invalid);
}

TEST(NormalizeEmail, InvalidUtf8AndControlCharacters) {
    EXPECT_EQ(email_error("ivan\xFFov@mail.ru"), RuleError::text_invalid);
    EXPECT_EQ(email_error("ivan\xC0\xAFov@mail.ru"), RuleError::text_invalid);  // overlong '/'
    EXPECT_EQ(email_error("ivanov@mail.ru\n\x01"), RuleError::text_invalid);
    EXPECT_EQ(email_error("ivan\x7Fov@mail.ru"), RuleError::text_invalid);
}

// ---------------------------------------------------------------- password

TEST(CheckPassword, AcceptsLatinDigitsAndPunctuation) {
    EXPECT_EQ(check_password("Secret1", "ivanov@mail.ru", 6), std::nullopt);
    EXPECT_EQ(check_password("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "ivanov@mail.ru", 6),
              std::nullopt);
}

TEST(CheckPassword, CyrillicLetterGetsTheKeyboardLayoutHint) {
    EXPECT_EQ(check_password("пароль123", "ivanov@mail.ru", 6), RuleError::password_cyrillic);
    EXPECT_EQ(check_password("Secretй1", "ivanov@mail.ru", 6), RuleError::password_cyrillic);
    EXPECT_EQ(check_password("ЁЖ", "ivanov@mail.ru", 6), RuleError::password_cyrillic);
    EXPECT_EQ(check_password("abc\xE2\x84\x96"
                             "123",
                             "ivanov@mail.ru", 6),  // '№'
              RuleError::password_cyrillic);
    const std::string ru(message(RuleError::password_cyrillic).ru);
    EXPECT_NE(ru.find("Переключите клавиатуру на английский язык (EN)"), std::string::npos);
}

TEST(CheckPassword, SpaceAndOtherCharacters) {
    EXPECT_EQ(check_password("my secret", "", 6), RuleError::password_space);
    EXPECT_EQ(check_password("my\xC2\xA0secret", "", 6), RuleError::password_space);       // NBSP
    EXPECT_EQ(check_password("secr\xC3\xA9t1", "", 6), RuleError::password_invalid_char);  // é
    EXPECT_EQ(check_password("secret\t1", "", 6), RuleError::password_invalid_char);
    EXPECT_EQ(check_password("secret\xFF", "", 6), RuleError::password_invalid_char);
    EXPECT_EQ(check_password("secret\x7F", "", 6), RuleError::password_invalid_char);
}

TEST(CheckPassword, MinimumLengthIsConfigurable) {
    EXPECT_EQ(check_password("", "", 6), RuleError::password_too_short);
    EXPECT_EQ(check_password("abc12", "", 6), RuleError::password_too_short);
    EXPECT_EQ(check_password("abc123", "", 6), std::nullopt);
    EXPECT_EQ(check_password("abc123", "", 8), RuleError::password_too_short);
    EXPECT_EQ(check_password("abc12345", "", 8), std::nullopt);
    EXPECT_EQ(check_password("a", "", 0), std::nullopt);
    EXPECT_EQ(check_password("", "", 0), RuleError::password_too_short);
}

TEST(CheckPassword, MaximumIs128) {
    EXPECT_EQ(check_password(std::string(128, 'a'), "", 6), std::nullopt);
    EXPECT_EQ(check_password(std::string(129, 'a'), "", 6), RuleError::password_too_long);
}

TEST(CheckPassword, EqualToEmailOrLocalPartInAnyCaseIsRefused) {
    EXPECT_EQ(check_password("ivanov@mail.ru", "ivanov@mail.ru", 6),
              RuleError::password_like_email);
    EXPECT_EQ(check_password("IVANOV@Mail.Ru", "ivanov@mail.ru", 6),
              RuleError::password_like_email);
    EXPECT_EQ(check_password("Ivanov", "ivanov@mail.ru", 6), RuleError::password_like_email);
    EXPECT_EQ(check_password("ivanov1", "ivanov@mail.ru", 6), std::nullopt);
    EXPECT_EQ(check_password("mail.ru", "ivanov@mail.ru", 6), std::nullopt);
}

TEST(FormatMessage, TooShortSaysTheMinimumWithRussianPlural) {
    EXPECT_EQ(format_message(RuleError::password_too_short, Locale::ru, 6),
              "Пароль слишком короткий: нужно не меньше 6 символов.");
    EXPECT_EQ(format_message(RuleError::password_too_short, Locale::ru, 21),
              "Пароль слишком короткий: нужно не меньше 21 символа.");
    EXPECT_EQ(format_message(RuleError::password_too_short, Locale::en, 8),
              "The password is too short: it needs at least 8 characters.");
    EXPECT_EQ(format_message(RuleError::password_too_short, Locale::en, 1),
              "The password is too short: it needs at least 1 character.");
    EXPECT_EQ(format_message(RuleError::amount_sign, Locale::ru, 5),
              std::string(message(RuleError::amount_sign).ru));
}

TEST(Messages, EveryErrorHasDistinctTextsInBothLanguagesAndACode) {
    std::set<std::string> ru, en, codes;
    const int last = static_cast<int>(RuleError::account_too_long);
    for (int e = 0; e <= last; ++e) {
        const auto error = static_cast<RuleError>(e);
        const Message m = message(error);
        EXPECT_FALSE(m.ru.empty());
        EXPECT_FALSE(m.en.empty());
        EXPECT_TRUE(is_clean_text(m.ru));
        EXPECT_TRUE(ru.insert(std::string(m.ru)).second) << m.ru;
        EXPECT_TRUE(en.insert(std::string(m.en)).second) << m.en;
        EXPECT_TRUE(codes.insert(std::string(error_code(error))).second) << error_code(error);
    }
}

// ---------------------------------------------------------------- amount

int64_t amount_ok(std::string_view input) {
    auto r = parse_amount_kopecks(input);
    EXPECT_TRUE(r.ok()) << "'" << input << "' -> " << (r.ok() ? "" : error_code(r.error()));
    return r.ok() ? r.value() : -1;
}

RuleError amount_error(std::string_view input) {
    auto r = parse_amount_kopecks(input);
    EXPECT_FALSE(r.ok()) << "'" << input << "' was accepted as " << (r.ok() ? r.value() : 0);
    return r.ok() ? RuleError::text_invalid : r.error();
}

TEST(ParseAmount, SpecExamplesAreEqual) {
    EXPECT_EQ(amount_ok("1 234,50"), 123450);
    EXPECT_EQ(amount_ok("1234,5"), 123450);
    EXPECT_EQ(amount_ok("1234.50"), 123450);
    EXPECT_EQ(amount_ok("1\xC2\xA0"
                        "234,50"),
              123450);  // NBSP
    EXPECT_EQ(amount_ok("1\xE2\x80\xAF"
                        "234,50"),
              123450);  // narrow NBSP
    EXPECT_EQ(amount_ok("  1 234,50 \xC2\xA0"), 123450);
    EXPECT_EQ(amount_ok("1234"), 123400);
}

TEST(ParseAmount, ZeroAndSmallAmounts) {
    EXPECT_EQ(amount_ok("0"), 0);
    EXPECT_EQ(amount_ok("0,00"), 0);
    EXPECT_EQ(amount_ok("0.0"), 0);
    EXPECT_EQ(amount_ok("0,05"), 5);
    EXPECT_EQ(amount_ok("0.5"), 50);
    EXPECT_EQ(amount_ok("007"), 700);
}

TEST(ParseAmount, ThousandsGroups) {
    EXPECT_EQ(amount_ok("1 234 567,89"), 123456789);
    EXPECT_EQ(amount_ok("12 345"), 1234500);
    EXPECT_EQ(amount_ok("123 456.7"), 12345670);
    EXPECT_EQ(amount_error("12 34,50"), RuleError::amount_bad_grouping);
    EXPECT_EQ(amount_error("1234 567"), RuleError::amount_bad_grouping);
    EXPECT_EQ(amount_error("1  234"), RuleError::amount_bad_grouping);
    EXPECT_EQ(amount_error("1 234 ,50"), RuleError::amount_bad_grouping);
    EXPECT_EQ(amount_error("1 234, 50"), RuleError::amount_bad_grouping);
    EXPECT_EQ(amount_error("1 2345"), RuleError::amount_bad_grouping);
}

TEST(ParseAmount, SpecErrors) {
    EXPECT_EQ(amount_error(""), RuleError::amount_empty);
    EXPECT_EQ(amount_error("  \xC2\xA0 "), RuleError::amount_empty);
    EXPECT_EQ(amount_error("-5"), RuleError::amount_sign);
    EXPECT_EQ(amount_error("+5"), RuleError::amount_sign);
    EXPECT_EQ(amount_error("\xE2\x88\x92"
                           "5"),
              RuleError::amount_sign);  // U+2212 minus
    EXPECT_EQ(amount_error("5-"), RuleError::amount_sign);
    EXPECT_EQ(amount_error("12,345"), RuleError::amount_too_many_decimals);
    EXPECT_EQ(amount_error("12.345"), RuleError::amount_too_many_decimals);
    EXPECT_EQ(amount_error("1.2.3"), RuleError::amount_several_separators);
    EXPECT_EQ(amount_error("1,2,3"), RuleError::amount_several_separators);
    EXPECT_EQ(amount_error("1.234,50"), RuleError::amount_several_separators);
    EXPECT_EQ(amount_error("abc"), RuleError::amount_invalid_char);
    EXPECT_EQ(amount_error("1e3"), RuleError::amount_invalid_char);
    EXPECT_EQ(amount_error("100 руб"), RuleError::amount_invalid_char);
    EXPECT_EQ(amount_error("100\xE2\x82\xBD"), RuleError::amount_invalid_char);  // ₽
    EXPECT_EQ(amount_error("12-50"), RuleError::amount_invalid_char);
    EXPECT_EQ(amount_error("1\xFF"), RuleError::amount_invalid_char);
    EXPECT_EQ(amount_error("\xD9\xA1"), RuleError::amount_invalid_char);  // Arabic-Indic one
}

TEST(ParseAmount, MissingDigitsAroundSeparator) {
    EXPECT_EQ(amount_error(",5"), RuleError::amount_missing_digits);
    EXPECT_EQ(amount_error(".50"), RuleError::amount_missing_digits);
    EXPECT_EQ(amount_error("12,"), RuleError::amount_missing_digits);
    EXPECT_EQ(amount_error(","), RuleError::amount_missing_digits);
}

TEST(ParseAmount, UpperLimit) {
    EXPECT_EQ(amount_ok("10000000000"), kMaxAmountKopecks);
    EXPECT_EQ(amount_ok("10 000 000 000,00"), kMaxAmountKopecks);
    EXPECT_EQ(amount_error("10000000000,01"), RuleError::amount_too_large);
    EXPECT_EQ(amount_error("99999999999999999999999999999"), RuleError::amount_too_large);
}

TEST(FormatKopecks, GroupsAndSeparators) {
    EXPECT_EQ(format_kopecks(123450, ',', " "), "1 234,50");
    EXPECT_EQ(format_kopecks(123450),
              "1\xC2\xA0"
              "234,50");
    EXPECT_EQ(format_kopecks(123450, '.', ""), "1234.50");
    EXPECT_EQ(format_kopecks(0), "0,00");
    EXPECT_EQ(format_kopecks(5), "0,05");
    EXPECT_EQ(format_kopecks(100000, ',', " "), "1 000,00");
    EXPECT_EQ(format_kopecks(12345678901, ',', " "), "123 456 789,01");
    EXPECT_EQ(format_kopecks(-150, ',', " "), "-1,50");
    EXPECT_EQ(format_kopecks(INT64_MIN, '.', ""), "-92233720368547758.08");
}

TEST(FormatKopecks, RoundTripsThroughTheParser) {
    for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{99}, int64_t{100}, int64_t{123450},
                      int64_t{100000000}, kMaxAmountKopecks}) {
        EXPECT_EQ(amount_ok(format_kopecks(v)), v);
        EXPECT_EQ(amount_ok(format_kopecks(v, '.', "")), v);
        EXPECT_EQ(amount_ok(format_kopecks(v, ',', " ")), v);
    }
}

// ---------------------------------------------------------------- surname

std::string surname_ok(std::string_view input) {
    auto r = normalize_surname(input);
    EXPECT_TRUE(r.ok()) << "'" << input << "' -> " << (r.ok() ? "" : error_code(r.error()));
    return r.ok() ? r.value() : std::string("<error>");
}

TEST(NormalizeSurname, FirstWordOfAFullName) {
    EXPECT_EQ(surname_ok("Иванов Иван Иванович"), "иванов");
    EXPECT_EQ(surname_ok("иванов"), "иванов");
    EXPECT_EQ(surname_ok("ИВАНОВ"), "иванов");
    EXPECT_EQ(surname_ok("  Иванов  "), "иванов");
    EXPECT_EQ(surname_ok("\tИванов\tИван"), "иванов");
    EXPECT_EQ(surname_ok("Иванов\xC2\xA0Иван"), "иванов");  // NBSP
    EXPECT_EQ(surname_ok("Иванов\r\nИван"), "иванов");
}

TEST(NormalizeSurname, YoIsE) {
    EXPECT_EQ(surname_ok("Ёлкина"), "елкина");
    EXPECT_EQ(surname_ok("ЕЛКИНА"), "елкина");
    EXPECT_EQ(surname_ok("елкина"), "елкина");
    EXPECT_EQ(surname_ok("Сёмин"), surname_ok("СЕМИН"));
    EXPECT_EQ(surname_ok("\xD0\x95\xCC\x88лкина"), "елкина");  // Е + combining diaeresis
}

TEST(NormalizeSurname, EveryDashKindIsAHyphen) {
    const std::string expected = "петрова-водкина";
    EXPECT_EQ(surname_ok("Петрова-Водкина"), expected);
    EXPECT_EQ(surname_ok("Петрова–Водкина"), expected);  // en dash
    EXPECT_EQ(surname_ok("Петрова—Водкина"), expected);  // em dash
    for (const char* dash : {"\xE2\x80\x90", "\xE2\x80\x91", "\xE2\x80\x92", "\xE2\x80\x95",
                             "\xE2\x88\x92", "\xEF\xB9\x98", "\xEF\xB9\xA3", "\xEF\xBC\x8D"}) {
        EXPECT_EQ(surname_ok(std::string("Петрова") + dash + "Водкина"), expected) << dash;
    }
    EXPECT_EQ(surname_ok("Петрова – Водкина Анна"), expected);  // Word's spaced dash
    EXPECT_EQ(surname_ok("Петрова -Водкина"), expected);
    EXPECT_EQ(surname_ok("— Иванов"), "иванов");
    EXPECT_EQ(surname_ok("Петрова- Водкина"), expected);
    EXPECT_EQ(surname_ok("Иванов -"), "иванов");
}

TEST(NormalizeSurname, CaseFoldingIsFullAndWidthIsNormalised) {
    EXPECT_EQ(surname_ok("STRAUSS"), surname_ok("Strauß"));
    EXPECT_EQ(surname_ok("ＩＶＡＮＯＶ"), "ivanov");  // full-width Latin
    EXPECT_EQ(surname_ok("Мар’яненко"), surname_ok("МАР'ЯНЕНКО"));
    EXPECT_EQ(surname_ok("Ива\xC2\xADнов"), "иванов");  // soft hyphen is invisible
}

TEST(NormalizeSurname, Errors) {
    EXPECT_EQ(normalize_surname("").error(), RuleError::surname_empty);
    EXPECT_EQ(normalize_surname("   \t\xC2\xA0").error(), RuleError::surname_empty);
    EXPECT_EQ(normalize_surname("Иван\xFFов").error(), RuleError::text_invalid);
    EXPECT_EQ(normalize_surname("\xD0").error(), RuleError::text_invalid);  // truncated
    EXPECT_EQ(normalize_surname("Иванов\x01").error(), RuleError::text_invalid);
    EXPECT_EQ(normalize_surname("123").error(), RuleError::surname_invalid);
    EXPECT_EQ(normalize_surname("-").error(), RuleError::surname_empty);
    EXPECT_EQ(normalize_surname(std::string(2000, 'a')).error(), RuleError::surname_invalid);
}

TEST(NormalizeSurname, IsIdempotent) {
    for (const char* s : {"Иванов Иван", "Ёлкина", "Петрова—Водкина", "Strauß", "ＩＶＡＮＯＶ"}) {
        const std::string once = surname_ok(s);
        EXPECT_EQ(surname_ok(once), once) << s;
    }
}

// ---------------------------------------------------------------- account number

TEST(NormalizeAccountNumber, SpacesAndDashesAreIgnored) {
    EXPECT_EQ(normalize_account_number("12-345 67").value(), "1234567");
    EXPECT_EQ(normalize_account_number(" 12\xC2\xA0"
                                       "345—67 ")
                  .value(),
              "1234567");
    EXPECT_EQ(normalize_account_number("ab-12").value(), "AB12");
    EXPECT_EQ(normalize_account_number("１２３").value(), "123");  // full-width digits
}

TEST(NormalizeAccountNumber, Errors) {
    EXPECT_EQ(normalize_account_number("").error(), RuleError::account_empty);
    EXPECT_EQ(normalize_account_number(" - ").error(), RuleError::account_empty);
    EXPECT_EQ(normalize_account_number("12/34").error(), RuleError::account_invalid_char);
    EXPECT_EQ(normalize_account_number("12АБ").error(), RuleError::account_invalid_char);
    EXPECT_EQ(normalize_account_number("12\xFF").error(), RuleError::text_invalid);
    EXPECT_EQ(normalize_account_number("12\t34").error(), RuleError::text_invalid);
    EXPECT_EQ(normalize_account_number(std::string(32, '7')).value(), std::string(32, '7'));
    EXPECT_EQ(normalize_account_number(std::string(33, '7')).error(), RuleError::account_too_long);
}

// ---------------------------------------------------------------- clean text

TEST(IsCleanText, RefusesInvalidUtf8AndControls) {
    EXPECT_TRUE(is_clean_text(""));
    EXPECT_TRUE(is_clean_text("Иванов Иван, ул. Ленина 5 — кв. 7 ₽ 😀"));
    EXPECT_FALSE(is_clean_text("a\tb"));
    EXPECT_FALSE(is_clean_text("a\nb"));
    EXPECT_FALSE(is_clean_text(std::string("a\0b", 3)));
    EXPECT_FALSE(is_clean_text("a\x7F"));
    EXPECT_FALSE(is_clean_text("a\xC2\x85"));  // C1 NEL
    EXPECT_FALSE(is_clean_text("\xFF"));
    EXPECT_FALSE(is_clean_text("\xC0\x80"));          // overlong NUL
    EXPECT_FALSE(is_clean_text("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(is_clean_text("\xF4\x90\x80\x80"));  // over U+10FFFF
    EXPECT_FALSE(is_clean_text("\xE2\x82"));          // truncated
}

}  // namespace
}  // namespace lkk::rules
