// Mail: the message builder parsed back, the file: transport, the SMTP transport against a
// real SMTP listener (tests/tools/smtp_sink.py on Debian's python3-aiosmtpd), and outbox
// delivery on real SQLite storage with the listener down, then up.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lkk/clock.h"
#include "lkk/mailer.h"
#include "lkk/storage.h"

namespace fs = std::filesystem;

namespace lkk {
namespace {

const std::string kFrom = "Личный кабинет <noreply@example.org>";
const std::string kRussianSubject =
    "Подтвердите регистрацию в личном кабинете абонента газового хозяйства";
const std::string kRussianBody =
    "Здравствуйте!\n\nЧтобы подтвердить регистрацию, откройте ссылку:\n"
    "https://lkk.example.org/lkk/confirm?token=AbC-123_xyz\n\nЁлка, ёж, щука — съешь же ещё.\n";

// ---------------------------------------------------------------- helpers

std::string make_temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "lkk-mail-XXXXXX").string();
    const char* dir = ::mkdtemp(pattern.data());
    return dir != nullptr ? std::string(dir) : std::string();
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::vector<fs::path> files_with_extension(const std::string& dir, const std::string& ext) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ext) out.push_back(entry.path());
    }
    return out;
}

size_t count_entries(const std::string& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        ++n;
    }
    return n;
}

std::string base64_decode(std::string text) {
    std::string clean;
    for (char c : text) {
        if (c != '\r' && c != '\n') clean += c;
    }
    if (clean.empty()) return {};
    std::string out(clean.size() / 4 * 3 + 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(clean.data()),
                                  static_cast<int>(clean.size()));
    if (n < 0) return "<invalid base64>";
    size_t len = static_cast<size_t>(n);
    // EVP_DecodeBlock counts the padding as zero bytes.
    if (clean.size() >= 1 && clean.back() == '=') --len;
    if (clean.size() >= 2 && clean[clean.size() - 2] == '=') --len;
    out.resize(len);
    return out;
}

struct ParsedMessage {
    std::vector<std::string> header_lines;  // physical lines, without CRLF
    std::string body;                       // everything after the blank line
};

ParsedMessage split_message(const std::string& message) {
    ParsedMessage parsed;
    const size_t blank = message.find("\r\n\r\n");
    if (blank == std::string::npos) return parsed;
    std::string head = message.substr(0, blank + 2);
    parsed.body = message.substr(blank + 4);
    size_t start = 0;
    while (start < head.size()) {
        const size_t end = head.find("\r\n", start);
        parsed.header_lines.push_back(head.substr(start, end - start));
        start = end + 2;
    }
    return parsed;
}

// The unfolded value of a header (RFC 5322 2.2.3: a CRLF followed by WSP is a fold).
std::string header_value(const ParsedMessage& parsed, const std::string& name) {
    const std::string prefix = name + ": ";
    for (size_t i = 0; i < parsed.header_lines.size(); ++i) {
        if (parsed.header_lines[i].rfind(prefix, 0) != 0) continue;
        std::string value = parsed.header_lines[i].substr(prefix.size());
        for (size_t j = i + 1; j < parsed.header_lines.size(); ++j) {
            const std::string& next = parsed.header_lines[j];
            if (next.empty() || (next[0] != ' ' && next[0] != '\t')) break;
            value += next;
        }
        return value;
    }
    return "<missing " + name + ">";
}

// Decodes a header made of RFC 2047 B encoded-words (whitespace between words is dropped,
// as RFC 2047 section 6.2 says); text outside encoded-words is kept as is.
std::string decode_rfc2047(const std::string& value) {
    std::string out;
    size_t pos = 0;
    while (pos < value.size()) {
        const size_t start = value.find("=?UTF-8?B?", pos);
        if (start == std::string::npos) {
            out += value.substr(pos);
            break;
        }
        std::string between = value.substr(pos, start - pos);
        if (between.find_first_not_of(" \t") != std::string::npos) out += between;
        const size_t payload = start + 10;
        const size_t end = value.find("?=", payload);
        if (end == std::string::npos) return "<unterminated encoded-word>";
        out += base64_decode(value.substr(payload, end - payload));
        pos = end + 2;
    }
    return out;
}

std::string crlf_to_lf(std::string s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
        out += s[i];
    }
    return out;
}

OutboxMail russian_mail(int64_t id = 42) {
    OutboxMail mail;
    mail.id = id;
    mail.recipient = "abonent@example.com";
    mail.subject = kRussianSubject;
    mail.body_text = kRussianBody;
    return mail;
}

// A TCP port on 127.0.0.1 with nothing listening (bound, read and released).
int unused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// Runs a program and answers its stdout (for python's own reading of our messages).
std::string run_capture(const std::vector<std::string>& argv) {
    int out[2];
    if (::pipe(out) != 0) return {};
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 2);
        ::dup2(out[1], 1);
        ::close(out[0]);
        ::close(out[1]);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(out[1]);
    std::string result;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0) result.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return result;
}

// tests/tools/smtp_sink.py as a child process: started on a port (0: any), stopped with
// SIGTERM when the object goes away.
class SmtpSink {
  public:
    SmtpSink(const std::string& dir, int port, const std::vector<std::string>& extra = {}) {
        int out[2];
        if (::pipe(out) != 0) return;
        std::vector<std::string> argv = {"/usr/bin/python3",
                                         std::string(LKK_SOURCE_DIR) + "/tests/tools/smtp_sink.py",
                                         "--port",
                                         std::to_string(port),
                                         "--dir",
                                         dir};
        argv.insert(argv.end(), extra.begin(), extra.end());
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            ::close(out[1]);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(out[1]);
        // Wait (at most 20 s) for "READY <port>\n".
        std::string line;
        pollfd pfd{out[0], POLLIN, 0};
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (line.find('\n') == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            if (::poll(&pfd, 1, 200) <= 0) continue;
            char buf[128];
            const ssize_t n = ::read(out[0], buf, sizeof buf);
            if (n <= 0) break;
            line.append(buf, static_cast<size_t>(n));
        }
        ::close(out[0]);
        if (line.rfind("READY ", 0) == 0) port_ = std::atoi(line.c_str() + 6);
    }
    SmtpSink(const SmtpSink&) = delete;
    SmtpSink& operator=(const SmtpSink&) = delete;
    ~SmtpSink() { stop(); }

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    int port() const { return port_; }
    bool ready() const { return port_ > 0; }

