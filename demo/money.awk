# Demo statements and payments (demo/demo.sh): fourteen months from `first` (YYYY-MM) for a
# few accounts, written as the two CSV files `statements` and `payments`. Amounts are whole
# kopecks here and printed as roubles with a dot; gas use follows the season.
function roubles(k,    sign) {
    sign = k < 0 ? "-" : ""
    if (k < 0) k = -k
    return sprintf("%s%d.%02d", sign, int(k / 100), k % 100)
}
function account(office, number, percent, habit,    i, y, m, period, m3, accrued, paid, opening, closing, last) {
    closing = 0
    last = 0
    for (i = 0; i < 14; i++) {
        y = year + int((month - 1 + i) / 12)
        m = (month - 1 + i) % 12 + 1
        period = sprintf("%04d-%02d", y, m)
        m3 = int(season[m] * percent / 100)
        accrued = m3 * tariff
        opening = closing
        # The habits: "previous" pays last month's charge, "exact" this month's, "half" half of
        # it (a growing debt), "ahead" 3000 roubles up front and then last month's charge.
        if (habit == "previous") paid = last
        else if (habit == "exact") paid = accrued
        else if (habit == "half") paid = int(accrued / 2)
        else if (habit == "ahead") paid = (i == 0 ? 300000 : last)
        closing = opening + accrued - paid
        printf "%s;%s;%s;%s;%s;%s;%s;%d;7.16\n", office, number, period, roubles(opening),
            roubles(accrued), roubles(paid), roubles(closing), m3 > statements
        if (paid > 0) {
            printf "%s;%s;DEMO-%s-%s;%s-05;%s;%s\n", office, number, number, period, period,
                roubles(paid), (i % 2 ? "Почта России" : "РНКБ Онлайн") > payments
        }
        last = accrued
    }
}
BEGIN {
    year = substr(first, 1, 4) + 0
    month = substr(first, 6, 2) + 0
    tariff = 716  # kopecks per m³
    split("180 160 120 70 35 15 12 12 20 60 120 170", s, " ")
    for (k = 1; k <= 12; k++) season[k] = s[k]
    print "office;account;period;opening_balance;accrued;paid;closing_balance;consumption;tariff" > statements
    print "office;account;payment_id;date;amount;channel" > payments
    account("SIM", "100200", 100, "previous")  # Иванов: pays last month's bill, owes this one
    account("SIM", "100201", 60, "ahead")      # Ёлкина: paid ahead, overpaid
    account("SIM", "100203", 80, "exact")      # Смирнова: nothing due
    account("KRC", "300401", 120, "half")      # Кузнецов: a growing debt
    account("EVP", "500600", 90, "previous")   # Попова
}
