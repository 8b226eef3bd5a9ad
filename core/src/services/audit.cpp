// The audit log's one writer and the actors it records.
#include "lkk/audit.h"

#include <pwd.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <utility>

#include "lkk/storage.h"

namespace lkk {

namespace {
// The names stored in audit_log.actor_kind ('' from before schema 002 reads as unknown).
constexpr std::pair<ActorKind, std::string_view> kKindNames[] = {
    {ActorKind::subscriber, "subscriber"}, {ActorKind::tool, "tool"}};
}  // namespace

std::string_view actor_kind_name(ActorKind kind) {
    for (const auto& [k, name] : kKindNames) {
        if (k == kind) return name;
    }
    return "unknown";
}

ActorKind actor_kind_from(std::string_view name) {
    for (const auto& [k, n] : kKindNames) {
        if (n == name) return k;
    }
    return ActorKind::unknown;
}

Actor subscriber_actor(std::optional<int64_t> user_id, std::string ip) {
    Actor a;
    a.kind = ActorKind::subscriber;
    a.user_id = user_id;
    a.ip = std::move(ip);
    return a;
}

Actor tool_actor(std::string os_user, std::string host) {
    Actor a;
    a.kind = ActorKind::tool;
    a.os_user = std::move(os_user);
    a.host = std::move(host);
    return a;
}

// sudo's caller is the person; root is only the account they borrowed.
Actor this_process_tool_actor() {
    std::string user;
    if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') {
        user = sudo;
    } else if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
        user = pw->pw_name;
    } else {
        user = "uid " + std::to_string(geteuid());
    }
    char host[HOST_NAME_MAX + 1] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return tool_actor(std::move(user), host);
}

std::string describe_actor(const Actor& actor) {
    switch (actor.kind) {
        case ActorKind::subscriber:
            if (actor.user_id) {
                return "subscriber " + std::to_string(*actor.user_id) +
                       (actor.ip.empty() ? "" : " from " + actor.ip);
            }
            return "visitor" + (actor.ip.empty() ? "" : " from " + actor.ip);
        case ActorKind::tool:
            return "lkk-admin by " + actor.os_user + (actor.host.empty() ? "" : "@" + actor.host);
        case ActorKind::unknown:
            break;
    }
    return actor.ip.empty() ? "-" : actor.ip;
}

Status record_audit(Storage& storage, int64_t at, const Actor& actor,
                    std::optional<int64_t> user_id, std::string event, std::string detail) {
    AuditEvent e;
    e.at = at;
    e.user_id = user_id;
    e.event = std::move(event);
    e.detail = std::move(detail);
    e.actor = actor;
    return storage.audit(e);
}

}  // namespace lkk
