// Billing import: the streaming CSV reader and the all-or-nothing importer.
// See lkk/billing_import.h for the file format.
#include "lkk/billing_import.h"

#include <unicode/ucnv.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "lkk/rules.h"

namespace lkk {

namespace {

constexpr std::array<std::string_view, 7> kKnownColumns = {
    "office", "account", "surname", "last_payment", "last_payment_date", "address", "balance"};

std::string ascii_lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

std::string ascii_upper(std::string s) {
    for (char& c : s) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return s;
}

// Billing exports pad fields with spaces; only ASCII blanks are cut so that the surname's
// own characters are never touched.
std::string trim(std::string_view s) {
    size_t b = 0;
    size_t e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
    return std::string(s.substr(b, e - b));
}

bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    const auto length = static_cast<int32_t>(s.size());
    int32_t i = 0;
    while (i < length) {
        UChar32 c = 0;
        U8_NEXT(p, i, length, c);
        if (c < 0) return false;
    }
    return true;
}

// The value a person typed, quoted in an error so they find it in the file; long values are
// left out rather than cut inside a UTF-8 sequence.
std::string quoted(const std::string& value) {
    if (value.size() > 60) return "";
    return " ('" + value + "')";
}

std::string rule_error(std::string_view column, rules::RuleError error, const std::string& value) {
    return std::string(column) + ": " + std::string(rules::message(error).en) + quoted(value);
}

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
    int v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return v;
}

bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Parsing a line (UTF-8 checks, ICU normalisation of the surname) costs about as much as
// storing it, so the reader runs on its own thread one step ahead of the storage writer.
// The queue is bounded, so memory stays flat however long the file is.
class RecordPipe {
  public:
    static constexpr size_t kBatch = 512;
    static constexpr size_t kMaxBatches = 8;

    // Producer side; answers false when the consumer gave up (stop reading).
    bool put(std::vector<BillingRecord>&& batch, uint64_t bytes) {
        std::unique_lock lock(mu_);
        room_.wait(lock, [this] { return queue_.size() < kMaxBatches || cancelled_; });
        if (cancelled_) return false;
        queue_.push_back(std::move(batch));
        bytes_ = bytes;
        ready_.notify_one();
        return true;
    }
    void close() {
        std::lock_guard lock(mu_);
        closed_ = true;
        ready_.notify_all();
    }
    // Consumer side; answers false when the producer is done and the queue is empty.
    bool get(std::vector<BillingRecord>& batch, uint64_t& bytes) {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [this] { return !queue_.empty() || closed_; });
        if (queue_.empty()) return false;
        batch = std::move(queue_.front());
        queue_.pop_front();
        bytes = bytes_;
        room_.notify_one();
        return true;
    }
    void cancel() {
        std::lock_guard lock(mu_);
        cancelled_ = true;
        room_.notify_all();
    }

  private:
    std::mutex mu_;
    std::condition_variable room_;
    std::condition_variable ready_;
    std::deque<std::vector<BillingRecord>> queue_;
    uint64_t bytes_ = 0;
    bool closed_ = false;
    bool cancelled_ = false;
};

// Runs the reader on its own thread for the lifetime of this object; the destructor stops
// and joins it whatever way the import ends (error, rollback, exception).
class ReaderThread {
  public:
    ReaderThread(BillingCsvReader& reader, RecordPipe& pipe) : pipe_(pipe) {
        thread_ = std::thread([&reader, &pipe, this] {
            try {
                std::vector<BillingRecord> batch;
                batch.reserve(RecordPipe::kBatch);
                BillingRecord record;
                bool go_on = true;
                while (go_on && reader.next(record)) {
                    batch.push_back(std::move(record));
                    if (batch.size() == RecordPipe::kBatch) {
                        go_on = pipe.put(std::move(batch), reader.bytes_read());
                        batch = {};
                        batch.reserve(RecordPipe::kBatch);
                    }
                }
                if (go_on && !batch.empty()) pipe.put(std::move(batch), reader.bytes_read());
            } catch (...) {
                failed_ = true;  // out of memory: the import must not commit half a file
            }
            pipe.close();
        });
    }
    ~ReaderThread() {
        pipe_.cancel();
        if (thread_.joinable()) thread_.join();
    }
    ReaderThread(const ReaderThread&) = delete;
    ReaderThread& operator=(const ReaderThread&) = delete;
    bool failed() const { return failed_; }

  private:
    RecordPipe& pipe_;
    std::thread thread_;
    std::atomic<bool> failed_ = false;
};

}  // namespace

Result<TextEncoding> parse_text_encoding(const std::string& name) {
    const std::string n = ascii_lower(name);
    if (n == "utf-8" || n == "utf8") return TextEncoding::utf8;
    if (n == "cp1251" || n == "windows-1251" || n == "cp-1251") return TextEncoding::cp1251;
    return Status::Invalid("unknown encoding '" + name + "': use utf-8 or cp1251");
}

