// Private helpers shared by the cabinet_*.cpp files: building replies, field errors and the
// keys of throttle counters. Not part of the public API.
#pragma once

#include <string>
#include <string_view>

#include "lkk/cabinet.h"
#include "lkk/crypto.h"
#include "lkk/rules.h"

namespace lkk::cabinet_detail {

// A backend failure as a reply: unavailable (503) when the server is down, else internal.
template <class R = Reply>
R failure(const Status& status) {
    R r;
    r.outcome = status.code() == StatusCode::unavailable ? Outcome::unavailable : Outcome::internal;
    r.status = status;
    return r;
}

template <class R = Reply>
R with_outcome(Outcome outcome) {
    R r;
    r.outcome = outcome;
    return r;
}

// A rule error of one field, with the number substituted where the message has one.
FieldError rule_error(std::string field, rules::RuleError error, int param = 0);
// A field error that is not a rule of lkk::rules ("required", "password_mismatch", ...).
FieldError field_error(std::string field, std::string code, Message message);
FieldError required(std::string field);

// The Argon2 cost from [passwords].
crypto::Argon2Params argon2_params(const Settings& settings);

// Tokens and cookie values are 43 base64url characters; anything much longer is garbage
// that need not reach the database.
inline bool plausible_token(std::string_view t) {
    return !t.empty() && t.size() <= 128;
}

// Keys of the throttle counters. One place, so lkk-admin's unlock clears exactly what the
// flow counts.
std::string key_login_ip(std::string_view ip);
std::string key_login_failures(std::string_view email);
std::string key_login_lock(std::string_view email);
std::string key_login_locks(std::string_view email);  // how many locks: the lock doubles
std::string key_register_ip(std::string_view ip);
std::string key_resend(std::string_view email);  // resend, and mails to an existing owner
std::string key_forgot(std::string_view email);
std::string key_password_change(int64_t user_id);
std::string key_link_user(int64_t user_id);
std::string key_link_account(std::string_view office_code, std::string_view account_number);

// How long the memory of past login locks lasts (each further lock within it doubles).
inline constexpr int64_t kLockMemorySeconds = 24 * 3600;
// last_seen of a session is written at most this often, so a page view is a read only.
inline constexpr int64_t kSessionTouchSeconds = 60;

}  // namespace lkk::cabinet_detail
