// Support work on the audit log itself: lkk-admin audit reads it, newest first.
#include <string>
#include <utility>

#include "lkk/support.h"

namespace lkk {

namespace {

// The filter as the audit row of the reading records it: "since 86400s, action login_fail".
std::string describe_query(const AuditQuery& q) {
    std::string out;
    const auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
    if (q.within) add("since " + std::to_string(*q.within) + "s");
    if (!q.email.empty()) add("user");
    if (!q.event.empty()) add("action " + q.event);
    return out.empty() ? "all" : out;
}

}  // namespace

Status Support::read_audit(const AuditQuery& query,
                           const std::function<Status(const AuditEvent&)>& on_row) {
    AuditFilter filter;
    filter.event = query.event;
    if (query.within) filter.since = clock_.now() - *query.within;
    if (!query.email.empty()) {
        auto user = user_of(query.email);
        if (!user) return user.error();
        filter.user_id = user->id;
    }
    // The cabinet (when one) is in the row's user_id; its e-mail stays out of the detail.
    if (Status s = audit(filter.user_id, "admin_audit", describe_query(query)); !s.ok()) return s;
    return storage_.each_audit(filter, on_row);
}

}  // namespace lkk