  private:
    pid_t pid_ = -1;
    int port_ = 0;
};

class MailEnvironment : public ::testing::Environment {
  public:
    void SetUp() override { mail_global_init(); }
};
const auto* const kMailEnvironment =
    ::testing::AddGlobalTestEnvironment(new MailEnvironment);  // NOLINT owned by gtest

// ---------------------------------------------------------------- build_message

TEST(BuildMessage, HeadersAndRussianBodyRoundTrip) {
    const int64_t now = 1764080502;  // 2025-11-25 14:21:42 UTC, a Tuesday
    Result<std::string> message = build_message(russian_mail(), kFrom, now, "example.org");
    ASSERT_TRUE(message.ok()) << message.error().message();
    const std::string& m = *message;

    // CRLF everywhere: no bare LF, no bare CR, and every line within RFC 5322's 998 limit.
    for (size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\n') {
            ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
        }
        if (m[i] == '\r') {
            ASSERT_TRUE(i + 1 < m.size() && m[i + 1] == '\n') << "bare CR at " << i;
        }
    }
    ASSERT_TRUE(m.size() >= 2 && m.substr(m.size() - 2) == "\r\n");

    const ParsedMessage parsed = split_message(m);
    ASSERT_FALSE(parsed.header_lines.empty());
    for (const std::string& line : parsed.header_lines) {
        EXPECT_LE(line.size(), 78u) << line;
        for (unsigned char c : line) EXPECT_LT(c, 0x80) << "raw 8-bit in header: " << line;
    }

    EXPECT_EQ(header_value(parsed, "To"), "abonent@example.com");
    EXPECT_EQ(header_value(parsed, "Date"), "Tue, 25 Nov 2025 14:21:42 +0000");
    EXPECT_EQ(header_value(parsed, "MIME-Version"), "1.0");
    EXPECT_EQ(header_value(parsed, "Content-Type"), "text/plain; charset=UTF-8");
    EXPECT_EQ(header_value(parsed, "Content-Transfer-Encoding"), "base64");
    const std::string message_id = header_value(parsed, "Message-ID");
    EXPECT_EQ(message_id.front(), '<');
    EXPECT_NE(message_id.find("@example.org>"), std::string::npos) << message_id;

    // From: the display name is encoded, the address stays plain.
    const std::string from = header_value(parsed, "From");
    EXPECT_NE(from.find("=?UTF-8?B?"), std::string::npos) << from;
    EXPECT_NE(from.find("<noreply@example.org>"), std::string::npos) << from;
    EXPECT_EQ(decode_rfc2047(from), "Личный кабинет <noreply@example.org>");

    // Subject: long Russian text, folded into several encoded-words, decodes back exactly.
    const std::string subject = header_value(parsed, "Subject");
    EXPECT_GT(std::count(subject.begin(), subject.end(), '?') / 4, 1) << "expected folding";
    EXPECT_EQ(decode_rfc2047(subject), kRussianSubject);

    // Body: base64 lines of 76 characters, decoding to the text with CRLF line breaks.
    const ParsedMessage body_lines = split_message("X: y\r\n\r\n");
    std::istringstream lines(parsed.body);
    std::string line;
    std::vector<std::string> body;
    while (std::getline(lines, line)) body.push_back(line);
    ASSERT_GE(body.size(), 2u);
    for (size_t i = 0; i + 1 < body.size(); ++i) EXPECT_EQ(body[i].size(), 77u);  // 76 + CR
    const std::string decoded = base64_decode(parsed.body);
    EXPECT_EQ(crlf_to_lf(decoded), kRussianBody);
    EXPECT_NE(decoded.find("Здравствуйте!\r\n\r\n"), std::string::npos);
    (void)body_lines;
}

TEST(BuildMessage, ShortAsciiSubjectStaysReadable) {
    OutboxMail mail = russian_mail();
    mail.subject = "Password reset";
    Result<std::string> message = build_message(mail, "noreply@example.org", 0, "");
    ASSERT_TRUE(message.ok()) << message.error().message();
    const ParsedMessage parsed = split_message(*message);
    EXPECT_EQ(header_value(parsed, "Subject"), "Password reset");
    EXPECT_EQ(header_value(parsed, "From"), "noreply@example.org");
    EXPECT_EQ(header_value(parsed, "Date"), "Thu, 01 Jan 1970 00:00:00 +0000");
    // With no domain given, the Message-ID takes the sender's.
    EXPECT_NE(header_value(parsed, "Message-ID").find("@example.org>"), std::string::npos);
}

TEST(BuildMessage, EncodedWordsNeverSplitACharacter) {
    // 100 two-byte letters: any cut at an odd byte would leave a broken word.
    std::string subject;
    for (int i = 0; i < 100; ++i) subject += "ж";
    subject += "€😀";  // three- and four-byte characters at a chunk edge
    OutboxMail mail = russian_mail();
    mail.subject = subject;
    Result<std::string> message = build_message(mail, kFrom, 0, "example.org");
    ASSERT_TRUE(message.ok());
    const std::string value = header_value(split_message(*message), "Subject");
    size_t pos = 0;
    while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
        const size_t end = value.find("?=", pos + 10);
        ASSERT_NE(end, std::string::npos);
        const std::string word = base64_decode(value.substr(pos + 10, end - pos - 10));
        ASSERT_FALSE(word.empty());
        // A word starts on a character boundary: its first byte is no continuation byte.
        EXPECT_NE(static_cast<unsigned char>(word[0]) & 0xC0, 0x80);
        pos = end + 2;
    }
    EXPECT_EQ(decode_rfc2047(value), subject);
}

TEST(BuildMessage, HtmlBodyMakesMultipartAlternative) {
    OutboxMail mail = russian_mail();
    mail.body_html = "<p>Здравствуйте! <a href=\"https://x/\">ссылка</a></p>";
    Result<std::string> message = build_message(mail, kFrom, 0, "example.org");
    ASSERT_TRUE(message.ok());
    const ParsedMessage parsed = split_message(*message);
    const std::string type = header_value(parsed, "Content-Type");
    ASSERT_EQ(type.rfind("multipart/alternative; boundary=\"", 0), 0u) << type;
    const std::string boundary =
        type.substr(type.find('"') + 1, type.rfind('"') - type.find('"') - 1);
    const std::string& body = parsed.body;
    const size_t first = body.find("--" + boundary + "\r\n");
    const size_t second = body.find("--" + boundary + "\r\n", first + 1);
    const size_t last = body.find("--" + boundary + "--\r\n");
    ASSERT_NE(first, std::string::npos);
    ASSERT_NE(second, std::string::npos);
    ASSERT_NE(last, std::string::npos);
    ASSERT_LT(first, second);
    ASSERT_LT(second, last);
    const ParsedMessage text_part = split_message(body.substr(first, second - first));
    const ParsedMessage html_part = split_message(body.substr(second, last - second));
    EXPECT_EQ(header_value(text_part, "Content-Type"), "text/plain; charset=UTF-8");
    EXPECT_EQ(header_value(html_part, "Content-Type"), "text/html; charset=UTF-8");
    EXPECT_EQ(crlf_to_lf(base64_decode(text_part.body)), kRussianBody);
    EXPECT_EQ(base64_decode(html_part.body), mail.body_html);
}

