// The SMTP transport over libcurl: smtp:// (STARTTLS when offered, or required), smtps://
// (implicit TLS), optional AUTH. One easy handle per thread, reused, so a thread-pool thread
// keeps its connection to the relay between mails.
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

#include "lkk/mailer.h"

namespace lkk {

namespace {

struct SmtpConfig {
    std::string url;  // scheme://host[:port][/path], no credentials, no query
    std::string user;
    std::string password;
    bool auth = false;
    long use_ssl = CURLUSESSL_TRY;
    bool insecure = false;
};

// The thread's easy handle, created on first use and cleaned up when the thread ends.
struct ThreadCurl {
    CURL* handle = nullptr;
    ThreadCurl() = default;
    ThreadCurl(const ThreadCurl&) = delete;
    ThreadCurl& operator=(const ThreadCurl&) = delete;
    ~ThreadCurl() {
        if (handle != nullptr) curl_easy_cleanup(handle);
    }
};

CURL* thread_curl() {
    thread_local ThreadCurl tc;
    if (tc.handle == nullptr) tc.handle = curl_easy_init();
    return tc.handle;
}

struct Upload {
    std::string_view data;
    size_t pos = 0;
};

size_t read_upload(char* buffer, size_t size, size_t nitems, void* userp) {
    auto* up = static_cast<Upload*>(userp);
    const size_t n = std::min(size * nitems, up->data.size() - up->pos);
    std::memcpy(buffer, up->data.data() + up->pos, n);
    up->pos += n;
    return n;
}

// Owns one string that libcurl allocated.
struct CurlString {
    char* p = nullptr;
    CurlString() = default;
    CurlString(const CurlString&) = delete;
    CurlString& operator=(const CurlString&) = delete;
    ~CurlString() { curl_free(p); }
    std::string str() const { return p != nullptr ? std::string(p) : std::string(); }
};

struct CurlUrl {
    CURLU* u = curl_url();
    CurlUrl() = default;
    CurlUrl(const CurlUrl&) = delete;
    CurlUrl& operator=(const CurlUrl&) = delete;
    ~CurlUrl() { curl_url_cleanup(u); }
    // Answers whether the part is present; absent parts leave out empty.
    bool get(CURLUPart part, std::string& out, unsigned int flags = 0) const {
        CurlString s;
        if (curl_url_get(u, part, &s.p, flags) != CURLUE_OK) return false;
        out = s.str();
        return true;
    }
};

bool option_true(std::string_view v) {
    return v == "1" || v == "true" || v == "yes";
}
bool option_false(std::string_view v) {
    return v == "0" || v == "false" || v == "no";
}

Status apply_option(std::string_view key, std::string_view value, bool smtps, SmtpConfig& cfg) {
    if (key == "starttls") {
        if (value == "required") {
            cfg.use_ssl = CURLUSESSL_ALL;
        } else if (value == "try" || value == "opportunistic") {
            if (!smtps) cfg.use_ssl = CURLUSESSL_TRY;
        } else if (value == "no" && !smtps) {
            cfg.use_ssl = CURLUSESSL_NONE;
        } else {
            return Status::Invalid("mail url: starttls must be required, try or no (smtp:// only)");
        }
        return Status::Ok();
    }
    if (key == "insecure") {
        if (option_true(value)) {
            cfg.insecure = true;
        } else if (option_false(value)) {
            cfg.insecure = false;
        } else {
            return Status::Invalid("mail url: insecure must be 1 or 0");
        }
        return Status::Ok();
    }
    return Status::Invalid("mail url: unknown option '" + std::string(key) + "'");
}

Result<SmtpConfig> parse_smtp_url(const std::string& url) {
    CurlUrl parsed;
    if (parsed.u == nullptr) return Status::Internal("out of memory");
    if (curl_url_set(parsed.u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        return Status::Invalid("mail url is not a valid smtp:// or smtps:// URL");
    }
    SmtpConfig cfg;
    std::string scheme, host, port, path, query;
    parsed.get(CURLUPART_SCHEME, scheme);
    if (scheme != "smtp" && scheme != "smtps") {
        return Status::Invalid("mail url: scheme must be smtp, smtps or file");
    }
    const bool smtps = scheme == "smtps";
    cfg.use_ssl = smtps ? CURLUSESSL_ALL : CURLUSESSL_TRY;
    if (!parsed.get(CURLUPART_HOST, host) || host.empty()) {
        return Status::Invalid("mail url: no host");
    }
    cfg.url = scheme + "://" + host;
    if (parsed.get(CURLUPART_PORT, port)) cfg.url += ":" + port;
    // libcurl takes the path as the domain to greet the server with (EHLO).
    if (parsed.get(CURLUPART_PATH, path) && path != "/") cfg.url += path;
    cfg.auth = parsed.get(CURLUPART_USER, cfg.user, CURLU_URLDECODE);
    parsed.get(CURLUPART_PASSWORD, cfg.password, CURLU_URLDECODE);
    if (parsed.get(CURLUPART_QUERY, query)) {
        std::string_view rest = query;
        while (!rest.empty()) {
            const size_t amp = rest.find('&');
            const std::string_view item = rest.substr(0, amp);
            rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
            if (item.empty()) continue;
            const size_t eq = item.find('=');
            const std::string_view key = item.substr(0, eq);
            const std::string_view value =
                eq == std::string_view::npos ? std::string_view("1") : item.substr(eq + 1);
            if (Status st = apply_option(key, value, smtps, cfg); !st.ok()) return st;
        }
    }
    return cfg;
}

// Curl lists must be freed even on early return.
struct SList {
    curl_slist* list = nullptr;
    SList() = default;
    SList(const SList&) = delete;
    SList& operator=(const SList&) = delete;
    ~SList() { curl_slist_free_all(list); }
};

class SmtpMailer final : public Mailer {
  public:
    SmtpMailer(SmtpConfig cfg, std::string from, MailAddress sender)
        : cfg_(std::move(cfg)),
          from_(std::move(from)),
          sender_(std::move(sender)),
          domain_(sender_.address.substr(sender_.address.rfind('@') + 1)) {}

    Status send(const OutboxMail& mail) override {
        const int64_t now = static_cast<int64_t>(std::time(nullptr));
        Result<std::string> message = build_message(mail, from_, now, domain_);
        if (!message) return message.error();
        CURL* curl = thread_curl();
        if (curl == nullptr) return Status::Internal("smtp: curl_easy_init failed");
        // Reset drops the previous mail's options but keeps the thread's open connection.
        curl_easy_reset(curl);

        Upload upload{*message, 0};
        SList rcpt;
        rcpt.list = curl_slist_append(nullptr, ("<" + mail.recipient + ">").c_str());
        if (rcpt.list == nullptr) return Status::Internal("smtp: out of memory");
        const std::string mail_from = "<" + sender_.address + ">";
        char error[CURL_ERROR_SIZE] = {};

        curl_easy_setopt(curl, CURLOPT_URL, cfg_.url.c_str());
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(curl, CURLOPT_USE_SSL, cfg_.use_ssl);
        if (cfg_.insecure) {
            curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (cfg_.auth) {
            curl_easy_setopt(curl, CURLOPT_USERNAME, cfg_.user.c_str());
            curl_easy_setopt(curl, CURLOPT_PASSWORD, cfg_.password.c_str());
        }
        curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
        curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt.list);
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
        curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message->size()));

        const CURLcode rc = curl_easy_perform(curl);
        long reply = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
        // The handle outlives this call: never leave it pointing at our stack.
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
        curl_easy_setopt(curl, CURLOPT_READDATA, nullptr);
        curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, nullptr);
        if (rc == CURLE_OK) return Status::Ok();

        std::string what = "smtp: ";
        what += curl_easy_strerror(rc);
        if (error[0] != '\0') what += std::string(": ") + error;
        if (reply != 0) what += " (server reply " + std::to_string(reply) + ")";
        // Every transport failure may pass (server down, greylisting, a full mailbox, wrong
        // credentials fixed by the admin): retry with back-off; deliver_outbox gives up after
        // the policy's last attempt.
        return Status::Unavailable(what);
    }

  private:
    SmtpConfig cfg_;
    std::string from_;
    MailAddress sender_;
    std::string domain_;
};

}  // namespace

Result<std::unique_ptr<Mailer>> open_smtp_mailer(const std::string& url, const std::string& from) {
    mail_global_init();
    Result<MailAddress> sender = parse_mail_address(from);
    if (!sender) return Status::Invalid("mail from: " + sender.error().message());
    Result<SmtpConfig> cfg = parse_smtp_url(url);
    if (!cfg) return cfg.error();
    return std::unique_ptr<Mailer>(
        std::make_unique<SmtpMailer>(std::move(*cfg), from, std::move(*sender)));
}

}  // namespace lkk