Result<std::vector<std::string>> split_csv_line(const std::string& line, char delimiter) {
    std::vector<std::string> fields;
    std::string field;
    size_t i = 0;
    const size_t n = line.size();
    while (true) {
        field.clear();
        // Blanks before an opening quote are allowed (" \"a;b\"" is the field a;b).
        size_t j = i;
        while (j < n && (line[j] == ' ' || line[j] == '\t')) ++j;
        if (j < n && line[j] == '"') {
            i = j + 1;
            bool closed = false;
            while (i < n) {
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        field.push_back('"');
                        i += 2;
                        continue;
                    }
                    closed = true;
                    ++i;
                    break;
                }
                field.push_back(line[i++]);
            }
            if (!closed) return Status::Invalid("a quote is opened and never closed");
            while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
            if (i < n && line[i] != delimiter) {
                return Status::Invalid(
                    "text after a closing quote (write a quote inside a "
                    "quoted field as \"\")");
            }
        } else {
            while (i < n && line[i] != delimiter) field.push_back(line[i++]);
        }
        fields.push_back(field);
        if (i >= n) break;
        ++i;  // the delimiter
    }
    return fields;
}

Result<int64_t> parse_signed_kopecks(const std::string& text) {
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    auto magnitude = rules::parse_amount_kopecks(s);
    if (!magnitude.ok()) return Status::Invalid(std::string(rules::message(magnitude.error()).en));
    return negative ? -magnitude.value() : magnitude.value();
}

Result<std::string> parse_billing_date(const std::string& text) {
    std::string_view s = text;
    int y = 0;
    int m = 0;
    int d = 0;
    if (s.size() == 10 && s[4] == '-' && s[7] == '-' && all_digits(s.substr(0, 4)) &&
        all_digits(s.substr(5, 2)) && all_digits(s.substr(8, 2))) {
        y = to_int(s.substr(0, 4));
        m = to_int(s.substr(5, 2));
        d = to_int(s.substr(8, 2));
    } else if (s.size() == 10 && s[2] == '.' && s[5] == '.' && all_digits(s.substr(0, 2)) &&
               all_digits(s.substr(3, 2)) && all_digits(s.substr(6, 4))) {
        d = to_int(s.substr(0, 2));
        m = to_int(s.substr(3, 2));
        y = to_int(s.substr(6, 4));
    } else {
        return Status::Invalid("not a date: write YYYY-MM-DD or DD.MM.YYYY");
    }
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12) return Status::Invalid("no such date");
    const int days = kDays[static_cast<size_t>(m - 1)] + (m == 2 && is_leap(y) ? 1 : 0);
    if (d < 1 || d > days) return Status::Invalid("no such date");
    std::string out(10, '0');
    auto put = [&out](size_t at, int value, int width) {
        for (int k = width - 1; k >= 0; --k) {
            out[at + static_cast<size_t>(k)] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
    };
    put(0, y, 4);
    out[4] = '-';
    put(5, m, 2);
    out[7] = '-';
    put(8, d, 2);
    return out;
}

// cp1251 bytes to UTF-8 through one ICU converter kept for the whole file.
struct BillingCsvReader::Converter {
    UConverter* cnv = nullptr;
    ~Converter() {
        if (cnv != nullptr) ucnv_close(cnv);
    }
    std::string to_utf8(const std::string& bytes) {
        UErrorCode err = U_ZERO_ERROR;
        icu::UnicodeString u(bytes.data(), static_cast<int32_t>(bytes.size()), cnv, err);
        std::string out;
        if (U_FAILURE(err)) return out;
        u.toUTF8String(out);
        return out;
    }
};

BillingCsvReader::BillingCsvReader(std::istream& in, TextEncoding encoding,
                                   std::string default_office)
    : in_(in), encoding_(encoding), default_office_(trim(default_office)) {
    if (encoding_ == TextEncoding::cp1251) {
        converter_ = std::make_unique<Converter>();
        UErrorCode err = U_ZERO_ERROR;
        converter_->cnv = ucnv_open("windows-1251", &err);
        if (U_FAILURE(err)) converter_->cnv = nullptr;
    }
}

BillingCsvReader::~BillingCsvReader() = default;

// One physical line, converted to UTF-8, without its line ending.
bool BillingCsvReader::read_line(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++line_number_;
    bytes_read_ += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number_ == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) {
        line.erase(0, 3);
    }
    if (converter_ != nullptr && converter_->cnv != nullptr) line = converter_->to_utf8(line);
    return true;
}