TEST(BuildMessage, RefusesHeaderInjection) {
    const std::vector<std::string> bad_recipients = {"victim@example.com\r\nBcc: many@example.net",
                                                     "victim@example.com\nBcc: x@y.z",
                                                     "victim@example.com\r",
                                                     "a@b.c, other@example.net",
                                                     "Name <a@b.c>",
                                                     "",
                                                     "no-at-sign",
                                                     "@example.com",
                                                     "user@"};
    for (const std::string& rcpt : bad_recipients) {
        OutboxMail mail = russian_mail();
        mail.recipient = rcpt;
        Result<std::string> message = build_message(mail, kFrom, 0, "example.org");
        ASSERT_FALSE(message.ok()) << "accepted recipient: " << rcpt;
        EXPECT_EQ(message.error().code(), StatusCode::invalid_argument);
    }
    for (const std::string& subject :
         {std::string("Hello\r\nBcc: x@y.z"), std::string("Hi\nX: 1"), std::string("Hi\r")}) {
        OutboxMail mail = russian_mail();
        mail.subject = subject;
        Result<std::string> message = build_message(mail, kFrom, 0, "example.org");
        ASSERT_FALSE(message.ok()) << "accepted subject: " << subject;
        EXPECT_EQ(message.error().code(), StatusCode::invalid_argument);
    }
    Result<std::string> bad_from =
        build_message(russian_mail(), "Evil\r\nBcc: x@y.z <a@b.c>", 0, "example.org");
    EXPECT_FALSE(bad_from.ok());
}

// A mail's own headers (RFC 8058's List-Unsubscribe) go out as given, after the mailer's own,
// and can neither inject a header nor replace one of the mailer's.
TEST(BuildMessage, ExtraHeadersOfOneMail) {
    OutboxMail mail = russian_mail();
    mail.headers = {{"List-Unsubscribe", "<https://lk.example.org/lkk/unsubscribe?t=abc_-1>"},
                    {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
    Result<std::string> message = build_message(mail, kFrom, 0, "example.org");
    ASSERT_TRUE(message.ok()) << message.error().message();
    const std::string& m = message.value();
    const size_t list = m.find(
        "\r\nList-Unsubscribe: <https://lk.example.org/lkk/unsubscribe?t=abc_-1>\r\n"
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    ASSERT_NE(list, std::string::npos) << m;
    EXPECT_LT(list, m.find("\r\n\r\n")) << "in the header block";

    const std::vector<std::pair<std::string, std::string>> refused = {
        {"List-Unsubscribe", "<https://x>\r\nBcc: many@example.net"},
        {"List-Unsubscribe", "<https://x>\nX: 1"},
        {"X-Bad Name", "1"},
        {"X:Colon", "1"},
        {"", "1"},
        {"bcc", "many@example.net"},
        {"To", "other@example.net"},
        {"Content-Type", "text/html"},
        {"X-Note", "не ASCII"},
        {"X-Long", std::string(1000, 'a')},
    };
    for (const auto& header : refused) {
        OutboxMail bad = russian_mail();
        bad.headers = {header};
        Result<std::string> r = build_message(bad, kFrom, 0, "example.org");
        ASSERT_FALSE(r.ok()) << "accepted header " << header.first << ": " << header.second;
        EXPECT_EQ(r.error().code(), StatusCode::invalid_argument);
    }
}

TEST(MailAddress, ParsesTheFromSetting) {
    Result<MailAddress> a = parse_mail_address("  Личный кабинет <noreply@example.org> ");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->display_name, "Личный кабинет");
    EXPECT_EQ(a->address, "noreply@example.org");
    Result<MailAddress> b = parse_mail_address("\"Support, \\\"Gas\\\"\" <help@example.org>");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->display_name, "Support, \"Gas\"");
    Result<MailAddress> c = parse_mail_address("plain@example.org");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->display_name, "");
    EXPECT_EQ(c->address, "plain@example.org");
    EXPECT_FALSE(parse_mail_address("Name <no-at>").ok());
    EXPECT_FALSE(parse_mail_address("Name noreply@example.org>").ok());
    EXPECT_FALSE(parse_mail_address("").ok());
}

TEST(BuildMessage, QuotedAsciiDisplayNameRoundTrips) {
    Result<std::string> message =
        build_message(russian_mail(), "Support, \"Gas\" <help@example.org>", 0, "");
    ASSERT_TRUE(message.ok()) << message.error().message();
    EXPECT_EQ(header_value(split_message(*message), "From"),
              "\"Support, \\\"Gas\\\"\" <help@example.org>");
}

// Python's email package (what the integration tests use) reads our message the same way.
TEST(BuildMessage, PythonEmailPackageReadsIt) {
    OutboxMail mail = russian_mail();
    mail.body_html = "<p>Привет</p>";
    Result<std::string> message = build_message(mail, kFrom, 0, "example.org");
    ASSERT_TRUE(message.ok());
    const std::string dir = make_temp_dir();
    const std::string path = dir + "/m.eml";
    std::ofstream(path, std::ios::binary) << *message;
    const std::string script =
        "import sys; sys.path.insert(0, '" + std::string(LKK_SOURCE_DIR) +
        "/tests/tools')\n"
        "import mailbox\n"
        "to, subject, text = mailbox.parse_eml(sys.argv[1])\n"
        "m = mailbox.read_message(sys.argv[1])\n"
        "sys.stdout.buffer.write('\\x1f'.join([to, subject, text, mailbox.html_body(sys.argv[1]),"
        " str(m['From']), str(len(m.defects))]).encode('utf-8'))\n";
    const std::string out = run_capture({"/usr/bin/python3", "-c", script, path});
    std::vector<std::string> fields;
    std::string field;
    std::istringstream in(out);
    while (std::getline(in, field, '\x1f')) fields.push_back(field);
    ASSERT_EQ(fields.size(), 6u) << out;
    EXPECT_EQ(fields[0], "abonent@example.com");
    EXPECT_EQ(fields[1], kRussianSubject);
    EXPECT_EQ(fields[2], kRussianBody);
    EXPECT_EQ(fields[3], "<p>Привет</p>");
    EXPECT_EQ(fields[4], kFrom);
    EXPECT_EQ(fields[5], "0") << "the email package found defects";
    fs::remove_all(dir);
}

