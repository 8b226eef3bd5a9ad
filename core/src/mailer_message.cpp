// Building one RFC 5322 / MIME message from an outbox row. Pure: no I/O besides the
// randomness for the Message-ID and the MIME boundary.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/mailer.h"

namespace lkk {

namespace {

constexpr std::string_view kCrlf = "\r\n";
// RFC 5322 recommends lines of at most 78 characters.
constexpr size_t kLineLimit = 78;
// Bytes of UTF-8 text per encoded-word: 39 bytes -> 52 base64 chars -> a 64-char word, so
// "Subject: " + one word stays under 78.
constexpr size_t kWordBytes = 39;

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
}

std::string random_hex(size_t bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
        // Uniqueness, not secrecy, is what matters here; fall back on the clock.
        raw = std::to_string(std::time(nullptr));
        raw.resize(bytes, 'x');
    }
    std::string out;
    for (unsigned char c : raw) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

bool has_cr_or_lf(std::string_view s) {
    return s.find_first_of("\r\n") != std::string_view::npos;
}

bool is_plain_ascii(std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
}

// A recipient goes into the To header and the SMTP envelope: anything that could end the
// header, start another address or confuse the envelope is refused.
Status check_address(std::string_view address, std::string_view what) {
    if (address.empty()) return Status::Invalid(std::string(what) + " address is empty");
    if (has_cr_or_lf(address)) {
        return Status::Invalid(std::string(what) + " address contains CR/LF");
    }
    for (unsigned char c : address) {
        if (c < 0x21 || c == 0x7f ||
            std::string_view("<>,;\"()[]\\").find(static_cast<char>(c)) != std::string_view::npos) {
            return Status::Invalid(std::string(what) + " address contains a forbidden character");
        }
    }
    const size_t at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) {
        return Status::Invalid(std::string(what) + " address has no user@domain form");
    }
    return Status::Ok();
}

// Splits UTF-8 text into chunks of at most max_bytes without cutting a character in two, so
// every encoded-word decodes on its own (RFC 2047 section 5).
std::vector<std::string_view> utf8_chunks(std::string_view text, size_t max_bytes) {
    std::vector<std::string_view> chunks;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = std::min(text.size(), start + max_bytes);
        if (end < text.size()) {
            // Step back over continuation bytes to a character start.
            size_t cut = end;
            while (cut > start && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
                --cut;
            }
            if (cut > start) end = cut;  // else a broken sequence longer than max: cut anyway
        }
        chunks.push_back(text.substr(start, end - start));
        start = end;
    }
    return chunks;
}

// RFC 2047 B-encoded words, one per chunk, folded with CRLF SP so no line passes 78 chars.
std::string encoded_words(std::string_view text) {
    std::string out;
    for (std::string_view chunk : utf8_chunks(text, kWordBytes)) {
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?";
        out += base64(chunk);
        out += "?=";
    }
    return out;
}

// RFC 5322's hard limit on a line, CRLF not counted.
constexpr size_t kMaxLine = 998;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);
           });
}

// A mail's own header (List-Unsubscribe...): a plain field name that is not one of the
// fields build_message writes (nor one that adds recipients), and a printable ASCII value
// on one line, so no header can be injected or doubled.
Status check_extra_header(std::string_view name, std::string_view value) {
    if (name.empty()) return Status::Invalid("header name is empty");
    for (char c : name) {
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok)
            return Status::Invalid("header name " + std::string(name) + " is not a field name");
    }
    for (std::string_view own : {"From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
                                 "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
                                 "Auto-Submitted", "Sender", "Reply-To", "Return-Path"}) {
        if (iequals(name, own))
            return Status::Invalid("header " + std::string(name) + " is the mailer's own");
    }
    if (!is_plain_ascii(value)) {
        return Status::Invalid("header " + std::string(name) + " is not plain printable ASCII");
    }
    if (name.size() + 2 + value.size() > kMaxLine) {
        return Status::Invalid("header " + std::string(name) + " is longer than a mail line");
    }
    return Status::Ok();
}

std::string subject_header(std::string_view subject) {
    const std::string_view name = "Subject: ";
    if (is_plain_ascii(subject) && name.size() + subject.size() <= kLineLimit &&
        subject.find("=?") == std::string_view::npos) {
        return std::string(name) + std::string(subject);
    }
    return std::string(name) + encoded_words(subject);
}

std::string from_header(const MailAddress& from) {
    std::string out = "From: ";
    if (from.display_name.empty()) return out + from.address;
    if (is_plain_ascii(from.display_name)) {
        out += '"';
        for (char c : from.display_name) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    } else {
        out += encoded_words(from.display_name);
    }
    return out + " <" + from.address + ">";
}

// RFC 5322 date-time in UTC, built by hand: strftime's names follow the C locale of the
// process, which nginx does not promise to keep as "C".
std::string rfc5322_date(int64_t now) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t t = static_cast<std::time_t>(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

// MIME canonical text form (RFC 2045): every line break is CRLF before base64.
std::string canonical_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r') {
            out += kCrlf;
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += kCrlf;
        } else {
            out += c;
        }
    }
    return out;
}

