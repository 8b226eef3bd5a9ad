// The monthly bill (SPEC 10): the ГОСТ Р 56042-2014 payment QR payload, the QR code itself
// (libqrencode) drawn as vectors, and the bill as a PDF (Cairo + Pango). The pieces here are
// pure: they take what to print and answer bytes. Every function is thread-safe and never
// throws; PDF rendering is CPU work, so the web layer calls it from the thread pool like any
// other request.
//
// Amounts are kopecks in int64; a period is the month "YYYY-MM".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/locale.h"
#include "lkk/money.h"
#include "lkk/requisites.h"
#include "lkk/status.h"

namespace lkk::bill {

// ---- the payment QR payload (ГОСТ Р 56042-2014) ----

// The payee is the office's PaymentRequisites (lkk/requisites.h): Name, PayeeINN, KPP,
// BankName, BIC, PersonalAcc and CorrespAcc come from it.
struct PaymentOrder {
    PaymentRequisites payee;
    std::string pers_acc;  // PersAcc: the subscriber's account number at the utility
    Kopecks due = 0;       // Sum in kopecks; nothing is due (no Sum) when <= 0
    std::string purpose;   // Purpose
};

// "ST00012|Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|PayeeINN=…|KPP=…|PersAcc=…|
// Sum=…|Purpose=…" in UTF-8 (the "2" of ST00012). The five requisites the standard makes
// mandatory must be there (a bank without a correspondent account writes CorrespAcc=0);
// empty optional ones (KPP) are left out, and so is Sum when nothing is due. A value with '|' (the
// separator), a control character, invalid UTF-8 or more characters than the standard allows is
// refused (invalid_argument naming the field): a bank app would read a different payment than the
// one printed.
Result<std::string> payment_payload(const PaymentOrder& order);

// The Purpose of a month's bill: "Оплата за газ за 05.2026, л/с 1234567".
std::string payment_purpose(std::string_view period, std::string_view account_number);

// ---- the QR code ----

// A QR symbol as a square of modules, row by row (true: dark), without the quiet zone.
struct QrCode {
    int size = 0;
    std::vector<bool> modules;
    bool dark(int x, int y) const { return modules[static_cast<size_t>(y * size + x)]; }
};

// The payload's UTF-8 bytes in 8-bit mode, error correction level M, the smallest version
// that holds them (libqrencode). invalid_argument when it does not fit in version 40.
Result<QrCode> encode_qr(std::string_view payload);

// Quiet zone around the symbol, in modules (the standard asks for 4).
inline constexpr int kQrQuietZone = 4;

// A horizontal run of dark modules, in module units with the quiet zone included: what both
// the SVG path and the PDF draw, so the two codes are the same picture.
struct QrRun {
    int x = 0;
    int y = 0;
    int length = 0;
};
std::vector<QrRun> qr_runs(const QrCode& code);

// The code as one inline SVG element with a single path: no script, no style attribute
// (the portal's Content-Security-Policy holds), a title for screen readers. It scales to
// its box; shape-rendering keeps the modules crisp.
std::string qr_svg(const QrCode& code, std::string_view title);

// ---- the printed bill ----

// What a bill shows, already worded and formatted for people (the service decides the
// language and formats amounts and readings); the HTML page and the PDF print the same sheet.
struct SheetRow {
    std::string label;
    std::string value;
    bool strong = false;  // the amount to pay
};

struct SheetSection {
    std::string heading;
    std::vector<SheetRow> rows;
};

struct SheetTable {
    std::string heading;
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    std::string empty_text;  // printed instead of the table when there are no rows
};

struct BillSheet {
    std::string title;     // "Счёт за май 2026 г."
    std::string subtitle;  // the office and its phones
    std::vector<SheetSection> sections;
    SheetTable readings;
    std::string qr_payload;  // payment_payload(); the QR code is drawn from it
    std::string qr_caption;
    std::string footer;
    std::string pdf_title;  // the PDF's document title (metadata)
};

// ---- the month's bill from its facts ----

// One meter's line on the bill: its readings of the month (thousandths of m³).
struct BillReading {
    std::string serial;
    std::string name;
    std::optional<int64_t> previous;  // the newest reading before the month
    std::optional<int64_t> current;   // the month's reading
    std::optional<int64_t> consumption;
};

// Everything a month's bill states, as stored: the office and its requisites, the account,
// the month's statement and the meters' readings.
struct BillFacts {
    std::string office_name;
    std::string office_phones;
    PaymentRequisites payee;
    std::string account_number;
    std::string surname;
    std::string address;
    std::string period;           // "YYYY-MM"
    Kopecks opening_balance = 0;  // positive: a debt, negative: overpaid
    Kopecks accrued = 0;
    Kopecks paid = 0;
    Kopecks closing_balance = 0;         // what is due when positive (money::amount_due)
    std::optional<int64_t> consumption;  // thousandths of m³, when billing gives it
    std::optional<Kopecks> tariff;       // kopecks per m³, when billing gives it
    std::vector<BillReading> readings;
    int decimals = 0;  // readings.decimals: how readings are printed
};

// The payment the bill's QR code asks for.
PaymentOrder payment_order(const BillFacts& facts);

// The sheet in the portal's language; fails like payment_payload() when a requisite cannot
// go into the QR code.
Result<BillSheet> make_sheet(const BillFacts& facts, Locale locale);

// "bill-<account>-<YYYY-MM>.pdf", with anything but letters, digits, '-' and '_' of the
// account replaced, for Content-Disposition and the mail's attachment.
std::string pdf_file_name(std::string_view account_number, std::string_view period);

// The sheet as an A4 PDF: DejaVu Sans embedded (subset) so Cyrillic reads and copies
// everywhere, the QR code as filled rectangles. unavailable when the font is not installed
// (fonts-dejavu-core), internal when Cairo fails.
Result<std::string> render_pdf(const BillSheet& sheet);

// Where the bill's font comes from: only this directory is given to fontconfig, so the PDF
// looks the same on every host whatever other fonts are installed.
inline constexpr const char* kFontDirectory = "/usr/share/fonts/truetype/dejavu";

}  // namespace lkk::bill
