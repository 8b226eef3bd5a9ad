// The web side of the monthly bill (SPEC 10): the printable page, the PDF and the JSON, over
// the Bills service. It shares the Portal's request plumbing and adds nothing to the Portal
// class but itself. Private to core/src.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app_internal.h"
#include "lkk/bills.h"
#include "lkk/mailer.h"

namespace lkk::web {

class BillPages {
  public:
    BillPages(Portal& portal, const Settings& settings, Storage& storage, Clock& clock);

    // Adds this file's routes to the Portal's tables.
    void add_routes(std::vector<Route>& html, std::vector<Route>& api);

    // The outbox's renderer of bill attachments (the bill mail's PDF), in the portal's locale.
    AttachmentRenderer attachment_renderer();

  private:
    struct MonthSheet {
        bill::BillFacts facts;
        bill::BillSheet sheet;
    };
    Result<MonthSheet, HttpResponse> month_sheet(Exchange& x);
    HttpResponse get_page(Exchange& x);
    HttpResponse get_pdf(Exchange& x);
    HttpResponse api_bill(Exchange& x);

    Portal& portal_;
    Bills bills_;
};

// The address of a month's bill page of a registry row ("/lkk/accounts/7/bill/2026-05"), for
// the links to it; base is the portal's base path without a trailing slash.
std::string bill_path(const std::string& base, int64_t link_id, const std::string& period);

}  // namespace lkk::web
