// Support work on the portal's data: the schema, offices, billing imports, the outbox and the
// figures of lkk-admin stats. Users and accounts are in support_users.cpp.
#include "lkk/support.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "lkk/bills.h"
#include "lkk/cabinet.h"
#include "lkk/mailer.h"
#include "lkk/readings.h"
#include "lkk/requisites.h"
#include "lkk/rules.h"
#include "lkk/statements.h"

namespace lkk {

namespace {

// Codes appear in CSV files and on command lines: keep them plain.
Status check_office_code(std::string_view code) {
    const bool plain =
        !code.empty() && code.size() <= 32 && std::all_of(code.begin(), code.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-';
        });
    if (!plain) {
        return Status::Invalid("office code '" + std::string(code) +
                               "': use 1 to 32 Latin letters, digits, '_' or '-' (e.g. SIM)");
    }
    return Status::Ok();
}

Status check_office_text(std::string_view what, const std::string& text) {
    if (text.empty() || !rules::is_clean_text(text)) {
        return Status::Invalid(std::string(what) + " must be non-empty text on one line");
    }
    return Status::Ok();
}

// The office e-mail is shown to people as typed; it only has to be an address.
Status check_office_email(const std::string& email) {
    if (email.empty()) return Status::Ok();
    auto r = rules::normalize_email(email);
    if (r) return Status::Ok();
    return Status::Invalid(
        "'" + email + "' is not an e-mail address: " + std::string(rules::message(r.error()).en));
}

// Stores a count, or answers why there is none.
template <class T>
Status take(Result<T> r, T& into) {
    if (!r) return r.error();
    into = std::move(*r);
    return Status::Ok();
}

// The requisites as they would be stored; the error names the field.
Status check_requisites(const PaymentRequisites& r) {
    if (auto problem = requisites::check(r)) return Status::Invalid(problem->message);
    return Status::Ok();
}

Status check_office(const Office& o) {
    for (Status s : {check_office_code(o.code), check_office_text("the name", o.name),
                     check_office_text("the phones", o.phones), check_office_email(o.email),
                     check_requisites(o.requisites)}) {
        if (!s.ok()) return s;
    }
    return Status::Ok();
}

// Requisites as support staff paste them: blanks around a value are not part of it.
PaymentRequisites trimmed(PaymentRequisites r) {
    for (std::string* f :
         {&r.payee, &r.inn, &r.kpp, &r.bank, &r.bic, &r.account, &r.corr_account}) {
        *f = csv::trim(*f);
    }
    return r;
}

// The requisites after an update: the given fields replace the stored ones.
PaymentRequisites changed_requisites(PaymentRequisites r, const OfficeChange& c) {
    for (auto [from, to] :
         {std::pair{&c.payee, &r.payee}, std::pair{&c.inn, &r.inn}, std::pair{&c.kpp, &r.kpp},
          std::pair{&c.bank, &r.bank}, std::pair{&c.bic, &r.bic}, std::pair{&c.account, &r.account},
          std::pair{&c.corr_account, &r.corr_account}}) {
        if (*from) *to = **from;
    }
    return trimmed(std::move(r));
}

}  // namespace

Support::Support(const Settings& settings, Storage& storage, SessionStore& sessions,
                 CounterStore& counters, Clock& clock, Actor actor)
    : settings_(settings),
      storage_(storage),
      sessions_(sessions),
      counters_(counters),
      clock_(clock),
      actor_(std::move(actor)),
      cabinet_(std::make_unique<Cabinet>(settings, storage, sessions, counters, clock)),
      readings_(std::make_unique<Readings>(settings, storage, clock)),
      statements_(std::make_unique<Statements>(storage, clock)),
      bills_(std::make_unique<Bills>(settings, storage, clock)) {}

Support::~Support() = default;

Status Support::audit(std::optional<int64_t> user_id, std::string event, std::string detail) {
    Status s =
        record_audit(storage_, clock_.now(), actor_, user_id, std::move(event), std::move(detail));
    if (!s.ok()) return Status(s.code(), "writing the audit log failed: " + s.message());
    return s;
}

Result<Office> Support::office_of(std::string_view code) {
    auto office = storage_.find_office(std::string(code));
    if (!office) return office.error();
    if (!*office) return Status::NotFound("office " + std::string(code) + " not found");
    return std::move(**office);
}

// ---- schema ----

Result<SchemaReport> Support::migrate() {
    SchemaReport r;
    auto before = storage_.schema_version();
    if (!before) return before.error();
    r.before = *before;
    if (Status s = storage_.migrate(); !s.ok()) {
        return Status(s.code(), "migration failed: " + s.message());
    }
    auto after = storage_.schema_version();
    if (!after) return after.error();
    r.after = *after;
    r.expected = storage_.expected_schema_version();
    if (r.after != r.before) {
        Status s = audit(std::nullopt, "admin_migrate",
                         "schema " + std::to_string(r.before) + " -> " + std::to_string(r.after));
        if (!s.ok()) return s;
    }
    return r;
}

// ---- offices ----

Result<std::vector<Office>> Support::offices() {
    return storage_.list_offices();
}

Status Support::add_office(const Office& given) {
    Office office = given;
    office.requisites = trimmed(std::move(office.requisites));
    if (Status s = check_office(office); !s.ok()) return s;
    return storage_.in_transaction([&]() -> Status {
        Status ins = storage_.insert_office(office);
        if (ins.code() == StatusCode::conflict) {
            return Status::Conflict("office " + office.code + " already exists");
        }
        if (!ins.ok()) return ins;
        return audit(std::nullopt, "admin_offices_add", "office " + office.code);
    });
}

