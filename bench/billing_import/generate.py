#!/usr/bin/env python3
"""Writes a synthetic billing CSV of N rows to stdout (or FILE) for the import benchmark.

Rows look like a real export: ';' delimiter, decimal commas, Cyrillic surnames (some with
Ё and hyphens), addresses with quotes, about a fifth never paid, some in debt. The output
is deterministic for a given N and seed, and streams: memory does not grow with N.
    generate.py ROWS [FILE] [--offices SIM,KRC,EVP] [--seed 1]
"""

import argparse
import random
import sys

SURNAMES = ["Иванов", "Петрова", "Сидоренко", "Ёлкина", "Петрова-Водкина", "Кузнецов",
            "Смирнова", "Фёдоров", "Салтыков-Щедрин", "Попова", "Волков", "Ким", "Оглы",
            "Зайцева", "Соловьёв", "Мельник", "Бондаренко", "Ткаченко", "Шевчук", "Коваль"]
STREETS = ["ул. Ленина", "ул. Гоголя", "пр. Кирова", "ул. Морская", "ул. Пушкина",
           "ул. Горького", "ул. Севастопольская", "пер. Тихий"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("file", nargs="?")
    ap.add_argument("--offices", default="SIM,KRC,EVP")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--year", type=int, default=2026)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    offices = a.offices.split(",")
    out = open(a.file, "w", encoding="utf-8", newline="") if a.file else sys.stdout
    write = out.write
    write("office;account;surname;last_payment;last_payment_date;address;balance\n")
    buf = []
    for i in range(a.rows):
        office = offices[i % len(offices)]
        account = "%08d" % (10000000 + i)
        surname = SURNAMES[rnd.randrange(len(SURNAMES))]
        if rnd.random() < 0.2:
            payment, date = "0", ""
        else:
            kop = rnd.randrange(100, 500000)
            payment = "%d,%02d" % (kop // 100, kop % 100)
            date = "%d-%02d-%02d" % (a.year - rnd.randrange(2), rnd.randrange(1, 13),
                                     rnd.randrange(1, 29))
        address = '"г. Симферополь, %s, д. %d, кв. ""%d"""' % (
            STREETS[rnd.randrange(len(STREETS))], rnd.randrange(1, 200), rnd.randrange(1, 300))
        bal = rnd.randrange(-300000, 300000)
        balance = "%s%d,%02d" % ("-" if bal < 0 else "", abs(bal) // 100, abs(bal) % 100)
        buf.append("%s;%s;%s;%s;%s;%s;%s\n" % (office, account, surname, payment, date,
                                               address, balance))
        if len(buf) >= 10000:
            write("".join(buf))
            buf.clear()
    write("".join(buf))
    if a.file:
        out.close()


if __name__ == "__main__":
    main()
