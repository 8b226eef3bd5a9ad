// Time to render one PDF bill (issue 10): a typical month of one account (requisites, the
// month's figures, two meters) worded into a sheet and printed by Cairo + Pango, QR code
// included. Each repetition renders one bill; 1,000 repetitions give the median.
//
//   build/bench/bench/lkk_bill_bench                     (median, mean, stddev of 1,000)
//   build/bench/bench/lkk_bill_bench --benchmark_repetitions=100   (a quicker run)
//
// The counter `pdf_bytes` is the size of the bill.
#include <benchmark/benchmark.h>

#include "lkk/bill.h"

namespace {

lkk::bill::BillFacts typical_month() {
    lkk::bill::BillFacts f;
    f.office_name = "Симферопольское управление по эксплуатации газового хозяйства";
    f.office_phones = "+7 3652 00-00-00, +7 3652 00-00-01";
    f.payee.payee = "АО «Газпром газораспределение Крым»";
    f.payee.inn = "7707083893";
    f.payee.kpp = "773601001";
    f.payee.bank = "ПАО Сбербанк";
    f.payee.bic = "044525225";
    f.payee.account = "40702810138250123017";
    f.payee.corr_account = "30101810400000000225";
    f.account_number = "1002003004";
    f.surname = "Иванов";
    f.address = "г. Симферополь, ул. Ленина, д. 1, кв. 23";
    f.period = "2026-05";
    f.opening_balance = 100000;
    f.accrued = 123456;
    f.paid = 100000;
    f.closing_balance = 123456;
    f.consumption = 170000;
    f.tariff = 726;
    f.readings = {{"K-1", "Кухня", 1000000, 1120000, 120000},
                  {"B-2", "Котёл", 99950000, 50000, 100000}};
    return f;
}

void BM_RenderPdfBill(benchmark::State& state) {
    const lkk::bill::BillFacts facts = typical_month();
    size_t bytes = 0;
    for (auto _ : state) {
        auto sheet = lkk::bill::make_sheet(facts, lkk::Locale::ru);
        auto pdf = lkk::bill::render_pdf(sheet.value());
        if (!pdf.ok()) {
            state.SkipWithError(pdf.error().message().c_str());
            return;
        }
        bytes = pdf->size();
        benchmark::DoNotOptimize(pdf->data());
    }
    state.counters["pdf_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderPdfBill)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->Repetitions(1000)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