// An attachment (the bill's PDF) makes the message multipart/mixed: the text first, then the
// file in base64 exactly as its bytes are (NUL, a bare CR LF), which Python's email package reads
// back without defects.
TEST(BuildMessage, AttachmentsMakeMultipartMixedThatPythonReads) {
    OutboxMail mail = russian_mail();
    const std::string pdf = std::string("%PDF-1.5\n\0\x01\xff\r\n%%EOF", 19);
    mail.attachments.push_back(
        {"bill/1/2/2026-05", "bill-100200-2026-05.pdf", "application/pdf", pdf});
    Result<std::string> message = build_message(mail, kFrom, 0, "example.org");
    ASSERT_TRUE(message.ok()) << message.error().message();
    const std::string dir = make_temp_dir();
    const std::string path = dir + "/m.eml";
    std::ofstream(path, std::ios::binary) << *message;
    const std::string script =
        "import sys, email, email.policy\n"
        "m = email.message_from_binary_file(open(sys.argv[1], 'rb'), "
        "policy=email.policy.default)\n"
        "a = list(m.iter_attachments())\n"
        "sys.stdout.buffer.write('\\x1f'.join([m.get_content_type(), str(len(a)), "
        "a[0].get_content_type(), a[0].get_filename(), a[0].get_content().hex(), "
        "m.get_body(('plain',)).get_content().replace('\\r\\n', '\\n'), "
        "str(len(m.defects))]).encode('utf-8'))\n";
    const std::string out = run_capture({"/usr/bin/python3", "-c", script, path});
    std::vector<std::string> fields;
    std::string field;
    std::istringstream in(out);
    while (std::getline(in, field, '\x1f')) fields.push_back(field);
    ASSERT_EQ(fields.size(), 7u) << out;
    EXPECT_EQ(fields[0], "multipart/mixed");
    EXPECT_EQ(fields[1], "1");
    EXPECT_EQ(fields[2], "application/pdf");
    EXPECT_EQ(fields[3], "bill-100200-2026-05.pdf");
    std::string hex;
    for (unsigned char c : pdf) {
        static const char* digits = "0123456789abcdef";
        hex += digits[c >> 4];
        hex += digits[c & 15];
    }
    EXPECT_EQ(fields[4], hex);
    EXPECT_EQ(fields[5], kRussianBody);
    EXPECT_EQ(fields[6], "0") << "the email package found defects";
    fs::remove_all(dir);
}

TEST(BuildMessage, RefusesAnUnrenderedOrOddAttachment) {
    for (const MailAttachment& a : {
             MailAttachment{"bill/1/2/2026-05", "bill.pdf", "application/pdf", ""},
             MailAttachment{"bill/1/2/2026-05", "bill\".pdf", "application/pdf", "x"},
             MailAttachment{"bill/1/2/2026-05", "bill.pdf", "application/pdf\r\nX: y", "x"},
             MailAttachment{"bill/1/2/2026-05", "счёт.pdf", "application/pdf", "x"},
         }) {
        OutboxMail mail = russian_mail();
        mail.attachments.push_back(a);
        Result<std::string> message = build_message(mail, kFrom, 0, "example.org");
        ASSERT_FALSE(message.ok()) << a.file_name;
        EXPECT_EQ(message.error().code(), StatusCode::invalid_argument);
    }
}

// ---------------------------------------------------------------- open_mailer

TEST(OpenMailer, RefusesBadSettings) {
    for (const std::string url : {"ftp://host", "", "file:", "smtp://", "smtp://host:25?bogus=1",
                                  "smtp://host:25?starttls=maybe", "smtps://host:465?starttls=no",
                                  "smtp://host:25?insecure=perhaps", "mailto:x@y.z"}) {
        Result<std::unique_ptr<Mailer>> mailer = open_mailer(url, kFrom);
        ASSERT_FALSE(mailer.ok()) << "accepted: " << url;
        EXPECT_EQ(mailer.error().code(), StatusCode::invalid_argument) << url;
    }
    EXPECT_FALSE(open_mailer("smtp://127.0.0.1:25", "not an address").ok());
    for (const std::string url :
         {"smtp://127.0.0.1:25", "smtp://mail.example.org", "smtps://u:p@127.0.0.1:465",
          "smtp://u%40x:p%3As@[::1]:2525/helo.example.org?starttls=required&insecure=1",
          "smtp://127.0.0.1:25?starttls=no"}) {
        EXPECT_TRUE(open_mailer(url, kFrom).ok()) << url;
    }
}

// ---------------------------------------------------------------- file: transport

TEST(FileMailer, WritesOneEmlPerSendAtomically) {
    const std::string root = make_temp_dir();
    const std::string dir = root + "/nested/mail";  // created by open_mailer
    Result<std::unique_ptr<Mailer>> mailer = open_mailer("file:" + dir, kFrom);
    ASSERT_TRUE(mailer.ok()) << mailer.error().message();

    ASSERT_TRUE((*mailer)->send(russian_mail(7)).ok());
    std::vector<fs::path> files = files_with_extension(dir, ".eml");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(count_entries(dir), 1u) << "a temporary file was left behind";
    const std::string name = files[0].filename().string();
    // <utc-timestamp>-<outbox-id>-<random>.eml
    EXPECT_EQ(name.size(), std::string("20251125T142142Z-7-abcdef01.eml").size()) << name;
    EXPECT_EQ(name[8], 'T');
    EXPECT_NE(name.find("Z-7-"), std::string::npos) << name;
    const ParsedMessage parsed = split_message(read_file(files[0]));
    EXPECT_EQ(decode_rfc2047(header_value(parsed, "Subject")), kRussianSubject);
    EXPECT_EQ(crlf_to_lf(base64_decode(parsed.body)), kRussianBody);

    ASSERT_TRUE((*mailer)->send(russian_mail(7)).ok());  // the same mail again: a new file
    ASSERT_TRUE((*mailer)->send(russian_mail(8)).ok());
    EXPECT_EQ(files_with_extension(dir, ".eml").size(), 3u);
    EXPECT_EQ(count_entries(dir), 3u);

    OutboxMail bad = russian_mail(9);
    bad.recipient = "x@y.z\r\nBcc: a@b.c";
    Status st = (*mailer)->send(bad);
    EXPECT_EQ(st.code(), StatusCode::invalid_argument);
    EXPECT_EQ(count_entries(dir), 3u);
    fs::remove_all(root);
}

