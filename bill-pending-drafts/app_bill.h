// The web side of the monthly bill (SPEC 10): the printable page, the PDF and the JSON, over
// the Bills service. It shares the Portal's request plumbing and adds nothing to the Portal
// class but itself. Private to core/src.
#pragma once

#include <vector>

#include "app_internal.h"
#include "lkk/bill.h"

namespace lkk::web {

class BillPages {
  public:
    BillPages(Portal& portal, const Settings& settings, Storage& storage);

    // Adds this file's routes to the Portal's tables.
    void add_routes(std::vector<Route>& html, std::vector<Route>& api);

    // The address of a month's bill page of a registry row, for links to it.
    std::string page_path(int64_t link_id, const std::string& period) const;

  private:
    HttpResponse get_page(Exchange& x);
    HttpResponse get_pdf(Exchange& x);
    HttpResponse api_bill(Exchange& x);

    Portal& portal_;
    Bills bills_;
};

}  // namespace lkk::web
