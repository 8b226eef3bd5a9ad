// The file: transport, for trying the portal out without a mail server: each mail becomes
// one .eml file that any mail client opens.
#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <system_error>

#include "lkk/mailer.h"

namespace lkk {

namespace {

std::string random_suffix() {
    static constexpr char kHex[] = "0123456789abcdef";
    unsigned char raw[4] = {};
    if (RAND_bytes(raw, sizeof raw) != 1) {
        return std::to_string(std::clock());
    }
    std::string out;
    for (unsigned char c : raw) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

// "20261125T142142Z": sorts by time in a directory listing.
std::string utc_stamp(int64_t now) {
    const std::time_t t = static_cast<std::time_t>(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

Status errno_status(const std::string& what, const std::filesystem::path& path) {
    return Status::Unavailable("mail file: " + what + " " + path.string() + ": " +
                               std::strerror(errno));
}

// Writes the whole buffer and fsyncs it, so a mail that send() reported as written survives
// a crash; the caller renames it into place afterwards.
Status write_file(const std::filesystem::path& path, const std::string& data) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return errno_status("cannot create", path);
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            Status st = errno_status("cannot write", path);
            ::close(fd);
            ::unlink(path.c_str());
            return st;
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        Status st = errno_status("cannot flush", path);
        ::unlink(path.c_str());
        return st;
    }
    return Status::Ok();
}

class FileMailer final : public Mailer {
  public:
    FileMailer(std::filesystem::path dir, std::string from, std::string domain)
        : dir_(std::move(dir)), from_(std::move(from)), domain_(std::move(domain)) {}

    // Written under a dot-name first and renamed, so a reader of the directory never sees a
    // half-written .eml.
    Status send(const OutboxMail& mail) override {
        const int64_t now = static_cast<int64_t>(std::time(nullptr));
        Result<std::string> message = build_message(mail, from_, now, domain_);
        if (!message) return message.error();
        const std::string name =
            utc_stamp(now) + "-" + std::to_string(mail.id) + "-" + random_suffix() + ".eml";
        const std::filesystem::path tmp = dir_ / ("." + name + ".tmp");
        const std::filesystem::path final_path = dir_ / name;
        if (Status st = write_file(tmp, *message); !st.ok()) return st;
        if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
            Status st = errno_status("cannot rename into", final_path);
            ::unlink(tmp.c_str());
            return st;
        }
        return Status::Ok();
    }

  private:
    std::filesystem::path dir_;
    std::string from_;
    std::string domain_;
};

}  // namespace

Result<std::unique_ptr<Mailer>> open_file_mailer(const std::string& dir, const std::string& from) {
    if (dir.empty())
        return Status::Invalid("mail url file: needs a directory, e.g. file:/var/lib/lkk/mail");
    Result<MailAddress> sender = parse_mail_address(from);
    if (!sender) return Status::Invalid("mail from: " + sender.error().message());
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::Unavailable("mail directory " + dir + ": " + ec.message());
    if (!std::filesystem::is_directory(dir, ec)) {
        return Status::Invalid("mail directory " + dir + " is not a directory");
    }
    std::string domain = sender->address.substr(sender->address.rfind('@') + 1);
    return std::unique_ptr<Mailer>(std::make_unique<FileMailer>(dir, from, std::move(domain)));
}

}  // namespace lkk
