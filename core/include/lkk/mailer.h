// Mail: building RFC 5322 / MIME messages, the transports that hand them over, and the
// outbox delivery round.
//
// The portal never sends mail from a request: the request writes an outbox row in the same
// transaction as the change that caused it, and a background timer calls deliver_outbox().
// A Mailer only moves one finished message; retries and back-off belong to deliver_outbox().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lkk/settings.h"
#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

// libcurl's curl_global_init is not thread-safe: call this once while the process is still
// single-threaded (module init, a test's main). Idempotent. open_mailer() calls it too.
void mail_global_init();

// Hands one outbox mail to its destination. send() blocks (up to about 30 s for SMTP) and is
// called from worker threads; implementations are safe to call from several threads at once.
// Errors: invalid_argument when the mail itself can never be sent (header injection, a
// malformed address), unavailable when the destination failed and a retry may succeed.
class Mailer {
  public:
    virtual ~Mailer();
    virtual Status send(const OutboxMail& mail) = 0;
};

// Opens a transport from the [mail] url setting; from is the [mail] from setting, e.g.
// "Личный кабинет <noreply@example.org>".
//   file:DIR                     one DIR/<utc>-<outbox id>-<random>.eml per mail (DIR created)
//   smtp://host:port             plain SMTP, STARTTLS when the server offers it
//   smtp://user:pass@host:port   the same with AUTH (user and pass percent-decoded)
//   smtps://user:pass@host:465   implicit TLS
// Query options: starttls=required (refuse to send without TLS), starttls=no,
// insecure=1 (skip certificate verification: for tests only).
Result<std::unique_ptr<Mailer>> open_mailer(const std::string& url, const std::string& from);
Result<std::unique_ptr<Mailer>> open_file_mailer(const std::string& dir, const std::string& from);
Result<std::unique_ptr<Mailer>> open_smtp_mailer(const std::string& url, const std::string& from);

// A mailbox as written in the from setting: "Display Name <addr@host>" or "addr@host".
struct MailAddress {
    std::string display_name;  // UTF-8, may be empty
    std::string address;       // addr-spec, ASCII
};
// Refuses (invalid_argument) control characters, a missing '@' and characters that would
// break the header or the SMTP envelope.
Result<MailAddress> parse_mail_address(const std::string& text);

// The whole message, CRLF line endings, ready for SMTP DATA or an .eml file: From (display
// name RFC 2047-encoded when not ASCII), To, Subject (RFC 2047 B-encoded and folded when not
// plain short ASCII), Date (UTC, RFC 5322 form), Message-ID, MIME-Version, and a UTF-8
// text/plain body in base64 — multipart/alternative with a text/html part when body_html is
// not empty; then the mail's own headers (OutboxMail::headers) after Auto-Submitted. Refuses
// (invalid_argument) a recipient or subject carrying CR/LF, and an own header whose name is
// not a plain field name or is one of the fields written here, or whose value is not
// printable ASCII on one line of at most 998 characters. With attachments the message is
// multipart/mixed: the text (or the alternative) first, then each attachment in base64 with
// its file name; an attachment without content, or whose file name or type is not plain
// ASCII without quotes, is refused.
Result<std::string> build_message(const OutboxMail& mail, const std::string& from, int64_t now,
                                  const std::string& message_id_domain);

struct DeliveryPolicy {
    // A mail without its own expiry (no link in it) is kept this long after it was written,
    // however many attempts fail ([mail] max_age). A mail with a link is kept until the link
    // expires (OutboxMail::expires_at).
    int64_t max_age = 7 * 24 * 3600;
    int64_t base_backoff = 30;   // seconds before the 2nd attempt; doubles each time
    int64_t max_backoff = 3600;  // the back-off never grows beyond this
    int batch = 20;              // mails claimed per round
    int64_t lease = 120;         // seconds a claimed mail stays invisible to other hosts
};

// Seconds to wait after a failed attempt when the mail had `attempts` failures before it:
// min(max_backoff, base_backoff * 2^attempts).
int64_t outbox_backoff(const DeliveryPolicy& policy, int attempts);

// The policy of the [mail] settings: one place for the portal's timer and lkk-admin.
DeliveryPolicy delivery_policy(const Settings& settings);

// When a mail stops being worth sending: its own expiry (the link's), else max_age after it
// was written.
int64_t mail_expiry(const DeliveryPolicy& policy, const OutboxMail& mail);

// One delivery round: claims due mails, sends each, marks it sent, or failed with the next
// attempt backed off. A mail is given up only when it can never be sent (a bad address) or
// is no longer useful (mail_expiry has passed: it is not sent then), never for a number of
// attempts. When a mail goes out, the server is answering: the other mails waiting for their
// back-off become due for the next round. Stops early, leaving the rest claimed, rather than
// outlive the lease (so another host never sends the same mail). Answers the number sent.
// Never throws.
//
// A mail with attachments (OutboxMail::attachments) has each one's content made by `render`
// right before it is sent. A render that answers not_found or invalid_argument (the bill's
// account was unlinked, an unknown source) gives the mail up; any other failure, or no
// renderer, retries it later like a failed send.
using AttachmentRenderer = std::function<Result<std::string>(const MailAttachment&)>;
int deliver_outbox(Storage& storage, Mailer& mailer, int64_t now, const DeliveryPolicy& policy,
                   const AttachmentRenderer& render = {}) noexcept;

}  // namespace lkk
