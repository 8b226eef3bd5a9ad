// The bill's pieces (SPEC 10): the ГОСТ Р 56042-2014 payload as exact strings, the QR code
// as one SVG path, and the PDF (Cyrillic in an embedded DejaVu subset), also from several
// threads at once as the nginx thread pool renders it.
#include "lkk/bill.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace lkk::bill {
namespace {

PaymentOrder order() {
    PaymentOrder o;
    o.payee.payee = "АО «Газпром газораспределение Тест»";
    o.payee.account = "40702810138250123017";
    o.payee.bank = "ПАО Сбербанк";
    o.payee.bic = "044525225";
    o.payee.corr_account = "30101810400000000225";
    o.payee.inn = "7707083893";
    o.payee.kpp = "773601001";
    o.pers_acc = "1234567";
    o.due = 123456;
    o.purpose = payment_purpose("2026-05", "1234567");
    return o;
}

TEST(PaymentPayload, EveryFieldInTheStandardsOrder) {
    EXPECT_EQ(payment_payload(order()).value(),
              "ST00012|Name=АО «Газпром газораспределение Тест»|PersonalAcc=40702810138250123017|"
              "BankName=ПАО Сбербанк|BIC=044525225|CorrespAcc=30101810400000000225|"
              "PayeeINN=7707083893|KPP=773601001|PersAcc=1234567|Sum=123456|"
              "Purpose=Оплата за газ за 05.2026, л/с 1234567");
}

TEST(PaymentPayload, NoSumWhenNothingIsDue) {
    PaymentOrder o = order();
    for (int64_t due : {int64_t{0}, int64_t{-5000}}) {
        o.due = due;
        const std::string p = payment_payload(o).value();
        EXPECT_EQ(p.find("Sum="), std::string::npos) << p;
        EXPECT_NE(p.find("|PersAcc=1234567|Purpose="), std::string::npos) << p;
    }
    o.due = 1;  // one kopeck is due
    EXPECT_NE(payment_payload(o).value().find("|Sum=1|"), std::string::npos);
}

TEST(PaymentPayload, EmptyKppIsLeftOut) {
    PaymentOrder o = order();
    o.payee.kpp.clear();
    EXPECT_NE(payment_payload(o).value().find("|PayeeINN=7707083893|PersAcc=1234567|"),
              std::string::npos);
}

TEST(PaymentPayload, ABankWithoutCorrespondentAccountWritesZero) {
    PaymentOrder o = order();
    o.payee.corr_account.clear();
    EXPECT_NE(payment_payload(o).value().find("|BIC=044525225|CorrespAcc=0|PayeeINN="),
              std::string::npos);
}

TEST(PaymentPayload, SeparatorControlCharactersAndMissingRequisitesAreRefused) {
    PaymentOrder o = order();
    o.payee.payee = "ООО |Рога";
    auto r = payment_payload(o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), StatusCode::invalid_argument);
    EXPECT_NE(r.error().message().find("Name"), std::string::npos);

    o = order();
    o.pers_acc = "12|34";
    EXPECT_NE(payment_payload(o).error().message().find("PersAcc"), std::string::npos);

    o = order();
    o.purpose = "line\nbreak";
    EXPECT_NE(payment_payload(o).error().message().find("Purpose"), std::string::npos);

    o = order();
    o.payee.bank = "\xff\xfe";
    EXPECT_NE(payment_payload(o).error().message().find("BankName"), std::string::npos);

    o = order();
    o.payee.bic.clear();
    EXPECT_NE(payment_payload(o).error().message().find("BIC is missing"), std::string::npos);
}

TEST(PaymentPayload, LengthsCountCharactersNotBytes) {
    PaymentOrder o = order();
    // 45 Cyrillic letters are 90 bytes and still within BankName's 45 characters.
    o.payee.bank.clear();
    for (int i = 0; i < 45; ++i) o.payee.bank += "Б";
    EXPECT_TRUE(payment_payload(o).ok());
    o.payee.bank += "Б";
    EXPECT_NE(payment_payload(o).error().message().find("BankName is longer than 45"),
              std::string::npos);
}

TEST(PaymentPurpose, NamesTheMonthAndTheAccount) {
    EXPECT_EQ(payment_purpose("2026-01", "00-123"), "Оплата за газ за 01.2026, л/с 00-123");
}

