// The Bills service (SPEC 10, and the bill_by_email mail of SPEC 11): a month of a registry row
// gathered from the stores (the office and its requisites, the statement, the meters'
// readings) into bill::BillFacts, which lkk/bill.h words, encodes and prints. It knows nothing
// of HTTP; every operation is thread-safe and blocking (database): call it from the thread
// pool or lkk-admin. Nothing throws.
#pragma once

#include <cstdint>
#include <string>

#include "lkk/bill.h"
#include "lkk/clock.h"
#include "lkk/locale.h"
#include "lkk/settings.h"
#include "lkk/statements.h"
#include "lkk/status.h"
#include "lkk/storage.h"

namespace lkk {

class Bills {
  public:
    // All references must outlive the service.
    Bills(const Settings& settings, Storage& storage, Clock& clock);

    // The bill of a month ("YYYY-MM") of a registry row of this cabinet. not_found for
    // another cabinet's row (or an unlinked one), a malformed month, a month without a
    // statement, and an office whose payment requisites are not set.
    Result<bill::BillFacts> facts(int64_t user_id, int64_t link_id, const std::string& period);

    // The same bill as a PDF (bill::render_pdf) in the portal's language.
    Result<std::string> pdf(int64_t user_id, int64_t link_id, const std::string& period,
                            Locale locale);

  private:
    Result<bill::BillFacts> facts_of(const AccountMonth& month);

    const Settings& settings_;
    Storage& storage_;
    Statements statements_;
};

}  // namespace lkk
