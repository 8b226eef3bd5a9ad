// Temporary: lets the web layer and the admin tool compile against cabinet.h while the real
// implementation (cabinet_*.cpp) is written. Every operation answers "not implemented".
#include "lkk/cabinet.h"

namespace lkk {

namespace {
Reply not_implemented() {
    Reply r;
    r.outcome = Outcome::internal;
    r.status = Status::Internal("not implemented");
    return r;
}
Status ni() {
    return Status::Internal("not implemented");
}
}  // namespace

int64_t SystemClock::now() {
    return 0;
}
Clock& system_clock() {
    static SystemClock c;
    return c;
}
int calendar_year(int64_t, const std::string&) {
    return 1970;
}
int64_t utc_new_year(int) {
    return 0;
}

std::string_view outcome_code(Outcome) {
    return "internal";
}
Message outcome_message(Outcome) {
    return {"", ""};
}
const FieldError* Reply::error_of(std::string_view) const {
    return nullptr;
}

Cabinet::Cabinet(const Settings& settings, Storage& storage, SessionStore& sessions,
                 CounterStore& counters, Clock& clock)
    : settings_(settings),
      storage_(storage),
      sessions_(sessions),
      counters_(counters),
      clock_(clock) {}

Reply Cabinet::register_user(std::string_view, std::string_view, std::string_view, bool,
                             const RequestContext&) {
    return not_implemented();
}
Reply Cabinet::confirm(std::string_view, const RequestContext&) {
    return not_implemented();
}
Reply Cabinet::resend_confirmation(std::string_view, const RequestContext&) {
    return not_implemented();
}
LoginReply Cabinet::login(std::string_view, std::string_view, const RequestContext&) {
    LoginReply r;
    r.outcome = Outcome::internal;
    return r;
}
Result<std::optional<CurrentSession>> Cabinet::current_session(std::string_view) {
    return ni();
}
Reply Cabinet::logout(const Session&, const RequestContext&) {
    return not_implemented();
}
ChangePasswordReply Cabinet::change_password(const Session&, std::string_view, std::string_view,
                                             std::string_view, const RequestContext&) {
    ChangePasswordReply r;
    r.outcome = Outcome::internal;
    return r;
}
Reply Cabinet::forgot_password(std::string_view, const RequestContext&) {
    return not_implemented();
}
Reply Cabinet::check_reset_token(std::string_view) {
    return not_implemented();
}
Reply Cabinet::reset_password(std::string_view, std::string_view, std::string_view,
                              const RequestContext&) {
    return not_implemented();
}
Result<std::vector<Office>> Cabinet::offices() {
    return ni();
}
LinkReply Cabinet::link_account(int64_t, std::string_view, std::string_view, std::string_view,
                                std::string_view, const RequestContext&) {
    LinkReply r;
    r.outcome = Outcome::internal;
    return r;
}
Result<std::vector<LinkedAccount>> Cabinet::accounts(int64_t) {
    return ni();
}
Result<LinkedAccount> Cabinet::account_details(int64_t, int64_t) {
    return ni();
}
Reply Cabinet::unlink(int64_t, int64_t, const RequestContext&) {
    return not_implemented();
}
int64_t Cabinet::expected_amount(const BillingAccount&) {
    return 0;
}
Status Cabinet::admin_confirm(std::string_view) {
    return ni();
}
Status Cabinet::admin_resend(std::string_view) {
    return ni();
}
Result<std::string> Cabinet::admin_reset_link(std::string_view, bool) {
    return ni();
}
Status Cabinet::admin_logout(std::string_view) {
    return ni();
}
Status Cabinet::admin_unlock(std::string_view) {
    return ni();
}
Status Cabinet::admin_unlock_account(std::string_view, std::string_view) {
    return ni();
}
Status Cabinet::admin_block(std::string_view) {
    return ni();
}
Status Cabinet::admin_unblock(std::string_view) {
    return ni();
}
Status Cabinet::admin_delete(std::string_view) {
    return ni();
}
Status Cabinet::admin_unlink(std::string_view, std::string_view, std::string_view) {
    return ni();
}
Result<LockInfo> Cabinet::admin_lock_info(std::string_view) {
    return ni();
}
std::string Cabinet::confirm_link(std::string_view) const {
    return {};
}
std::string Cabinet::reset_link(std::string_view) const {
    return {};
}
std::string Cabinet::login_link() const {
    return {};
}
std::string Cabinet::forgot_link() const {
    return {};
}

}  // namespace lkk