TEST(QrCode, LevelMAndTheSmallestVersion) {
    const std::string payload = payment_payload(order()).value();
    auto code = encode_qr(payload);
    ASSERT_TRUE(code.ok());
    // 314 bytes in 8-bit mode at level M: version 12 holds 287, version 13 331, so version
    // 13, 17 + 4 * 13 = 69 modules a side.
    ASSERT_EQ(payload.size(), 314u);
    EXPECT_EQ(code->size, 69);
    // The finder pattern's corner is dark, the separator next to it light.
    EXPECT_TRUE(code->dark(0, 0));
    EXPECT_FALSE(code->dark(7, 0));
    EXPECT_FALSE(encode_qr("").ok());
    EXPECT_EQ(encode_qr(std::string(3000, 'x')).error().code(), StatusCode::invalid_argument);
}

TEST(QrCode, SvgIsOnePathWithoutScriptOrStyle) {
    auto code = encode_qr("ST00012|Name=Тест").value();
    const std::string svg = qr_svg(code, "QR <код> для оплаты");
    const std::string side = std::to_string(code.size + 2 * kQrQuietZone);
    EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
    EXPECT_NE(svg.find("viewBox=\"0 0 " + side + " " + side + "\""), std::string::npos);
    EXPECT_NE(svg.find("<title id=\"qr-title\">QR &lt;код&gt; для оплаты</title>"),
              std::string::npos);
    size_t paths = 0;
    for (size_t at = svg.find("<path"); at != std::string::npos; at = svg.find("<path", at + 1)) {
        ++paths;
    }
    EXPECT_EQ(paths, 1u);
    EXPECT_EQ(svg.find("script"), std::string::npos);
    EXPECT_EQ(svg.find("style"), std::string::npos);
    // Every dark module is drawn exactly once by the runs.
    size_t dark = 0;
    for (bool m : code.modules) dark += m ? 1 : 0;
    size_t drawn = 0;
    for (const QrRun& r : qr_runs(code)) drawn += static_cast<size_t>(r.length);
    EXPECT_EQ(drawn, dark);
    EXPECT_EQ(qr_runs(code).front().x, kQrQuietZone);
}

BillSheet sheet() {
    BillSheet s;
    s.title = "Счёт за май 2026 г.";
    s.subtitle = "Управление по эксплуатации газового хозяйства № 1, тел. +7 3652 00-00-00";
    s.sections = {
        {"Получатель платежа",
         {{"Получатель", "АО «Газпром газораспределение Тест»"},
          {"ИНН / КПП", "7707083893 / 773601001"}}},
        {"Начисления за май 2026 г.",
         {{"Долг на начало месяца", "1 000,00 ₽"}, {"К оплате", "1 234,56 ₽", true}}}};
    s.readings = {"Показания счётчиков",
                  {"Счётчик", "Предыдущее", "Текущее", "Расход, м³"},
                  {{"СГ-123 (кухня)", "1 000", "1 012", "12"}},
                  "Показаний за этот месяц нет."};
    s.qr_payload = payment_payload(order()).value();
    s.qr_caption = "Наведите камеру банковского приложения на QR-код.";
    s.footer = "Лицевой счёт 1234567";
    s.pdf_title = "Счёт 1234567 за 05.2026";
    return s;
}

TEST(BillPdf, A4WithAnEmbeddedDejaVuSubset) {
    auto pdf = render_pdf(sheet());
    ASSERT_TRUE(pdf.ok()) << pdf.error().message();
    const std::string& p = pdf.value();
    EXPECT_EQ(p.rfind("%PDF-1.5", 0), 0u);
    EXPECT_NE(p.find("/MediaBox [ 0 0 595.28 841.89 ]"), std::string::npos);
    // A subset (the "ABCDEF+" prefix) of DejaVu Sans is embedded as a TrueType program.
    EXPECT_NE(p.find("+DejaVuSans"), std::string::npos);
    EXPECT_NE(p.find("/FontFile2"), std::string::npos);
    EXPECT_LT(p.size(), 100u * 1024);
}

