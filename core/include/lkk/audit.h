// Who did it: the actor recorded with every audit row, and the one function that writes the
// audit log (SPEC 4: "the audit log names the actor of every change").
//
// A change is made either by a subscriber through the portal (the cabinet's user id when
// known, and the client's IP) or by support staff through lkk-admin (the operating-system user
// and the host name), also when the tool acts on a subscriber's behalf. Cabinet records the
// subscriber, the Support service (support.h) the tool; both go through record_audit().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lkk/status.h"

namespace lkk {

class Storage;

// unknown: rows written before schema 002, which kept only an IP.
enum class ActorKind { unknown, subscriber, tool };
std::string_view actor_kind_name(ActorKind kind);
ActorKind actor_kind_from(std::string_view name);

struct Actor {
    ActorKind kind = ActorKind::unknown;
    std::optional<int64_t> user_id;  // subscriber: the cabinet acting (none: not logged in)
    std::string ip;                  // subscriber: the client's address
    std::string os_user;             // tool: who ran it (sudo's caller when run through sudo)
    std::string host;                // tool: the host it ran on
};

// A subscriber (or, without a user id, an anonymous visitor) at ip.
Actor subscriber_actor(std::optional<int64_t> user_id, std::string ip);
// The admin tool run by os_user on host.
Actor tool_actor(std::string os_user, std::string host);
// The admin tool as run by this process: $SUDO_USER when set, else the effective user's name,
// and gethostname().
Actor this_process_tool_actor();

// One line for people: "subscriber 42 from 192.0.2.1", "visitor from 192.0.2.1",
// "lkk-admin by alice@host1", or the bare IP of a row older than schema 002.
std::string describe_actor(const Actor& actor);

// Writes one audit row: at, the actor, the cabinet the event is about (user_id), the event
// name ("login_ok", "admin_block", ...) and a free-text detail without secrets. The only
// writer of the audit log. Inside a transaction the caller checks the Status, so the event
// and the change are stored together.
Status record_audit(Storage& storage, int64_t at, const Actor& actor,
                    std::optional<int64_t> user_id, std::string event, std::string detail = {});

}  // namespace lkk
