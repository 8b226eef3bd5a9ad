// The web side of money (SPEC 10): the balance in the registry, the balance, 36-month history
// (table and inline SVG chart) and payments on the account page, and the JSON API. It shares
// the Portal's request plumbing and adds nothing to the Portal class but itself. Private to
// core/src.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app_internal.h"
#include "lkk/statements.h"

namespace lkk::web {

class MoneyPages {
  public:
    MoneyPages(Portal& portal, Storage& storage, Clock& clock);

    // Adds this file's routes to the Portal's tables.
    void add_routes(std::vector<Route>& html, std::vector<Route>& api);

    // The registry (GET /accounts): the balance of each row, in the rows' order; a row without
    // statements shows billing's own balance when the billing file gave one.
    Result<std::vector<TemplateData>> registry_balances(const std::vector<LinkedAccount>& links);

    // The account page (GET /accounts/{id}): sets "money" (the latest balance, the history and
    // its chart, the payments); with statements, the billing file's "balance" is no longer
    // shown. Fails like the page's other look-ups (not_found for another
    // cabinet's row).
    Status add_account_money(int64_t user_id, int64_t link_id, TemplateData& data);

  private:
    HttpResponse api_statements(Exchange& x);
    HttpResponse api_payments(Exchange& x);

    // "balance_text" and one of "due" / "overpaid" / "settled".
    TemplateData balance_data(Kopecks balance) const;

    Portal& portal_;
    Statements statements_;
};

}  // namespace lkk::web