TEST(FileMailer, UnwritableDirectoryIsAnError) {
    const std::string root = make_temp_dir();
    const std::string file = root + "/a-file";
    std::ofstream(file) << "x";
    EXPECT_FALSE(open_mailer("file:" + file, kFrom).ok());
    fs::remove_all(root);
}

// ---------------------------------------------------------------- SMTP transport

TEST(SmtpMailer, DeliversRussianMailToARealListener) {
    const std::string dir = make_temp_dir();
    SmtpSink sink(dir, 0);
    ASSERT_TRUE(sink.ready()) << "smtp_sink.py did not start (python3-aiosmtpd installed?)";
    Result<std::unique_ptr<Mailer>> mailer =
        open_mailer("smtp://127.0.0.1:" + std::to_string(sink.port()), kFrom);
    ASSERT_TRUE(mailer.ok()) << mailer.error().message();

    Status st = (*mailer)->send(russian_mail());
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_TRUE(fs::exists(dir + "/1.eml"));
    EXPECT_FALSE(fs::exists(dir + "/2.eml"));
    EXPECT_EQ(read_file(dir + "/1.rcpt"), "abonent@example.com\n");
    EXPECT_EQ(read_file(dir + "/1.from"), "noreply@example.org\n");
    const ParsedMessage parsed = split_message(read_file(dir + "/1.eml"));
    EXPECT_EQ(header_value(parsed, "To"), "abonent@example.com");
    EXPECT_EQ(decode_rfc2047(header_value(parsed, "Subject")), kRussianSubject);
    EXPECT_EQ(crlf_to_lf(base64_decode(parsed.body)), kRussianBody);

    // The thread's handle is reused for the next mail.
    OutboxMail second = russian_mail(43);
    second.recipient = "second@example.com";
    ASSERT_TRUE((*mailer)->send(second).ok());
    ASSERT_TRUE(fs::exists(dir + "/2.eml"));
    EXPECT_EQ(read_file(dir + "/2.rcpt"), "second@example.com\n");

    // A Cyrillic mailbox (RFC 6531; rules::normalize_email accepts them) goes out with
    // SMTPUTF8 and arrives unchanged.
    OutboxMail cyrillic = russian_mail(44);
    cyrillic.recipient = "иван@example.com";
    Status cst = (*mailer)->send(cyrillic);
    ASSERT_TRUE(cst.ok()) << cst.message();
    EXPECT_EQ(read_file(dir + "/3.rcpt"), "иван@example.com\n");
    EXPECT_EQ(header_value(split_message(read_file(dir + "/3.eml")), "To"), "иван@example.com");
    fs::remove_all(dir);
}

TEST(SmtpMailer, AuthenticatesWithPercentDecodedCredentials) {
    const std::string dir = make_temp_dir();
    SmtpSink sink(dir, 0, {"--auth", "robot@example.org:p@ss:word"});
    ASSERT_TRUE(sink.ready());
    const std::string port = std::to_string(sink.port());
    Result<std::unique_ptr<Mailer>> good =
        open_mailer("smtp://robot%40example.org:p%40ss%3Aword@127.0.0.1:" + port, kFrom);
    ASSERT_TRUE(good.ok());
    Status st = (*good)->send(russian_mail());
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_TRUE(fs::exists(dir + "/1.eml"));

    Result<std::unique_ptr<Mailer>> wrong =
        open_mailer("smtp://robot%40example.org:wrong@127.0.0.1:" + port, kFrom);
    ASSERT_TRUE(wrong.ok());
    st = (*wrong)->send(russian_mail());
    EXPECT_EQ(st.code(), StatusCode::unavailable) << st.message();
    Result<std::unique_ptr<Mailer>> anonymous = open_mailer("smtp://127.0.0.1:" + port, kFrom);
    ASSERT_TRUE(anonymous.ok());
    EXPECT_FALSE((*anonymous)->send(russian_mail()).ok());
    EXPECT_FALSE(fs::exists(dir + "/2.eml"));
    fs::remove_all(dir);
}

class SmtpTls : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = make_temp_dir();
        cert_ = dir_ + "/cert.pem";
        key_ = dir_ + "/key.pem";
        run_capture({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key_, "-out", cert_,
                     "-days", "1", "-subj", "/CN=localhost", "-batch"});
        mail_dir_ = dir_ + "/mail";
        fs::create_directories(mail_dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string dir_, cert_, key_, mail_dir_;
};

TEST_F(SmtpTls, StartTlsRequiredAndImplicitTls) {
    ASSERT_TRUE(fs::exists(cert_)) << "openssl could not make a test certificate";
    {
        SmtpSink sink(mail_dir_, 0, {"--tls-cert", cert_, "--tls-key", key_});
        ASSERT_TRUE(sink.ready());
        const std::string base = "smtp://127.0.0.1:" + std::to_string(sink.port());
        // The self-signed certificate is refused unless the test says insecure=1.
        Result<std::unique_ptr<Mailer>> verified = open_mailer(base + "?starttls=required", kFrom);
        ASSERT_TRUE(verified.ok());
        EXPECT_EQ((*verified)->send(russian_mail(1)).code(), StatusCode::unavailable);
        Result<std::unique_ptr<Mailer>> mailer =
            open_mailer(base + "?starttls=required&insecure=1", kFrom);
        ASSERT_TRUE(mailer.ok());
        Status st = (*mailer)->send(russian_mail(2));
        ASSERT_TRUE(st.ok()) << st.message();
        EXPECT_TRUE(fs::exists(mail_dir_ + "/1.eml"));
        EXPECT_FALSE(fs::exists(mail_dir_ + "/2.eml"));
    }
    {
        SmtpSink sink(mail_dir_, 0, {"--tls-cert", cert_, "--tls-key", key_, "--implicit-tls"});
        ASSERT_TRUE(sink.ready());
        Result<std::unique_ptr<Mailer>> mailer =
            open_mailer("smtps://127.0.0.1:" + std::to_string(sink.port()) + "?insecure=1", kFrom);
        ASSERT_TRUE(mailer.ok());
        Status st = (*mailer)->send(russian_mail(3));
        ASSERT_TRUE(st.ok()) << st.message();
        EXPECT_TRUE(fs::exists(mail_dir_ + "/2.eml"));
    }
}