Result<Office> Support::update_office(std::string_view code, const OfficeChange& change) {
    if (change.name) {
        if (Status s = check_office_text("the name", *change.name); !s.ok()) return s;
    }
    if (change.phones) {
        if (Status s = check_office_text("the phones", *change.phones); !s.ok()) return s;
    }
    if (change.email) {
        if (Status s = check_office_email(*change.email); !s.ok()) return s;
    }
    Office o;
    Status st = storage_.in_transaction([&]() -> Status {
        auto found = office_of(code);
        if (!found) return found.error();
        o = std::move(*found);
        if (change.name) o.name = *change.name;
        if (change.phones) o.phones = *change.phones;
        if (change.email) o.email = *change.email;
        o.requisites = changed_requisites(std::move(o.requisites), change);
        if (Status s = check_requisites(o.requisites); !s.ok()) return s;
        if (Status s = storage_.update_office(o); !s.ok()) return s;
        const PaymentRequisites& r = o.requisites;
        const bool requisites = change.payee || change.inn || change.kpp || change.bank ||
                                change.bic || change.account || change.corr_account;
        return audit(std::nullopt, "admin_offices_update",
                     "office " + o.code +
                         (requisites ? " requisites: INN " + r.inn + " BIC " + r.bic + " account " +
                                           r.account
                                     : ""));
    });
    if (!st.ok()) return st;
    return o;
}

Status Support::remove_office(std::string_view code, bool force) {
    const std::string c(code);
    return storage_.in_transaction([&]() -> Status {
        Status r = storage_.remove_office(c, force);
        if (r.code() == StatusCode::not_found)
            return Status::NotFound("office " + c + " not found");
        if (r.code() == StatusCode::conflict) {
            return Status::Conflict("office " + c + " not removed: " + r.message());
        }
        if (!r.ok()) return r;
        return audit(std::nullopt, "admin_offices_remove",
                     "office " + c + (force ? " (forced)" : ""));
    });
}

// ---- billing ----

Result<BillingImportReport> Support::import_billing(
    std::istream& in, const BillingImportOptions& options, std::string_view source,
    const std::function<void(const BillingImportProgress&)>& progress) {
    return audited_import("admin_billing_import", source, options.dry_run,
                          import_billing_csv(storage_, in, options, progress));
}

Result<CsvImportReport> Support::audited_import(std::string event, std::string_view source,
                                                bool dry_run, Result<CsvImportReport> result) {
    if (!result) return result.error();
    const CsvImportReport& r = *result;
    const std::string summary = "file " + std::string(source) + ": " + std::to_string(r.rows) +
                                " rows, " + std::to_string(r.inserted) + " inserted, " +
                                std::to_string(r.updated) + " updated, " + std::to_string(r.bad) +
                                " bad" +
                                (r.committed ? ""
                                 : dry_run   ? " (dry run)"
                                             : " (not imported)");
    if (Status s = audit(std::nullopt, std::move(event), summary); !s.ok()) return s;
    return result;
}

// ---- outbox ----

Result<std::vector<OutboxEntry>> Support::outbox(int limit, std::optional<MailState> state) {
    auto mails = state ? storage_.list_outbox_in_state(*state, limit) : storage_.list_outbox(limit);
    if (!mails) return mails.error();
    const int64_t now = clock_.now();
    std::vector<OutboxEntry> out;
    out.reserve(mails->size());
    for (auto& m : *mails) {
        OutboxEntry e;
        e.age = std::max<int64_t>(0, now - m.created_at);
        if (m.state == MailState::pending) {
            e.next_attempt_in = std::max<int64_t>(0, m.next_attempt_at - now);
        }
        e.mail = std::move(m);
        out.push_back(std::move(e));
    }
    return out;
}

Status Support::retry_mail(int64_t id) {
    Status s = storage_.retry_mail(id, clock_.now());
    if (s.code() == StatusCode::not_found) {
        return Status::NotFound("no mail " + std::to_string(id) + " in the outbox");
    }
    if (s.code() == StatusCode::conflict) {
        return Status::Conflict("mail " + std::to_string(id) +
                                " was already sent; it is not sent twice");
    }
    if (!s.ok()) return s;
    return audit(std::nullopt, "admin_outbox_retry", "mail " + std::to_string(id));
}

Result<FlushReport> Support::flush_outbox() {
    auto mailer = open_mailer(settings_.mail.url, settings_.mail.from);
    if (!mailer) {
        return Status(mailer.error().code(), "cannot open mail: " + mailer.error().message());
    }
    const DeliveryPolicy policy = delivery_policy(settings_);
    FlushReport r;
    for (int round = 0; round < 10000; ++round) {
        const int n = deliver_outbox(
            storage_, **mailer, clock_.now(), policy, [this](const MailAttachment& a) {
                return bills_->render_attachment(a, parse_locale(settings_.portal.locale));
            });
        r.sent += n;
        if (n == 0) break;
    }
    auto counts = storage_.count_outbox();
    if (!counts) return counts.error();
    r.after = *counts;
    if (Status s = audit(std::nullopt, "admin_outbox_flush", std::to_string(r.sent) + " sent");
        !s.ok()) {
        return s;
    }
    return r;
}

// ---- stats ----

Result<PortalStats> Support::stats() {
    PortalStats s;
    for (Status st :
         {take(storage_.count_users(), s.users), take(storage_.count_links(), s.links),
          take(storage_.count_billing_accounts(), s.billing_accounts),
          take(storage_.count_offices(), s.offices), take(storage_.count_outbox(), s.outbox)}) {
        if (!st.ok()) return st;
    }
    return s;
}

}  // namespace lkk
