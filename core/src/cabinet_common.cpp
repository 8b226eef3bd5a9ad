// What every cabinet operation shares: outcome names and texts, field errors, links put into
// mails, the audit helper and the throttle counter keys.
#include <string>
#include <utility>

#include "cabinet_internal.h"
#include "lkk/audit.h"
#include "lkk/cabinet.h"
#include "lkk/templates.h"

namespace lkk {

using namespace cabinet_detail;

std::string_view outcome_code(Outcome outcome) {
    switch (outcome) {
        case Outcome::ok:
            return "ok";
        case Outcome::form_error:
            return "form_error";
        case Outcome::throttled:
            return "throttled";
        case Outcome::invalid_token:
            return "invalid_token";
        case Outcome::link_replaced:
            return "link_replaced";
        case Outcome::wrong_credentials:
            return "wrong_credentials";
        case Outcome::not_confirmed:
            return "not_confirmed";
        case Outcome::mismatch:
            return "mismatch";
        case Outcome::already_linked:
            return "already_linked";
        case Outcome::not_found:
            return "not_found";
        case Outcome::unavailable:
            return "unavailable";
        case Outcome::internal:
            return "internal";
    }
    return "internal";
}

// Written for people, many of them elderly: what happened and what to do next.
Message outcome_message(Outcome outcome) {
    switch (outcome) {
        case Outcome::ok:
            return {"Готово.", "Done."};
        case Outcome::form_error:
            return {"Пожалуйста, исправьте ошибки в отмеченных полях.",
                    "Please correct the marked fields."};
        case Outcome::throttled:
            return {"Слишком много попыток. Пожалуйста, подождите и попробуйте снова позже.",
                    "Too many attempts. Please wait and try again later."};
        case Outcome::invalid_token:
            return {"Ссылка недействительна или её срок истёк. Запросите новую ссылку.",
                    "The link is invalid or has expired. Please request a new one."};
        case Outcome::link_replaced:
            return {
                "Эта ссылка заменена более новой: адрес зарегистрировали ещё раз, и "
                "действует только ссылка из последнего письма. Запросите новую ссылку, "
                "если письма нет.",
                "This link was replaced by a newer one: the address was registered again, "
                "and only the link in the latest mail works. Ask for a new link if that "
                "mail did not arrive."};
        case Outcome::wrong_credentials:
            return {"Неверный адрес электронной почты или пароль.", "Wrong e-mail or password."};
        case Outcome::not_confirmed:
            return {
                "Адрес электронной почты ещё не подтверждён. Перейдите по ссылке из письма "
                "или запросите письмо ещё раз.",
                "Your e-mail address is not confirmed yet. Follow the link in the mail or "
                "ask for the mail again."};
        case Outcome::mismatch:
            return {
                "Введённые данные не совпадают с данными лицевого счёта. Проверьте их или "
                "позвоните в абонентскую службу вашего управления.",
                "The data entered do not match the personal account. Please check them "
                "or call the accounting service of your office."};
        case Outcome::already_linked:
            return {"Этот лицевой счёт уже привязан к вашему личному кабинету.",
                    "This personal account is already linked to your cabinet."};
        case Outcome::not_found:
            return {"Не найдено.", "Not found."};
        case Outcome::unavailable:
            return {"Сервис временно недоступен. Пожалуйста, попробуйте через несколько минут.",
                    "The service is temporarily unavailable. Please try again in a few minutes."};
        case Outcome::internal:
            return {"Произошла внутренняя ошибка. Пожалуйста, попробуйте позже.",
                    "An internal error occurred. Please try again later."};
    }
    return {"", ""};
}

const FieldError* Reply::error_of(std::string_view field) const {
    for (const auto& e : errors) {
        if (e.field == field) return &e;
    }
    return nullptr;
}

Cabinet::Cabinet(const Settings& settings, Storage& storage, SessionStore& sessions,
                 CounterStore& counters, Clock& clock)
    : settings_(settings),
      storage_(storage),
      sessions_(sessions),
      counters_(counters),
      clock_(clock) {}

Cabinet::~Cabinet() = default;

std::string Cabinet::confirm_link(std::string_view token) const {
    return settings_.portal.link("/confirm?token=" + std::string(token));
}
std::string Cabinet::reset_link(std::string_view token) const {
    return settings_.portal.link("/password/reset?token=" + std::string(token));
}
std::string Cabinet::login_link() const {
    return settings_.portal.link("/");
}
std::string Cabinet::forgot_link() const {
    return settings_.portal.link("/password/forgot");
}

Status Cabinet::audit(std::optional<int64_t> user_id, std::string event, const RequestContext& ctx,
                      std::string detail) {
    return record_audit(storage_, clock_.now(), subscriber_actor(user_id, ctx.ip), user_id,
                        std::move(event), std::move(detail));
}

namespace cabinet_detail {

FieldError rule_error(std::string field, rules::RuleError error, int param) {
    return FieldError{std::move(field), std::string(rules::error_code(error)),
                      rules::format_message(error, Locale::ru, param),
                      rules::format_message(error, Locale::en, param)};
}

FieldError field_error(std::string field, std::string code, Message message) {
    return FieldError{std::move(field), std::move(code), std::string(message.ru),
                      std::string(message.en)};
}

FieldError required(std::string field) {
    return field_error(std::move(field), "required",
                       {"Пожалуйста, заполните это поле.", "Please fill in this field."});
}

crypto::Argon2Params argon2_params(const Settings& settings) {
    crypto::Argon2Params p;
    p.memory_kib = settings.passwords.argon2_memory_kib;
    p.iterations = settings.passwords.argon2_iterations;
    p.parallelism = settings.passwords.argon2_parallelism;
    return p;
}

std::string key_login_ip(std::string_view ip) {
    return "login:ip:" + std::string(ip);
}
std::string key_login_failures(std::string_view email) {
    return "login:fail:" + std::string(email);
}
std::string key_login_lock(std::string_view email) {
    return "login:lock:" + std::string(email);
}
std::string key_login_locks(std::string_view email) {
    return "login:locks:" + std::string(email);
}
std::string key_register_ip(std::string_view ip) {
    return "reg:ip:" + std::string(ip);
}
std::string key_resend(std::string_view email) {
    return "mail:resend:" + std::string(email);
}
std::string key_forgot(std::string_view email) {
    return "mail:forgot:" + std::string(email);
}
std::string key_password_change(int64_t user_id) {
    return "pwchange:user:" + std::to_string(user_id);
}
std::string key_link_user(int64_t user_id) {
    return "link:user:" + std::to_string(user_id);
}
std::string key_link_account(std::string_view office_code, std::string_view account_number) {
    return "link:account:" + std::string(office_code) + ":" + std::string(account_number);
}

}  // namespace cabinet_detail
}  // namespace lkk
