// Choosing the mail transport from the [mail] url setting.
#include <curl/curl.h>

#include <mutex>
#include <string>

#include "lkk/mailer.h"

namespace lkk {

void mail_global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<std::unique_ptr<Mailer>> open_mailer(const std::string& url, const std::string& from) {
    if (url.rfind("file:", 0) == 0) return open_file_mailer(url.substr(5), from);
    if (url.rfind("smtp://", 0) == 0 || url.rfind("smtps://", 0) == 0) {
        return open_smtp_mailer(url, from);
    }
    return Status::Invalid("mail url must start with file:, smtp:// or smtps://");
}

}  // namespace lkk