TEST(BillPdf, ManyThreadsAtOnce) {
    const size_t expected = render_pdf(sheet()).value().size();
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5; ++i) {
                auto pdf = render_pdf(sheet());
                // Same content, same bytes except the creation date's digits.
                if (pdf.ok() && pdf->size() == expected) ++good;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(good.load(), 20);
}

TEST(BillPdf, AnUnencodablePayloadIsAnErrorNotACrash) {
    BillSheet s = sheet();
    s.qr_payload.clear();
    EXPECT_FALSE(render_pdf(s).ok());
}

BillFacts facts() {
    BillFacts f;
    f.office_name = "Симферопольское УЭГХ";
    f.office_phones = "+7 3652 00-00-00";
    f.payee = order().payee;
    f.account_number = "1234567";
    f.surname = "Иванов";
    f.address = "г. Симферополь, ул. Ленина, 1";
    f.period = "2026-05";
    f.opening_balance = 100000;
    f.accrued = 123456;
    f.paid = 100000;
    f.closing_balance = 123456;
    f.consumption = 12345;
    f.tariff = 725;
    f.readings = {{"K-1", "Кухня", 1000000, 1012345, 12345},
                  {"B-2", "", std::nullopt, 5000, std::nullopt}};
    f.decimals = 3;
    return f;
}

const SheetRow* row(const BillSheet& s, const std::string& label) {
    for (const auto& section : s.sections) {
        for (const auto& r : section.rows) {
            if (r.label == label) return &r;
        }
    }
    return nullptr;
}

TEST(BillSheetFromFacts, FiguresReadingsAndTheSamePayload) {
    auto s = make_sheet(facts(), Locale::ru);
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(s->title, "Счёт за май 2026 г.");
    EXPECT_EQ(s->subtitle, "Симферопольское УЭГХ, тел. +7 3652 00-00-00");
    EXPECT_EQ(s->qr_payload, payment_payload(order()).value());
    ASSERT_NE(row(*s, "К оплате"), nullptr);
    EXPECT_EQ(row(*s, "К оплате")->value, "1\u00A0234,56\u00A0₽");
    EXPECT_TRUE(row(*s, "К оплате")->strong);
    EXPECT_EQ(row(*s, "На начало месяца")->value, "долг 1\u00A0000,00\u00A0₽");
    EXPECT_EQ(row(*s, "Расход газа")->value, "12,345 м³");
    EXPECT_EQ(row(*s, "Тариф")->value, "7,25\u00A0₽ за м³");
    EXPECT_EQ(row(*s, "ИНН / КПП")->value, "7707083893 / 773601001");
    ASSERT_EQ(s->readings.rows.size(), 2u);
    EXPECT_EQ(s->readings.rows[0],
              (std::vector<std::string>{"K-1 (Кухня)", "1000,000", "1012,345", "12,345"}));
    EXPECT_EQ(s->readings.rows[1], (std::vector<std::string>{"B-2", "—", "5,000", "—"}));
}

TEST(BillSheetFromFacts, OverpaidMeansNothingDueAndNoSum) {
    BillFacts f = facts();
    f.closing_balance = -2500;
    auto s = make_sheet(f, Locale::ru);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(row(*s, "К оплате")->value, "0,00\u00A0₽");
    EXPECT_EQ(row(*s, "Переплата")->value, "25,00\u00A0₽");
    EXPECT_EQ(s->qr_payload.find("|Sum="), std::string::npos);
    EXPECT_NE(s->qr_caption.find("ничего не нужно"), std::string::npos);
}

TEST(BillSheetFromFacts, ARequisiteWithTheSeparatorIsRefused) {
    BillFacts f = facts();
    f.payee.bank = "Банк | Другой";
    EXPECT_EQ(make_sheet(f, Locale::ru).error().code(), StatusCode::invalid_argument);
}

TEST(BillSheetFromFacts, EnglishWording) {
    auto s = make_sheet(facts(), Locale::en);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->title, "Bill for May 2026");
    // Amounts as the portal's English pages show them (money::format, lkk/money.h).
    EXPECT_EQ(row(*s, "To pay")->value, "1\u00A0234,56\u00A0₽");
}

TEST(BillPdfName, OnlySafeCharacters) {
    EXPECT_EQ(pdf_file_name("12-34/5 6", "2026-05"), "bill-12-34_5_6-2026-05.pdf");
}

}  // namespace
}  // namespace lkk::bill