Status BillingCsvReader::read_header() {
    std::string line;
    if (!read_line(line)) {
        return Status::Invalid("line 1: the file is empty; the first line must name the columns");
    }
    if (!is_valid_utf8(line)) {
        return Status::Invalid(
            "line 1: not valid UTF-8; if the file comes from Windows, add --encoding cp1251");
    }
    // The delimiter is whichever of ';' and ',' separates more column names.
    const auto semicolons = std::count(line.begin(), line.end(), ';');
    const auto commas = std::count(line.begin(), line.end(), ',');
    if (semicolons == 0 && commas == 0) {
        return Status::Invalid(
            "line 1: no ';' or ',' between column names; expected a header "
            "like office;account;surname;last_payment;last_payment_date");
    }
    delimiter_ = semicolons >= commas ? ';' : ',';
    auto names = split_csv_line(line, delimiter_);
    if (!names.ok()) return Status::Invalid("line 1: " + names.error().message());
    columns_.clear();
    column_count_ = names->size();
    for (size_t i = 0; i < names->size(); ++i) {
        const std::string name = ascii_lower(trim((*names)[i]));
        // Spreadsheets often end every line with one more delimiter: an unnamed column is
        // carried along and ignored.
        if (name.empty()) continue;
        if (std::find(kKnownColumns.begin(), kKnownColumns.end(), name) == kKnownColumns.end()) {
            return Status::Invalid("line 1: unknown column '" + (*names)[i] +
                                   "'; the columns are office, account, surname, last_payment, "
                                   "last_payment_date, address, balance");
        }
        if (!columns_.emplace(name, i).second) {
            return Status::Invalid("line 1: column '" + name + "' appears twice");
        }
    }
    for (std::string_view required : {"account", "surname", "last_payment", "last_payment_date"}) {
        if (columns_.count(std::string(required)) == 0) {
            return Status::Invalid("line 1: column '" + std::string(required) + "' is missing");
        }
    }
    if (columns_.count("office") == 0 && default_office_.empty()) {
        return Status::Invalid(
            "line 1: column 'office' is missing; add it, or give the office with --office CODE");
    }
    return Status::Ok();
}

bool BillingCsvReader::next(BillingRecord& record) {
    std::string line;
    while (read_line(line)) {
        if (trim(line).empty()) continue;  // blank lines (a trailing one is common)
        record = BillingRecord{};
        record.line = line_number_;
        record.error = parse_record(line, record);
        return true;
    }
    return false;
}

// Checks one data line; answers the reason it is bad, or "" with record.account filled.
std::string BillingCsvReader::parse_record(const std::string& line, BillingRecord& record) {
    if (!is_valid_utf8(line)) {
        return "not valid UTF-8; if the file comes from Windows, add --encoding cp1251";
    }
    auto fields = split_csv_line(line, delimiter_);
    if (!fields.ok()) return fields.error().message();
    if (fields->size() != column_count_) {
        return "expected " + std::to_string(column_count_) + " fields as in the header, found " +
               std::to_string(fields->size()) + " (is a field with a '" +
               std::string(1, delimiter_) + "' missing its quotes?)";
    }
    auto field = [&](const char* name) -> std::string {
        auto it = columns_.find(name);
        return it == columns_.end() ? std::string() : trim((*fields)[it->second]);
    };
    for (const auto& [name, index] : columns_) {
        if (!rules::is_clean_text((*fields)[index])) {
            return name + ": " + std::string(rules::message(rules::RuleError::text_invalid).en);
        }
    }
    BillingAccount& a = record.account;

    a.office_code = field("office");
    if (a.office_code.empty()) {
        if (default_office_.empty()) return "office: empty; give the office code";
        a.office_code = default_office_;
    } else if (!default_office_.empty() && a.office_code != default_office_) {
        return "office: '" + a.office_code + "' differs from --office " + default_office_;
    }

    const std::string account = field("account");
    auto number = rules::normalize_account_number(account);
    if (!number.ok()) return rule_error("account", number.error(), account);
    a.account_number = number.value();

    a.surname = field("surname");
    auto key = rules::normalize_surname(a.surname);
    if (!key.ok()) return rule_error("surname", key.error(), a.surname);
    a.surname_key = key.value();

    const std::string payment = field("last_payment");
    if (payment.empty()) {
        a.last_payment = 0;
    } else {
        auto kopecks = rules::parse_amount_kopecks(payment);
        if (!kopecks.ok()) return rule_error("last_payment", kopecks.error(), payment);
        a.last_payment = kopecks.value();
    }

    const std::string date = field("last_payment_date");
    if (date.empty()) {
        if (a.last_payment != 0) {
            return "last_payment_date: empty while last_payment is " +
                   rules::format_kopecks(a.last_payment, '.', "") +
                   "; give the payment date, or 0 as the amount when nothing was ever paid";
        }
    } else {
        auto parsed = parse_billing_date(date);
        if (!parsed.ok()) return "last_payment_date: " + parsed.error().message() + quoted(date);
        a.last_payment_date = parsed.value();
    }

    a.address = field("address");
    const std::string balance = field("balance");
    if (!balance.empty()) {
        auto kopecks = parse_signed_kopecks(balance);
        if (!kopecks.ok()) return "balance: " + kopecks.error().message() + quoted(balance);
        a.balance = kopecks.value();
    }
    return "";
}

