"""Write ``regional_orders.csv``: an order book whose region and rep belong to the order line.

A realistic export of a distributor's order book (issue 12, "More real data"): the territory
is the ship-to market of each order, so one customer buys in several territories; several reps
sell in two territories; amounts carry four decimals (net of a line discount, as ERPs export
them); product descriptions are long and share a 40+ character prefix; three years of history
end on a Dec 31 as-of date with orders booked on that day. Deterministic (fixed seed): run
``python tests/import_corpus/regional/make_regional_orders.py`` to rewrite the committed file.

Nothing here knows the importer: the file is what an ERP export looks like, and the tests
compare the import with a plain DuckDB query over this file.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

SEED = 20251231
OUT = Path(__file__).with_name("regional_orders.csv")
FIRST_DAY, AS_OF = dt.date(2023, 1, 2), dt.date(2025, 12, 31)
TERRITORIES = ["North America", "EMEA", "APAC", "Latin America"]
TERRITORY_WEIGHTS = [0.4, 0.3, 0.2, 0.1]
PREFIX = "Industrial Automation Controller Series X - Extended Warranty Bundle"
PRODUCTS = [
    (f"{PREFIX} - {variant}", price)
    for variant, price in [
        ("12 Months", 249.9900),
        ("24 Months", 459.5000),
        ("36 Months", 639.2500),
        ("12 Months (Education)", 199.9900),
        ("24 Months (Education)", 369.7500),
        ("Field Service Add-on", 1299.0000),
    ]
] + [
    ("Sensor Kit Pro 400", 89.9500),
    ("Sensor Kit Pro 400 Refill Pack", 12.3456),
    ("Gateway Appliance G2", 2150.0000),
    ("Commissioning Services (per day)", 1450.0000),
]
FIRST = ["Acme", "Bravo", "Cobalt", "Delta", "Evergreen", "Falcon", "Granite", "Harbor", "Iris",
         "Juniper", "Kestrel", "Lumen", "Meridian", "Northwind", "Orion", "Pioneer", "Quartz",
         "Redwood", "Summit", "Tundra"]  # fmt: skip
SECOND = ["Industries", "Logistics", "Foods", "Pharma", "Energy", "Motors", "Textiles",
          "Packaging"]  # fmt: skip
REP_NAMES = ["Ana Souza", "Ben Okafor", "Chloé Martin", "Dev Patel", "Erik Larsen",
             "Fatima Zahra", "Gus Müller", "Hana Sato", "Ivan Petrov", "Julia Chen",
             "Kofi Mensah", "Lucía Gómez"]  # fmt: skip


def _reps(rng: random.Random) -> dict[str, list[str]]:
    """Territory -> its reps; three reps sell in a second territory too."""
    by_territory: dict[str, list[str]] = {t: [] for t in TERRITORIES}
    for i, name in enumerate(REP_NAMES):
        by_territory[TERRITORIES[i % len(TERRITORIES)]].append(name)
    for name, second in [("Ana Souza", "Latin America"), ("Ben Okafor", "North America"),
                         ("Chloé Martin", "APAC")]:  # fmt: skip
        by_territory[second].append(name)
    return by_territory


def _customers(rng: random.Random) -> list[tuple[str, list[str], list[float]]]:
    """(name, territories it buys in, weights): about half buy in two or three territories."""
    customers = []
    names = [f"{a} {b}" for a in FIRST for b in SECOND]
    rng.shuffle(names)
    for name in names[:110]:
        home = rng.choices(TERRITORIES, TERRITORY_WEIGHTS)[0]
        others = [t for t in TERRITORIES if t != home]
        spread = rng.choices([0, 1, 2], [0.5, 0.35, 0.15])[0]
        territories = [home, *rng.sample(others, spread)]
        weights = [1.0] + [rng.uniform(0.2, 1.0) for _ in range(spread)]
        customers.append((name, territories, weights))
    customers.append(("Smith & O'Neil <Holdings>", ["EMEA", "North America"], [1.0, 1.0]))
    return customers


def _order_days(rng: random.Random, orders: int) -> list[dt.date]:
    """Order days: growing about 15% a year, busier in each quarter's last month; Dec 31 too."""
    span = (AS_OF - FIRST_DAY).days
    days = []
    while len(days) < orders:
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(span + 1))
        weight = (1.15 ** ((day - FIRST_DAY).days / 365)) * (1.6 if day.month % 3 == 0 else 1.0)
        if day.weekday() < 5 and rng.random() < weight / (1.15**3 * 1.6):
            days.append(day)
    days += [AS_OF] * 4
    return sorted(days)


def make_rows(seed: int = SEED) -> list[dict[str, str]]:
    """The order lines, in order-number order."""
    rng = random.Random(seed)
    reps, customers = _reps(rng), _customers(rng)
    rows = []
    for number, day in enumerate(_order_days(rng, 1300), start=100001):
        name, territories, weights = customers[rng.randrange(len(customers))]
        territory = rng.choices(territories, weights)[0]
        rep = rng.choice(reps[territory])
        for _ in range(rng.choices([1, 2, 3, 4], [0.45, 0.3, 0.15, 0.1])[0]):
            product, price = PRODUCTS[rng.randrange(len(PRODUCTS))]
            quantity = rng.choices([1, 2, 3, 5, 10, 24], [0.4, 0.2, 0.15, 0.1, 0.1, 0.05])[0]
            discount = rng.choice([0.0, 0.0, 0.05, 0.075, 0.12, 0.1537])
            amount = round(quantity * price * (1 - discount), 4)
            rows.append(
                {
                    "Order Number": f"SO-{number}",
                    "Order Date": day.isoformat(),
                    "Customer Name": name,
                    "Ship-To Territory": territory,
                    "Sales Rep": rep,
                    "Product Description": product,
                    "Qty": str(quantity),
                    "Net Amount": f"{amount:.4f}",
                }
            )
    return rows


def main() -> None:
    """Write the file."""
    rows = make_rows()
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{OUT}: {len(rows)} order lines")


if __name__ == "__main__":
    main()
