// Human texts of the rule errors. Many subscribers are elderly: the Russian texts say what
// happened and what to do next, politely, without jargon.
#include <unicode/msgfmt.h>
#include <unicode/unistr.h>

#include <string>

#include "lkk/rules.h"
#include "rules_unicode.h"

namespace lkk::rules {

// One switch so the compiler (-Wswitch) tells us when a new error has no text.
Message message(RuleError error) {
    switch (error) {
        case RuleError::text_invalid:
            return {"Поле содержит недопустимые символы. Пожалуйста, введите значение заново.",
                    "The field contains characters that are not allowed. Please type it again."};
        case RuleError::email_empty:
            return {"Пожалуйста, введите адрес электронной почты.",
                    "Please enter your e-mail address."};
        case RuleError::email_too_long:
            return {"Адрес электронной почты слишком длинный. Проверьте, правильно ли он введён.",
                    "The e-mail address is too long. Please check it."};
        case RuleError::email_missing_at:
            return {"В адресе электронной почты не хватает знака @. Пример: ivanov@mail.ru",
                    "The e-mail address has no @ sign. Example: ivanov@mail.ru"};
        case RuleError::email_several_at:
            return {"В адресе электронной почты должен быть только один знак @.",
                    "The e-mail address must contain exactly one @ sign."};
        case RuleError::email_local_empty:
            return {"Перед знаком @ нужно указать имя почтового ящика. Пример: ivanov@mail.ru",
                    "Please enter the mailbox name before the @ sign. Example: ivanov@mail.ru"};
        case RuleError::email_local_too_long:
            return {"Имя почтового ящика (до знака @) слишком длинное: не больше 64 символов.",
                    "The mailbox name (before the @ sign) is too long: at most 64 characters."};
        case RuleError::email_local_invalid:
            return {
                "Имя почтового ящика (до знака @) содержит недопустимые символы. "
                "Проверьте, правильно ли введён адрес.",
                "The mailbox name (before the @ sign) contains characters that are not "
                "allowed. Please check the address."};
        case RuleError::email_local_dots:
            return {
                "Имя почтового ящика не может начинаться или заканчиваться точкой "
                "и не может содержать две точки подряд.",
                "The mailbox name cannot start or end with a dot or contain two dots in a "
                "row."};
        case RuleError::email_domain_empty:
            return {"После знака @ нужно указать почтовый сервер. Пример: ivanov@mail.ru",
                    "Please enter the mail domain after the @ sign. Example: ivanov@mail.ru"};
        case RuleError::email_domain_invalid:
            return {"Почтовый сервер после знака @ указан неверно. Проверьте адрес.",
                    "The mail domain after the @ sign is not valid. Please check the address."};
        case RuleError::email_domain_no_dot:
            return {
                "Почтовый сервер после знака @ указан не полностью, например нужно "
                "«mail.ru», а не «mail».",
                "The mail domain after the @ sign is incomplete, e.g. \"mail.ru\" rather "
                "than \"mail\"."};
        case RuleError::password_cyrillic:
            return {
                "Пароль содержит русские буквы. Переключите клавиатуру на английский язык "
                "(EN).",
                "The password contains Cyrillic letters. Please switch the keyboard to "
                "English (EN)."};
        case RuleError::password_space:
            return {"Пароль не может содержать пробелы.", "The password cannot contain spaces."};
        case RuleError::password_invalid_char:
            return {"Пароль может состоять только из латинских букв, цифр и знаков препинания.",
                    "The password may contain only Latin letters, digits and punctuation."};
        case RuleError::password_too_short:
            return {"Пароль слишком короткий.", "The password is too short."};
        case RuleError::password_too_long:
            return {"Пароль слишком длинный: не больше 128 символов.",
                    "The password is too long: at most 128 characters."};
        case RuleError::password_like_email:
            return {
                "Пароль не должен совпадать с адресом электронной почты. Придумайте другой "
                "пароль.",
                "The password must not be the same as the e-mail address. Please choose "
                "another one."};
        case RuleError::amount_empty:
            return {
                "Пожалуйста, введите сумму последнего платежа. Если в этом году платежей не "
                "было, введите 0.",
                "Please enter the amount of the last payment. If nothing was paid this year, "
                "enter 0."};
        case RuleError::amount_sign:
            return {"Сумма вводится без знаков «минус» и «плюс», например: 1234,50",
                    "Please enter the amount without a minus or plus sign, e.g. 1234.50"};
        case RuleError::amount_invalid_char:
            return {
                "В сумме допускаются только цифры и запятая (или точка) перед копейками, "
                "например: 1234,50",
                "The amount may contain only digits and a comma (or dot) before the kopecks, "
                "e.g. 1234.50"};
        case RuleError::amount_several_separators:
            return {
                "В сумме должна быть только одна запятая (или точка) — перед копейками, "
                "например: 1234,50",
                "The amount must contain only one comma (or dot), before the kopecks, "
                "e.g. 1234.50"};
        case RuleError::amount_too_many_decimals:
            return {
                "После запятой указываются только копейки — не больше двух цифр, "
                "например: 1234,50",
                "At most two digits (the kopecks) may follow the comma or dot, e.g. 1234.50"};
        case RuleError::amount_missing_digits:
            return {
                "Сумма введена не полностью. Укажите рубли, а копейки — после запятой, "
                "например: 0,50 или 1234,50",
                "The amount is incomplete. Please enter the roubles, and the kopecks after "
                "the comma, e.g. 0.50 or 1234.50"};
        case RuleError::amount_bad_grouping:
            return {"Сумма введена неверно. Введите её без пробелов, например: 1234,50",
                    "The amount is not written correctly. Please enter it without spaces, "
                    "e.g. 1234.50"};
        case RuleError::amount_too_large:
            return {"Сумма слишком большая. Проверьте, правильно ли она введена.",
                    "The amount is too large. Please check it."};
        case RuleError::surname_empty:
            return {"Пожалуйста, введите фамилию владельца лицевого счёта.",
                    "Please enter the account owner's surname."};
        case RuleError::surname_invalid:
            return {
                "Фамилия введена неверно. Введите фамилию владельца буквами, например: "
                "Иванов",
                "The surname is not valid. Please enter the owner's surname in letters, "
                "e.g. Ivanov"};
        case RuleError::account_empty:
            return {"Пожалуйста, введите номер лицевого счёта.",
                    "Please enter the personal account number."};
        case RuleError::account_invalid_char:
            return {
                "Номер лицевого счёта может содержать только цифры и латинские буквы. "
                "Проверьте его по квитанции.",
                "The account number may contain only digits and Latin letters. Please check "
                "it against your bill."};
        case RuleError::account_too_long:
            return {"Номер лицевого счёта слишком длинный. Проверьте его по квитанции.",
                    "The account number is too long. Please check it against your bill."};
    }
    return {"Ошибка ввода.", "Invalid input."};
}

namespace {

// "{0, plural, ...}" through ICU so the Russian noun agrees with the number (1 символа,
// 6 символов). Falls back to the plain text should ICU refuse the pattern.
std::string format_with_number(const char* pattern_utf8, const char* locale, int number,
                               std::string_view fallback) {
    UErrorCode status = U_ZERO_ERROR;
    icu::MessageFormat format(icu::UnicodeString::fromUTF8(pattern_utf8), icu::Locale(locale),
                              status);
    if (U_FAILURE(status)) return std::string(fallback);
    icu::Formattable args[] = {icu::Formattable(number)};
    icu::UnicodeString out;
    icu::FieldPosition pos;
    format.format(args, 1, out, pos, status);
    if (U_FAILURE(status)) return std::string(fallback);
    return detail::to_utf8(out);
}

}  // namespace

std::string format_message(RuleError error, Locale locale, int param) {
    const Message plain = message(error);
    if (error == RuleError::password_too_short) {
        if (locale == Locale::en) {
            return format_with_number(
                "The password is too short: it needs at least "
                "{0, plural, one{# character} other{# characters}}.",
                "en", param, plain.en);
        }
        return format_with_number(
            "Пароль слишком короткий: нужно не меньше "
            "{0, plural, one{# символа} other{# символов}}.",
            "ru", param, plain.ru);
    }
    return std::string(plain.in(locale));
}

std::string_view error_code(RuleError error) {
    switch (error) {
        case RuleError::text_invalid:
            return "text_invalid";
        case RuleError::email_empty:
            return "email_empty";
        case RuleError::email_too_long:
            return "email_too_long";
        case RuleError::email_missing_at:
            return "email_missing_at";
        case RuleError::email_several_at:
            return "email_several_at";
        case RuleError::email_local_empty:
            return "email_local_empty";
        case RuleError::email_local_too_long:
            return "email_local_too_long";
        case RuleError::email_local_invalid:
            return "email_local_invalid";
        case RuleError::email_local_dots:
            return "email_local_dots";
        case RuleError::email_domain_empty:
            return "email_domain_empty";
        case RuleError::email_domain_invalid:
            return "email_domain_invalid";
        case RuleError::email_domain_no_dot:
            return "email_domain_no_dot";
        case RuleError::password_cyrillic:
            return "password_cyrillic";
        case RuleError::password_space:
            return "password_space";
        case RuleError::password_invalid_char:
            return "password_invalid_char";
        case RuleError::password_too_short:
            return "password_too_short";
        case RuleError::password_too_long:
            return "password_too_long";
        case RuleError::password_like_email:
            return "password_like_email";
        case RuleError::amount_empty:
            return "amount_empty";
        case RuleError::amount_sign:
            return "amount_sign";
        case RuleError::amount_invalid_char:
            return "amount_invalid_char";
        case RuleError::amount_several_separators:
            return "amount_several_separators";
        case RuleError::amount_too_many_decimals:
            return "amount_too_many_decimals";
        case RuleError::amount_missing_digits:
            return "amount_missing_digits";
        case RuleError::amount_bad_grouping:
            return "amount_bad_grouping";
        case RuleError::amount_too_large:
            return "amount_too_large";
        case RuleError::surname_empty:
            return "surname_empty";
        case RuleError::surname_invalid:
            return "surname_invalid";
        case RuleError::account_empty:
            return "account_empty";
        case RuleError::account_invalid_char:
            return "account_invalid_char";
        case RuleError::account_too_long:
            return "account_too_long";
    }
    return "invalid";
}

}  // namespace lkk::rules