Result<BillingImportReport> import_billing_csv(
    Storage& storage, std::istream& in, const BillingImportOptions& options,
    const std::function<void(const BillingImportProgress&)>& progress) {
    using Clock = std::chrono::steady_clock;
    const auto started = Clock::now();
    auto elapsed = [&started] {
        return std::chrono::duration<double>(Clock::now() - started).count();
    };

    // Office codes are matched exactly, then ignoring ASCII case ("sim" finds "SIM").
    auto offices = storage.list_offices();
    if (!offices.ok()) return offices.error();
    std::unordered_map<std::string, std::string> office_by_code;
    std::unordered_map<std::string, std::string> office_by_upper;
    for (const auto& o : offices.value()) {
        office_by_code.emplace(o.code, o.code);
        office_by_upper.emplace(ascii_upper(o.code), o.code);
    }
    if (!options.office.empty() && office_by_code.count(options.office) == 0 &&
        office_by_upper.count(ascii_upper(options.office)) == 0) {
        return Status::NotFound("office " + options.office +
                                " not found: see `lkk-admin offices list`");
    }

    BillingCsvReader reader(in, options.encoding, options.office);
    if (Status s = reader.read_header(); !s.ok()) return s;

    BillingImportReport report;
    uint64_t bytes_read = 0;
    bool rolled_back_on_purpose = false;
    Status tx = storage.in_transaction([&]() -> Status {
        auto before = storage.count_billing_accounts();
        if (!before.ok()) return before.error();
        int64_t good = 0;
        double last_progress = 0;
        RecordPipe pipe;
        ReaderThread reading(reader, pipe);
        std::vector<BillingRecord> batch;
        std::vector<BillingAccount> accounts;
        accounts.reserve(RecordPipe::kBatch);
        while (pipe.get(batch, bytes_read)) {
            accounts.clear();
            for (BillingRecord& record : batch) {
                ++report.rows;
                if (record.ok()) {
                    const std::string* code = nullptr;
                    if (auto it = office_by_code.find(record.account.office_code);
                        it != office_by_code.end()) {
                        code = &it->second;
                    } else if (auto up =
                                   office_by_upper.find(ascii_upper(record.account.office_code));
                               up != office_by_upper.end()) {
                        code = &up->second;
                    }
                    if (code == nullptr) {
                        record.error = "office: " + record.account.office_code +
                                       " not found: add it with `lkk-admin offices add` first";
                    } else {
                        record.account.office_code = *code;
                    }
                }
                if (!record.ok()) {
                    ++report.bad;
                    if (report.bad_lines.size() < options.max_reported_bad) {
                        report.bad_lines.push_back(record);
                    }
                } else if (report.bad == 0 || options.skip_bad) {
                    // After the first bad line (without skip_bad) nothing will be kept: only
                    // check the rest, so the person sees every bad line at once.
                    accounts.push_back(std::move(record.account));
                }
            }
            if (!accounts.empty()) {
                if (Status s = storage.upsert_billing_accounts(accounts); !s.ok()) {
                    return Status(s.code(), "lines " + std::to_string(batch.front().line) + "-" +
                                                std::to_string(batch.back().line) + ": " +
                                                s.message());
                }
                good += static_cast<int64_t>(accounts.size());
            }
            if (progress) {
                const double now = elapsed();
                if (now - last_progress >= 0.2) {
                    last_progress = now;
                    progress({report.rows, bytes_read, now});
                }
            }
        }
        if (reading.failed()) return Status::Internal("reading the file failed: out of memory");
        if (in.bad()) return Status::Unavailable("reading the file failed");
        auto after = storage.count_billing_accounts();
        if (!after.ok()) return after.error();
        if (report.bad == 0 || options.skip_bad) {
            report.inserted = after.value() - before.value();
            report.updated = good - report.inserted;
        }
        if (options.dry_run || (report.bad > 0 && !options.skip_bad)) {
            rolled_back_on_purpose = true;
            return Status::Conflict("rolled back");
        }
        return Status::Ok();
    });
    if (progress) progress({report.rows, reader.bytes_read(), elapsed()});  // reader is done
    report.seconds = elapsed();
    if (!tx.ok() && !rolled_back_on_purpose) return tx;
    report.committed = tx.ok();
    if (!report.committed && !options.dry_run) {
        report.inserted = 0;
        report.updated = 0;
    }
    return report;
}

}  // namespace lkk