// base64 in lines of 76 characters (RFC 2045 section 6.8), each ending in CRLF: bytes as they
// are (an attachment).
std::string base64_lines(std::string_view bytes) {
    const std::string encoded = base64(bytes);
    std::string out;
    out.reserve(encoded.size() + encoded.size() / 76 * 2 + 2);
    for (size_t i = 0; i < encoded.size(); i += 76) {
        out.append(encoded, i, 76);
        out += kCrlf;
    }
    return out;
}

// The same for text, in its canonical CRLF form first.
std::string base64_body(std::string_view text) {
    return base64_lines(canonical_crlf(text));
}

// A file name or media type that goes between quotes or into a header as it is.
bool is_plain_attachment_text(std::string_view s) {
    if (s.empty() || s.size() > 200) return false;
    for (unsigned char c : s) {
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == ';') return false;
    }
    return true;
}

std::string text_part_headers(std::string_view subtype) {
    return "Content-Type: text/" + std::string(subtype) +
           "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n";
}

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

Result<MailAddress> parse_mail_address(const std::string& text) {
    if (has_cr_or_lf(text)) return Status::Invalid("mail address contains CR/LF");
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f)
            return Status::Invalid("mail address contains a control character");
    }
    std::string_view s = trim(text);
    MailAddress out;
    if (!s.empty() && s.back() == '>') {
        const size_t lt = s.rfind('<');
        if (lt == std::string_view::npos) return Status::Invalid("mail address: '>' without '<'");
        out.address = std::string(s.substr(lt + 1, s.size() - lt - 2));
        std::string_view name = trim(s.substr(0, lt));
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
            name = name.substr(1, name.size() - 2);
        }
        for (size_t i = 0; i < name.size(); ++i) {
            if (name[i] == '\\' && i + 1 < name.size()) ++i;
            out.display_name += name[i];
        }
    } else {
        out.address = std::string(s);
    }
    if (Status st = check_address(out.address, "sender"); !st.ok()) return st;
    return out;
}

Result<std::string> build_message(const OutboxMail& mail, const std::string& from, int64_t now,
                                  const std::string& message_id_domain) {
    if (Status st = check_address(mail.recipient, "recipient"); !st.ok()) return st;
    if (has_cr_or_lf(mail.subject)) return Status::Invalid("subject contains CR/LF");
    Result<MailAddress> sender = parse_mail_address(from);
    if (!sender) return sender.error();
    if (has_cr_or_lf(message_id_domain) || !is_plain_ascii(message_id_domain)) {
        return Status::Invalid("message id domain is not plain ASCII");
    }
    for (const auto& [name, value] : mail.headers) {
        if (Status st = check_extra_header(name, value); !st.ok()) return st;
    }
    for (const MailAttachment& a : mail.attachments) {
        if (!is_plain_attachment_text(a.file_name) || !is_plain_attachment_text(a.content_type)) {
            return Status::Invalid("attachment file name or type is not plain ASCII");
        }
        if (a.content.empty()) return Status::Invalid("attachment " + a.file_name + " is empty");
    }
    const std::string domain = message_id_domain.empty()
                                   ? sender->address.substr(sender->address.rfind('@') + 1)
                                   : message_id_domain;

    std::string m;
    m.reserve(1024 + mail.body_text.size() * 2 + mail.body_html.size() * 2);
    m += from_header(*sender) + "\r\n";
    m += "To: " + mail.recipient + "\r\n";
    m += subject_header(mail.subject) + "\r\n";
    m += "Date: " + rfc5322_date(now) + "\r\n";
    m += "Message-ID: <" + std::to_string(mail.id) + "." + std::to_string(now) + "." +
         random_hex(8) + "@" + domain + ">\r\n";
    // Transactional mail: ask autoresponders not to answer it (RFC 3834).
    m += "Auto-Submitted: auto-generated\r\n";
    for (const auto& [name, value] : mail.headers) m += name + ": " + value + "\r\n";
    m += "MIME-Version: 1.0\r\n";
    // The text: one part, or the text and HTML alternatives.
    std::string text;
    if (mail.body_html.empty()) {
        text += text_part_headers("plain");
        text += kCrlf;
        text += base64_body(mail.body_text);
    } else {
        // "=_" never occurs in base64 text, so the boundary cannot collide with a part.
        const std::string boundary = "=_lkk_" + random_hex(12);
        text += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
        text += kCrlf;
        text += "--" + boundary + "\r\n";
        text += text_part_headers("plain");
        text += kCrlf;
        text += base64_body(mail.body_text);
        text += "--" + boundary + "\r\n";
        text += text_part_headers("html");
        text += kCrlf;
        text += base64_body(mail.body_html);
        text += "--" + boundary + "--\r\n";
    }
    if (mail.attachments.empty()) return m + text;
    const std::string mixed = "=_lkk_" + random_hex(12);
    m += "Content-Type: multipart/mixed; boundary=\"" + mixed + "\"\r\n";
    m += kCrlf;
    m += "--" + mixed + "\r\n";
    m += text;
    for (const MailAttachment& a : mail.attachments) {
        m += "--" + mixed + "\r\n";
        m += "Content-Type: " + a.content_type + "\r\n";
        m += "Content-Disposition: attachment; filename=\"" + a.file_name + "\"\r\n";
        m += "Content-Transfer-Encoding: base64\r\n";
        m += kCrlf;
        m += base64_lines(a.content);
    }
    m += "--" + mixed + "--\r\n";
    return m;
}

Mailer::~Mailer() = default;

}  // namespace lkk
