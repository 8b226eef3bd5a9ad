// The all-or-nothing import loop every CSV import runs (billing accounts, meters, money), private
// to core/src. A line parser runs on its own thread one step ahead of the storage writer (parsing
// costs about as much as storing), connected by a bounded queue so memory stays flat however long
// the file is. Written once as a template over the record type: a Record has `int64_t line`,
// `std::string error` and `bool ok() const`.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lkk/csv_import.h"
#include "lkk/storage.h"

namespace lkk::csv {

template <class Record>
class RecordPipe {
  public:
    static constexpr size_t kBatch = 512;
    static constexpr size_t kMaxBatches = 8;

    // Producer side; answers false when the consumer gave up (stop reading).
    bool put(std::vector<Record>&& batch, uint64_t bytes) {
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
    bool get(std::vector<Record>& batch, uint64_t& bytes) {
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
    std::deque<std::vector<Record>> queue_;
    uint64_t bytes_ = 0;
    bool closed_ = false;
    bool cancelled_ = false;
};

// Runs the reader on its own thread for the lifetime of this object; the destructor stops
// and joins it whatever way the import ends (error, rollback, exception).
// Reader: bool next(Record&), uint64_t bytes_read().
template <class Reader, class Record>
class ReaderThread {
  public:
    ReaderThread(Reader& reader, RecordPipe<Record>& pipe) : pipe_(pipe) {
        thread_ = std::thread([&reader, &pipe, this] {
            try {
                std::vector<Record> batch;
                batch.reserve(RecordPipe<Record>::kBatch);
                Record record;
                bool go_on = true;
                while (go_on && reader.next(record)) {
                    batch.push_back(std::move(record));
                    if (batch.size() == RecordPipe<Record>::kBatch) {
                        go_on = pipe.put(std::move(batch), reader.bytes_read());
                        batch = {};
                        batch.reserve(RecordPipe<Record>::kBatch);
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
    RecordPipe<Record>& pipe_;
    std::thread thread_;
    std::atomic<bool> failed_ = false;
};

// Office codes as support staff type them: matched exactly, then ignoring ASCII case ("sim"
// finds "SIM").
class OfficeCodes {
  public:
    Status load(Storage& storage) {
        auto offices = storage.list_offices();
        if (!offices.ok()) return offices.error();
        for (const auto& o : offices.value()) {
            exact_.emplace(o.code, o.code);
            upper_.emplace(ascii_upper(o.code), o.code);
        }
        return Status::Ok();
    }
    // The stored code, or nullptr when no office has it.
    const std::string* find(const std::string& code) const {
        if (auto it = exact_.find(code); it != exact_.end()) return &it->second;
        if (auto up = upper_.find(ascii_upper(code)); up != upper_.end()) return &up->second;
        return nullptr;
    }
    // Replaces code with the stored one; answers the line's error otherwise.
    std::string resolve(std::string& code) const {
        const std::string* found = find(code);
        if (found == nullptr) {
            return "office: " + code + " not found: add it with `lkk-admin offices add` first";
        }
        code = *found;
        return {};
    }

  private:
    std::unordered_map<std::string, std::string> exact_;
    std::unordered_map<std::string, std::string> upper_;
};

// What one import supplies to the loop.
template <class Record>
struct ImportSteps {
    // Checks what only the consumer side knows (office exists...); sets record.error.
    std::function<void(Record&)> resolve;
    // Stores a batch of good records inside the import's transaction.
    std::function<Status(std::vector<Record>&)> store;
    // Counts the stored rows, before and after, for inserted/updated.
    std::function<Result<int64_t>()> count;
};

// Reads every record of reader (already past its header) and stores the good ones in one
// transaction of storage, all or nothing (see csv_import.h).
template <class Reader, class Record>
Result<CsvImportReport> run_import(Storage& storage, Reader& reader, std::istream& in,
                                   const CsvImportOptions& options,
                                   const ImportSteps<Record>& steps,
                                   const std::function<void(const CsvImportProgress&)>& progress) {
    using Clock = std::chrono::steady_clock;
    const auto started = Clock::now();
    auto elapsed = [&started] {
        return std::chrono::duration<double>(Clock::now() - started).count();
    };
    CsvImportReport report;
    uint64_t bytes_read = 0;
    bool rolled_back_on_purpose = false;
    bool ran = false;
    Status tx = storage.in_transaction([&]() -> Status {
        // The input is read once: an import that the database aborted (a Galera certification
        // failure, a node lost) is not run again here; it changed nothing, and running the
        // same import again is safe (every row is an upsert).
        if (ran) {
            return Status::Unavailable(
                "the database aborted the import (a node failed or a concurrent change): "
                "nothing was imported, run it again");
        }
        ran = true;
        auto before = steps.count();
        if (!before.ok()) return before.error();
        int64_t good = 0;
        double last_progress = 0;
        RecordPipe<Record> pipe;
        ReaderThread<Reader, Record> reading(reader, pipe);
        std::vector<Record> batch;
        std::vector<Record> keep;
        keep.reserve(RecordPipe<Record>::kBatch);
        while (pipe.get(batch, bytes_read)) {
            keep.clear();
            for (Record& record : batch) {
                ++report.rows;
                if (record.ok() && steps.resolve) steps.resolve(record);
                if (!record.ok()) {
                    ++report.bad;
                    if (report.bad_lines.size() < options.max_reported_bad) {
                        report.bad_lines.push_back({record.line, record.error});
                    }
                } else if (report.bad == 0 || options.skip_bad) {
                    // After the first bad line (without skip_bad) nothing will be kept: only
                    // check the rest, so the person sees every bad line at once.
                    keep.push_back(std::move(record));
                }
            }
            if (!keep.empty()) {
                if (Status s = steps.store(keep); !s.ok()) {
                    return Status(s.code(), "lines " + std::to_string(batch.front().line) + "-" +
                                                std::to_string(batch.back().line) + ": " +
                                                s.message());
                }
                good += static_cast<int64_t>(keep.size());
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
        auto after = steps.count();
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

// The import of rows that belong to an existing billing account (meters, statements,
// payments): Record has `row` with office_code and account_number. A line naming an unknown
// office or account is bad (the billing import brings the accounts), not the end of the
// import; a backend failure while looking one up is reported once, after the loop. The reader
// must not have read its header yet. store gets each batch of good rows (inside the import's
// transaction), count the number of stored rows.
template <class Record, class Reader, class Row = decltype(Record::row)>
Result<CsvImportReport> run_account_import(
    Storage& storage, Reader& reader, std::istream& in, const CsvImportOptions& options,
    const std::function<Status(std::type_identity_t<std::vector<Row>>&)>& store,
    const std::function<Result<int64_t>()>& count,
    const std::function<void(const CsvImportProgress&)>& progress) {
    OfficeCodes offices;
    if (Status s = offices.load(storage); !s.ok()) return s;
    if (!options.office.empty() && offices.find(options.office) == nullptr) {
        return Status::NotFound("office " + options.office +
                                " not found: see `lkk-admin offices list`");
    }
    if (Status s = reader.read_header(); !s.ok()) return s;
    Status lookup_failure;
    ImportSteps<Record> steps;
    steps.resolve = [&](Record& r) {
        r.error = offices.resolve(r.row.office_code);
        if (!r.ok()) return;
        auto found = storage.find_billing_account(r.row.office_code, r.row.account_number);
        if (!found) {
            lookup_failure = found.error();
            r.error = "account: " + found.error().message();
        } else if (!found->has_value()) {
            r.error = "account: no billing account " + r.row.account_number + " in office " +
                      r.row.office_code + ": import it with `lkk-admin billing import` first";
        }
    };
    steps.store = [&store](std::vector<Record>& records) {
        std::vector<Row> rows;
        rows.reserve(records.size());
        for (auto& r : records) rows.push_back(std::move(r.row));
        return store(rows);
    };
    steps.count = count;
    auto report = run_import(storage, reader, in, options, steps, progress);
    if (!lookup_failure.ok()) return lookup_failure;
    return report;
}

}  // namespace lkk::csv
