// A month's facts worded for people: the sheet that the bill page and the PDF both print,
// and the payment its QR code asks for. Amounts go through the portal's one kopecks
// formatter, readings through the readings' one; nothing here computes money.
#include "lkk/bill.h"
#include "lkk/money.h"
#include "lkk/readings.h"
#include "lkk/rules.h"

namespace lkk::bill {

namespace {

constexpr const char* kMonthsRu[] = {"январь",   "февраль", "март",   "апрель",
                                     "май",      "июнь",    "июль",   "август",
                                     "сентябрь", "октябрь", "ноябрь", "декабрь"};
constexpr const char* kMonthsEn[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};

// "май 2026 г." / "May 2026".
std::string month_words(std::string_view period, Locale l) {
    if (period.size() != 7) return std::string(period);
    const int m = (period[5] - '0') * 10 + (period[6] - '0');
    if (m < 1 || m > 12) return std::string(period);
    const std::string year(period.substr(0, 4));
    return l == Locale::en ? std::string(kMonthsEn[m - 1]) + " " + year
                           : std::string(kMonthsRu[m - 1]) + " " + year + " г.";
}

// A balance in words: a debt, an overpayment, or nothing.
std::string balance_words(Kopecks kopecks, Locale l) {
    if (kopecks > 0) return (l == Locale::en ? "owed " : "долг ") + money::format(kopecks);
    if (kopecks < 0)
        return (l == Locale::en ? "overpaid " : "переплата ") + money::format(-kopecks);
    return money::format(0);
}

std::string m3(int64_t milli, int decimals, Locale l) {
    return readings::format_value(milli, decimals, l == Locale::en ? '.' : ',');
}

}  // namespace

PaymentOrder payment_order(const BillFacts& f) {
    PaymentOrder o;
    o.payee = f.payee;
    o.pers_acc = f.account_number;
    o.due = money::amount_due(f.closing_balance);
    o.purpose = payment_purpose(f.period, f.account_number);
    return o;
}

std::string pdf_file_name(std::string_view account_number, std::string_view period) {
    std::string safe;
    for (char c : account_number) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                        (c >= 'a' && c <= 'z') || c == '-' || c == '_';
        safe += ok ? c : '_';
    }
    return "bill-" + safe + "-" + std::string(period) + ".pdf";
}

Result<BillSheet> make_sheet(const BillFacts& f, Locale l) {
    auto payload = payment_payload(payment_order(f));
    if (!payload) return payload.error();
    const bool en = l == Locale::en;
    const std::string month = month_words(f.period, l);
    const Kopecks due = money::amount_due(f.closing_balance);

    BillSheet s;
    s.qr_payload = std::move(payload.value());
    s.title = (en ? "Bill for " : "Счёт за ") + month;
    s.subtitle = f.office_name;
    if (!f.office_phones.empty()) s.subtitle += (en ? ", tel. " : ", тел. ") + f.office_phones;

    SheetSection payer{en ? "Payer" : "Плательщик", {}};
    payer.rows.push_back({en ? "Account" : "Лицевой счёт", f.account_number});
    if (!f.surname.empty()) payer.rows.push_back({en ? "Subscriber" : "Абонент", f.surname});
    if (!f.address.empty()) payer.rows.push_back({en ? "Address" : "Адрес", f.address});

    SheetSection payee{en ? "Payee" : "Получатель платежа", {}};
    payee.rows.push_back({en ? "Payee" : "Получатель", f.payee.payee});
    payee.rows.push_back({en ? "INN / KPP" : "ИНН / КПП",
                          f.payee.kpp.empty() ? f.payee.inn : f.payee.inn + " / " + f.payee.kpp});
    payee.rows.push_back({en ? "Bank" : "Банк", f.payee.bank});
    payee.rows.push_back({en ? "BIC" : "БИК", f.payee.bic});
    payee.rows.push_back({en ? "Account" : "Расчётный счёт", f.payee.account});
    payee.rows.push_back({en ? "Correspondent account" : "Корр. счёт", f.payee.corr_account});

    SheetSection figures{(en ? "Charges for " : "Начисления за ") + month, {}};
    figures.rows.push_back({en ? "At the start of the month" : "На начало месяца",
                            balance_words(f.opening_balance, l)});
    if (f.consumption) {
        figures.rows.push_back({en ? "Gas used" : "Расход газа",
                                m3(*f.consumption, f.decimals, l) + (en ? " m³" : " м³")});
    }
    if (f.tariff) {
        figures.rows.push_back(
            {en ? "Tariff" : "Тариф", money::format(*f.tariff) + (en ? " per m³" : " за м³")});
    }
    figures.rows.push_back(
        {en ? "Charged for the month" : "Начислено за месяц", money::format(f.accrued)});
    figures.rows.push_back({en ? "Paid in the month" : "Оплачено в месяце", money::format(f.paid)});
    if (f.closing_balance < 0) {
        figures.rows.push_back({en ? "Overpaid" : "Переплата", money::format(-f.closing_balance)});
    }
    figures.rows.push_back({en ? "To pay" : "К оплате", money::format(due), true});
    s.sections = {std::move(payer), std::move(payee), std::move(figures)};

    s.readings.heading = en ? "Meter readings" : "Показания счётчиков";
    s.readings.columns = {en ? "Meter" : "Счётчик", en ? "Previous" : "Предыдущее",
                          en ? "This month" : "Текущее", en ? "Used, m³" : "Расход, м³"};
    s.readings.empty_text = en ? "No readings for this month." : "Показаний за этот месяц нет.";
    for (const BillReading& r : f.readings) {
        const std::string dash = "—";
        s.readings.rows.push_back({r.name.empty() ? r.serial : r.serial + " (" + r.name + ")",
                                   r.previous ? m3(*r.previous, f.decimals, l) : dash,
                                   r.current ? m3(*r.current, f.decimals, l) : dash,
                                   r.consumption ? m3(*r.consumption, f.decimals, l) : dash});
    }

    if (due > 0) {
        s.qr_caption =
            en ? "Pay with the QR code: open your bank's app, choose paying by QR code and point "
                 "the camera at it. The payee, the account and " +
                     money::format(due) + " are filled in for you."
               : "Оплатите по QR-коду: откройте приложение банка, выберите «Оплата по QR-коду» и "
                 "наведите камеру. Получатель, лицевой счёт и сумма " +
                     money::format(due) + " заполнятся сами.";
    } else {
        s.qr_caption = en ? "Nothing to pay this month. The QR code carries the payee's "
                            "requisites if you want to pay in advance."
                          : "В этом месяце оплачивать ничего не нужно. QR-код содержит реквизиты "
                            "получателя, если вы захотите внести аванс.";
    }
    s.footer = (en ? "Account " : "Лицевой счёт ") + f.account_number + " · " + f.office_name;
    s.pdf_title = s.title + (en ? ", account " : ", лицевой счёт ") + f.account_number;
    return s;
}

}  // namespace lkk::bill