TEST_F(SmtpTls, StartTlsRequiredRefusesAServerWithoutTls) {
    SmtpSink sink(mail_dir_, 0);
    ASSERT_TRUE(sink.ready());
    Result<std::unique_ptr<Mailer>> mailer = open_mailer(
        "smtp://127.0.0.1:" + std::to_string(sink.port()) + "?starttls=required", kFrom);
    ASSERT_TRUE(mailer.ok());
    EXPECT_EQ((*mailer)->send(russian_mail()).code(), StatusCode::unavailable);
    EXPECT_TRUE(files_with_extension(mail_dir_, ".eml").empty());
}

// Worker threads send at once, each on its own libcurl handle.
TEST(SmtpMailer, SeveralThreadsSendAtOnce) {
    const std::string dir = make_temp_dir();
    SmtpSink sink(dir, 0);
    ASSERT_TRUE(sink.ready());
    Result<std::unique_ptr<Mailer>> mailer =
        open_mailer("smtp://127.0.0.1:" + std::to_string(sink.port()), kFrom);
    ASSERT_TRUE(mailer.ok());
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3; ++i) {
                OutboxMail mail = russian_mail(t * 10 + i);
                mail.recipient = "t" + std::to_string(t) + "m" + std::to_string(i) + "@example.com";
                if ((*mailer)->send(mail).ok()) ++ok;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), 12);
    std::set<std::string> recipients;
    for (const fs::path& eml : files_with_extension(dir, ".eml")) {
        fs::path rcpt = eml;
        recipients.insert(read_file(rcpt.replace_extension(".rcpt")));
    }
    EXPECT_EQ(recipients.size(), 12u);
    fs::remove_all(dir);
}

TEST(SmtpMailer, ServerDownIsUnavailable) {
    Result<std::unique_ptr<Mailer>> mailer =
        open_mailer("smtp://127.0.0.1:" + std::to_string(unused_port()), kFrom);
    ASSERT_TRUE(mailer.ok());
    const auto started = std::chrono::steady_clock::now();
    Status st = (*mailer)->send(russian_mail());
    EXPECT_EQ(st.code(), StatusCode::unavailable);
    EXPECT_FALSE(st.message().empty());
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(SmtpMailer, TemporaryRejectionIsUnavailable) {
    const std::string dir = make_temp_dir();
    SmtpSink sink(dir, 0, {"--fail-first", "1"});
    ASSERT_TRUE(sink.ready());
    Result<std::unique_ptr<Mailer>> mailer =
        open_mailer("smtp://127.0.0.1:" + std::to_string(sink.port()), kFrom);
    ASSERT_TRUE(mailer.ok());
    Status st = (*mailer)->send(russian_mail());
    EXPECT_EQ(st.code(), StatusCode::unavailable);
    EXPECT_NE(st.message().find("451"), std::string::npos) << st.message();
    EXPECT_TRUE((*mailer)->send(russian_mail()).ok());
    EXPECT_EQ(files_with_extension(dir, ".eml").size(), 1u);
    fs::remove_all(dir);
}

// ---------------------------------------------------------------- outbox delivery

TEST(OutboxBackoff, DoublesUpToTheCap) {
    DeliveryPolicy policy;  // 30 s doubling, capped at 3600 s
    EXPECT_EQ(outbox_backoff(policy, 0), 30);
    EXPECT_EQ(outbox_backoff(policy, 1), 60);
    EXPECT_EQ(outbox_backoff(policy, 2), 120);
    EXPECT_EQ(outbox_backoff(policy, 6), 1920);
    EXPECT_EQ(outbox_backoff(policy, 7), 3600);
    EXPECT_EQ(outbox_backoff(policy, 1000), 3600);  // no overflow
}

// A Mailer that records what it was asked to send, for checks without a network.
class RecordingMailer : public Mailer {
  public:
    Status send(const OutboxMail& mail) override {
        sent.push_back(mail.id);
        return result;
    }
    std::vector<int64_t> sent;
    Status result;
};

class OutboxDelivery : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = make_temp_dir();
        Result<std::unique_ptr<Storage>> storage = open_storage("sqlite:" + dir_ + "/lkk.db");
        ASSERT_TRUE(storage.ok()) << storage.error().message();
        storage_ = std::move(*storage);
    }
    void TearDown() override {
        storage_.reset();
        fs::remove_all(dir_);
    }
    int64_t enqueue(const std::string& recipient, int64_t now) {
        OutboxMail mail = russian_mail(0);
        mail.recipient = recipient;
        mail.created_at = now;
        mail.next_attempt_at = now;
        Result<int64_t> id = storage_->enqueue_mail(mail);
        EXPECT_TRUE(id.ok()) << id.error().message();
        return id.ok() ? *id : 0;
    }
    OutboxMail row(int64_t id) {
        Result<std::vector<OutboxMail>> all = storage_->list_outbox(1000);
        EXPECT_TRUE(all.ok());
        if (all.ok()) {
            for (const OutboxMail& m : *all) {
                if (m.id == id) return m;
            }
        }
        ADD_FAILURE() << "outbox row " << id << " missing";
        return {};
    }
    std::string dir_;
    std::unique_ptr<Storage> storage_;
};

