// The mails the cabinet sends: rendered from the mail_*.txt templates (first line
// "Subject: ...", a blank line, then the body) and written to the outbox, so they leave in
// the same transaction as the change that caused them.
#include <mutex>
#include <string>

#include "cabinet_internal.h"
#include "lkk/cabinet.h"
#include "lkk/crypto.h"
#include "lkk/templates.h"

namespace lkk {

using namespace cabinet_detail;

namespace {

// Russian needs three plural forms: 1 час, 2 часа, 5 часов (and 21 час, 11 часов).
const char* russian_plural(int64_t n, const char* one, const char* few, const char* many) {
    const int64_t d = n % 10, h = n % 100;
    if (d == 1 && h != 11) return one;
    if (d >= 2 && d <= 4 && (h < 12 || h > 14)) return few;
    return many;
}

// "48 часов" / "48 hours": a person reads how long the link works, not seconds.
std::string validity_text(int64_t seconds, Locale locale) {
    if (seconds % 3600 == 0) {
        const int64_t h = seconds / 3600;
        if (locale == Locale::en) return std::to_string(h) + (h == 1 ? " hour" : " hours");
        return std::to_string(h) + " " + russian_plural(h, "час", "часа", "часов");
    }
    const int64_t m = (seconds + 59) / 60;
    if (locale == Locale::en) return std::to_string(m) + (m == 1 ? " minute" : " minutes");
    return std::to_string(m) + " " + russian_plural(m, "минута", "минуты", "минут");
}

}  // namespace

// Loaded on first use rather than in the constructor, so building a Cabinet stays cheap
// and a test that sends no mail reads no templates.
Result<const TemplateSet*> Cabinet::mail_templates(Locale locale) {
    const size_t i = locale == Locale::en ? 1 : 0;
    std::lock_guard<std::mutex> lock(templates_mutex_);
    if (!templates_[i]) {
        auto loaded = TemplateSet::load(locale, settings_.portal.templates_dir);
        if (!loaded) return loaded.error();
        templates_[i] = std::make_unique<TemplateSet>(std::move(loaded.value()));
    }
    return templates_[i].get();
}

Result<Cabinet::Mail> Cabinet::render_mail(std::string_view name, Locale locale,
                                           std::string_view link, int64_t valid_seconds) {
    auto set = mail_templates(locale);
    if (!set) return set.error();
    TemplateData data(TemplateData::type::object);
    put(data, "link", std::string(link));
    put(data, "valid_for", validity_text(valid_seconds, locale));
    put(data, "support_email", settings_.portal.support_email);
    put(data, "login_link", login_link());
    put(data, "forgot_link", forgot_link());
    put(data, "base_url", settings_.portal.link("/"));
    auto mail = (*set)->render_mail(name, data);
    if (!mail) return mail.error();
    return Mail{std::move(mail->subject), std::move(mail->body)};
}

Status Cabinet::enqueue(const std::string& recipient, std::string_view name, Locale locale,
                        std::string_view link, int64_t valid_seconds,
                        std::optional<int64_t> expires_at) {
    auto mail = render_mail(name, locale, link, valid_seconds);
    if (!mail) return mail.error();
    OutboxMail m;
    m.recipient = recipient;
    m.subject = mail->subject;
    m.body_text = mail->body;
    m.created_at = clock_.now();
    m.next_attempt_at = m.created_at;
    m.expires_at = expires_at;
    auto id = storage_.enqueue_mail(m);
    return id ? Status::Ok() : id.error();
}

Result<std::string> Cabinet::issue_token_with_mail(const User& user, TokenKind kind, Locale locale,
                                                   bool send_mail) {
    const int64_t now = clock_.now();
    const int64_t ttl =
        kind == TokenKind::confirm ? settings_.tokens.confirm_ttl : settings_.tokens.reset_ttl;
    std::string raw = crypto::random_token();
    Token token;
    token.kind = kind;
    token.hash = crypto::sha256_hex(raw);
    token.user_id = user.id;
    token.created_at = now;
    token.expires_at = now + ttl;
    Status st = storage_.insert_token(token);
    if (!st.ok()) return st;
    if (send_mail) {
        const bool confirm = kind == TokenKind::confirm;
        st = enqueue(user.email, confirm ? "mail_confirm.txt" : "mail_reset.txt", locale,
                     confirm ? confirm_link(raw) : reset_link(raw), ttl, token.expires_at);
        if (!st.ok()) return st;
    }
    return raw;
}

}  // namespace lkk