TEST_F(OutboxDelivery, SmtpDownBacksOffThenSinkUpDeliversExactlyOnce) {
    const int port = unused_port();
    Result<std::unique_ptr<Mailer>> mailer =
        open_mailer("smtp://127.0.0.1:" + std::to_string(port), kFrom);
    ASSERT_TRUE(mailer.ok());
    DeliveryPolicy policy;
    const int64_t t0 = 1764080502;
    const int64_t id = enqueue("abonent@example.com", t0);

    // Down: the mail stays pending, attempts count up, each wait doubles.
    EXPECT_EQ(deliver_outbox(*storage_, **mailer, t0, policy), 0);
    OutboxMail m = row(id);
    EXPECT_EQ(m.state, MailState::pending);
    EXPECT_EQ(m.attempts, 1);
    EXPECT_EQ(m.next_attempt_at, t0 + 30);
    EXPECT_FALSE(m.last_error.empty());

    // Not due yet (and not leased away forever): nothing is tried.
    EXPECT_EQ(deliver_outbox(*storage_, **mailer, t0 + 10, policy), 0);
    EXPECT_EQ(row(id).attempts, 1);

    EXPECT_EQ(deliver_outbox(*storage_, **mailer, t0 + 30, policy), 0);
    m = row(id);
    EXPECT_EQ(m.state, MailState::pending);
    EXPECT_EQ(m.attempts, 2);
    EXPECT_EQ(m.next_attempt_at, t0 + 30 + 60);

    // Up on the same port: delivered once, and never again.
    const std::string mail_dir = dir_ + "/received";
    fs::create_directories(mail_dir);
    SmtpSink sink(mail_dir, port);
    ASSERT_TRUE(sink.ready());
    EXPECT_EQ(deliver_outbox(*storage_, **mailer, t0 + 90, policy), 1);
    m = row(id);
    EXPECT_EQ(m.state, MailState::sent);
    EXPECT_EQ(m.sent_at, t0 + 90);
    EXPECT_EQ(deliver_outbox(*storage_, **mailer, t0 + 10000, policy), 0);
    EXPECT_EQ(deliver_outbox(*storage_, **mailer, t0 + 100000, policy), 0);
    ASSERT_EQ(files_with_extension(mail_dir, ".eml").size(), 1u);
    const ParsedMessage parsed = split_message(read_file(mail_dir + "/1.eml"));
    EXPECT_EQ(header_value(parsed, "To"), "abonent@example.com");
    EXPECT_EQ(crlf_to_lf(base64_decode(parsed.body)), kRussianBody);
}

// A mail is given up only when it is no longer useful: its link has expired, or (without a
// link) it is max_age old. It is then marked failed without being sent.
TEST_F(OutboxDelivery, GivesUpOnlyWhenTheMailIsNoLongerUseful) {
    RecordingMailer mailer;
    mailer.result = Status::Unavailable("smtp: down");
    DeliveryPolicy policy;
    policy.max_age = 2 * 24 * 3600;
    const int64_t t0 = 1000;
    OutboxMail reset = russian_mail(0);
    reset.recipient = "reset@example.com";
    reset.created_at = reset.next_attempt_at = t0;
    reset.expires_at = t0 + 3600;  // a one-hour reset link
    const int64_t link = *storage_->enqueue_mail(reset);
    const int64_t plain = enqueue("plain@example.com", t0);
    // Fifty attempts in the first hour (rounds forced by making the mail due): still waiting.
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(storage_->retry_mail(link, t0 + i * 60).ok());
        EXPECT_EQ(deliver_outbox(*storage_, mailer, t0 + i * 60, policy), 0);
    }
    EXPECT_EQ(row(link).state, MailState::pending);
    EXPECT_EQ(row(link).attempts, 50);
    EXPECT_EQ(row(link).expires_at, t0 + 3600);  // a retry keeps the link's own expiry
    EXPECT_EQ(row(plain).state, MailState::pending);
    // The reset link has expired: the mail is given up without another attempt.
    mailer.sent.clear();
    EXPECT_EQ(deliver_outbox(*storage_, mailer, row(link).next_attempt_at, policy), 0);
    EXPECT_EQ(row(link).state, MailState::failed);
    EXPECT_NE(row(link).last_error.find("expired"), std::string::npos) << row(link).last_error;
    EXPECT_EQ(std::count(mailer.sent.begin(), mailer.sent.end(), link), 0);
    // The plain mail is kept for max_age...
    int64_t now = row(plain).next_attempt_at;
    while (now < t0 + policy.max_age) {
        deliver_outbox(*storage_, mailer, now, policy);
        ASSERT_EQ(row(plain).state, MailState::pending) << "given up at " << now - t0;
        now = row(plain).next_attempt_at;
    }
    // ...and then given up, unsent, even though the server answers again.
    mailer.result = Status::Ok();
    mailer.sent.clear();
    EXPECT_EQ(deliver_outbox(*storage_, mailer, now, policy), 0);
    EXPECT_EQ(row(plain).state, MailState::failed);
    EXPECT_TRUE(mailer.sent.empty());
    EXPECT_EQ(deliver_outbox(*storage_, mailer, now + 100000, policy), 0);
}

// SPEC 6: nothing is lost when the SMTP server is down, even for a weekend. A mail is retried
// until its link expires (or mail.max_age), whatever the number of attempts, and once the
// server answers again the other waiting mails go out in the next round instead of waiting
// out their back-off (up to an hour).
TEST_F(OutboxDelivery, MailWaitsThroughHoursOfOutageAndTheOthersFollowInTheNextRound) {
    const int port = unused_port();
    Result<std::unique_ptr<Mailer>> mailer =
        open_mailer("smtp://127.0.0.1:" + std::to_string(port), kFrom);
    ASSERT_TRUE(mailer.ok());
    DeliveryPolicy policy;  // back-off 30 s doubling to an hour; 7 days for mails without link
    ManualClock clock(1764080502);
    const int64_t t0 = clock.now();
    // A confirmation mail, valid as long as its 48-hour link...
    OutboxMail confirm = russian_mail(0);
    confirm.recipient = "first@example.com";
    confirm.created_at = confirm.next_attempt_at = t0;
    confirm.expires_at = t0 + 48 * 3600;
    Result<int64_t> first = storage_->enqueue_mail(confirm);
    ASSERT_TRUE(first.ok());
    // ...and two more mails written ten minutes later, on their own back-off schedule.
    const int64_t second = enqueue("second@example.com", t0 + 600);
    const int64_t third = enqueue("third@example.com", t0 + 600);

    // Three and a half hours of outage, a delivery round whenever a mail is due (the timer
    // looks every few seconds): every attempt fails.
    int rounds = 0;
    while (clock.now() < t0 + 3 * 3600 + 1800) {
        EXPECT_EQ(deliver_outbox(*storage_, **mailer, clock.now(), policy), 0);
        ++rounds;
        clock.set(std::min({row(*first).next_attempt_at, row(second).next_attempt_at,
                            row(third).next_attempt_at}));
    }
    EXPECT_GE(rounds, 15);
    OutboxMail waiting = row(*first);
    EXPECT_EQ(waiting.state, MailState::pending) << "given up after " << waiting.attempts;
    EXPECT_GE(waiting.attempts, 10);  // more than the old mail.max_attempts default
    EXPECT_EQ(row(second).state, MailState::pending);

    // The server is back. The first mail is delivered when its next attempt is due; the other
    // two are not due for ten more minutes...
    const std::string mail_dir = dir_ + "/received";
    fs::create_directories(mail_dir);
    SmtpSink sink(mail_dir, port);
    ASSERT_TRUE(sink.ready());
    clock.set(waiting.next_attempt_at);
    ASSERT_GT(row(second).next_attempt_at, clock.now() + 60);
    EXPECT_EQ(deliver_outbox(*storage_, **mailer, clock.now(), policy), 1);
    EXPECT_EQ(row(*first).state, MailState::sent);
    // ...but they go out in the very next round.
    clock.advance(5);
    EXPECT_EQ(deliver_outbox(*storage_, **mailer, clock.now(), policy), 2);
    EXPECT_EQ(row(second).state, MailState::sent);
    EXPECT_EQ(row(third).state, MailState::sent);
    EXPECT_EQ(files_with_extension(mail_dir, ".eml").size(), 3u);
}

TEST_F(OutboxDelivery, UnsendableMailFailsAtOnceOthersStillGo) {
    RecordingMailer mailer;
    const int64_t t0 = 1000;
    const int64_t good = enqueue("a@example.com", t0);
    const int64_t bad = enqueue("b@example.com", t0);
    // The bad one is refused as unsendable, the other accepted.
    class Picky : public Mailer {
      public:
        explicit Picky(int64_t bad_id) : bad_id_(bad_id) {}
        Status send(const OutboxMail& mail) override {
            return mail.id == bad_id_ ? Status::Invalid("recipient contains CR/LF") : Status::Ok();
        }

      private:
        int64_t bad_id_;
    } picky(bad);
    EXPECT_EQ(deliver_outbox(*storage_, picky, t0, DeliveryPolicy{}), 1);
    EXPECT_EQ(row(good).state, MailState::sent);
    EXPECT_EQ(row(bad).state, MailState::failed);
    EXPECT_EQ(row(bad).attempts, 1);
}

// A round never outlives its lease: with a lease shorter than one send's worst case, only the
// first claimed mail goes out; the others come back due when the lease ends, untouched.
TEST_F(OutboxDelivery, RoundStopsBeforeTheLeaseEnds) {
    RecordingMailer mailer;
    DeliveryPolicy policy;
    policy.lease = 10;
    const int64_t a = enqueue("a@example.com", 1000);
    const int64_t b = enqueue("b@example.com", 1000);
    EXPECT_EQ(deliver_outbox(*storage_, mailer, 1000, policy), 1);
    EXPECT_EQ(row(a).state, MailState::sent);
    EXPECT_EQ(row(b).state, MailState::pending);
    EXPECT_EQ(row(b).attempts, 0);
    EXPECT_EQ(deliver_outbox(*storage_, mailer, 1005, policy), 0);  // still leased
    EXPECT_EQ(deliver_outbox(*storage_, mailer, 1010, policy), 1);
    EXPECT_EQ(row(b).state, MailState::sent);
    EXPECT_EQ(mailer.sent, (std::vector<int64_t>{a, b}));
}

TEST_F(OutboxDelivery, BatchLimitsOneRound) {
    RecordingMailer mailer;
    DeliveryPolicy policy;
    policy.batch = 2;
    for (int i = 0; i < 5; ++i) enqueue("u" + std::to_string(i) + "@example.com", 1000);
    EXPECT_EQ(deliver_outbox(*storage_, mailer, 1000, policy), 2);
    EXPECT_EQ(deliver_outbox(*storage_, mailer, 1000, policy), 2);
    EXPECT_EQ(deliver_outbox(*storage_, mailer, 1000, policy), 1);
    EXPECT_EQ(deliver_outbox(*storage_, mailer, 1000, policy), 0);
    std::vector<int64_t> ids = mailer.sent;
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end()) << "a mail was sent twice";
    EXPECT_EQ(ids.size(), 5u);
}

// Attachments are rendered right before the send (the bill mail's PDF): the mailer gets the
// content; a source that can never be rendered (not_found: the account was unlinked) gives
// the mail up, a renderer that fails for now or is missing only puts the mail off.
TEST_F(OutboxDelivery, AttachmentsAreRenderedWhenTheMailIsSent) {
    const int64_t t0 = 1000;
    auto enqueue_with = [&](const std::string& recipient, const std::string& source) {
        OutboxMail mail = russian_mail(0);
        mail.recipient = recipient;
        mail.created_at = t0;
        mail.next_attempt_at = t0;
        mail.attachments.push_back({source, "bill.pdf", "application/pdf", ""});
        Result<int64_t> id = storage_->enqueue_mail(mail);
        EXPECT_TRUE(id.ok());
        return id.ok() ? *id : 0;
    };
    const int64_t good = enqueue_with("a@example.com", "bill/1/1/2026-05");
    const int64_t gone = enqueue_with("b@example.com", "bill/1/2/2026-05");
    const int64_t later = enqueue_with("c@example.com", "bill/1/3/2026-05");
    class Keeping : public Mailer {
      public:
        Status send(const OutboxMail& mail) override {
            for (const MailAttachment& a : mail.attachments) contents.push_back(a.content);
            return Status::Ok();
        }
        std::vector<std::string> contents;
    } mailer;
    const AttachmentRenderer render = [](const MailAttachment& a) -> Result<std::string> {
        if (a.source == "bill/1/2/2026-05") return Status::NotFound("no such account");
        if (a.source == "bill/1/3/2026-05") return Status::Unavailable("database down");
        return "%PDF-" + a.source;
    };
    EXPECT_EQ(deliver_outbox(*storage_, mailer, t0, DeliveryPolicy{}, render), 1);
    EXPECT_EQ(mailer.contents, std::vector<std::string>{"%PDF-bill/1/1/2026-05"});
    EXPECT_EQ(row(good).state, MailState::sent);
    EXPECT_EQ(row(gone).state, MailState::failed);
    EXPECT_EQ(row(later).state, MailState::pending);
    EXPECT_EQ(row(later).attempts, 1);
    // No renderer at all (a tool that cannot draw bills): the mail waits, it is not lost.
    EXPECT_EQ(deliver_outbox(*storage_, mailer, t0 + 100000, DeliveryPolicy{}), 0);
    EXPECT_EQ(row(later).state, MailState::pending);
    EXPECT_EQ(row(later).attempts, 2);
}

}  // namespace
}  // namespace lkk
