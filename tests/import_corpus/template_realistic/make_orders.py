"""Write orders.csv: a realistic European order book for the generic order-lines template.

Deterministic (fixed seed, no clock): re-running it rewrites the committed file byte for byte.
Run from the project root: ``python tests/import_corpus/template_realistic/make_orders.py``.

What the file holds (an ERP export as a German-speaking finance team would send it):

- ``;``-separated, day-first dates (``14.01.2026``), decimal comma and thousands dot
  (``1.234,56``), UTF-8 with non-ASCII names (``Jörg Müller``, ``Bäckerei Örtel``);
- three regions (Nordics, DACH, Benelux), three reps each, 12 products (two long names that
  share their first 50 characters), 120 customers per region (a customer always buys in its
  own region, from any rep of that region);
- January 2024 to December 2025 with growth and a Q4 peak, plus 1-14 January 2026 (a partial
  month: the as-of date is the last order date);
- orders of one to four lines, quantities 1-40, discounts, a few lines priced to a tenth of a
  cent (sub-cent amounts such as ``1.234,567``);
- seven rows a careful import must quarantine: four with no customer, two credit notes with a
  negative amount, one with no order date.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20260114
FIRST_MONTH = dt.date(2024, 1, 1)
FULL_MONTHS = 24
PARTIAL_END = dt.date(2026, 1, 14)

REGIONS: dict[str, list[str]] = {
    "Nordics": ["Anna Lindqvist", "Mikko Virtanen", "Sigrid Hansen"],
    "DACH": ["Jörg Müller", "Claudia Steiner", "Lukas Gruber"],
    "Benelux": ["Sanne de Vries", "Pieter Janssens", "Élodie Lambert"],
}
REGION_WEIGHT = {"Nordics": 0.8, "DACH": 1.3, "Benelux": 1.0}
LONG_PREFIX = "Industrial Ethernet Switch 24-Port Managed Layer 3 "
PRODUCTS: list[tuple[str, float]] = [
    ("Sensor Kit S", 49.90),
    ("Sensor Kit M", 129.00),
    ("Gateway G2", 389.00),
    ("Gateway G2 Pro", 649.00),
    ("Cable Set 5 m", 19.90),
    ("Mounting Rail", 12.49),
    (LONG_PREFIX + "PoE+ (EU plug)", 1899.00),
    (LONG_PREFIX + "PoE+ (UK plug)", 1929.00),
    ("Controller C100", 2450.00),
    ("Service Contract 12 months", 990.00),
    ("Spare Fuse Pack", 3.456),  # priced to a tenth of a cent
    ("Calibration Fluid 1 l", 27.125),  # priced to a tenth of a cent
]
PRODUCT_WEIGHT = [14, 10, 8, 4, 16, 12, 2, 1, 2, 3, 8, 6]
STEMS = {
    "Nordics": ["Fjord", "Birch", "Nordlys", "Skog", "Havn", "Isbjørn", "Granit", "Vind"],
    "DACH": ["Alpen", "Bäckerei Örtel", "Rhein", "Schwarzwald", "Donau", "Brenner", "Zug", "Harz"],
    "Benelux": ["Polder", "Schelde", "Ardennen", "Maas", "Zuid", "Tulp", "Dijk", "Kempen"],
}
TRADES = ["Logistics", "Foods", "Tools", "Energy", "Systems", "Bau & Technik", "Medical", "Retail"]
SUFFIX = {"Nordics": ["AB", "AS", "Oy"], "DACH": ["GmbH", "AG", "KG"], "Benelux": ["B.V.", "NV"]}
HEADER = ["Order ID", "Order Date", "Customer", "Region", "Sales Rep", "Product", "Quantity",
          "Amount"]  # fmt: skip


def eu_number(value: float, decimals: int) -> str:
    """Format ``value`` as ``1.234,56`` (thousands dot, decimal comma)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def customers(rng: random.Random) -> dict[str, list[str]]:
    """120 distinct customer names per region (one with ``<`` and ``&`` to test escaping)."""
    names: dict[str, list[str]] = {}
    for region, stems in STEMS.items():
        pool = sorted({f"{s} {t} {x}" for s in stems for t in TRADES for x in SUFFIX[region]})
        names[region] = rng.sample(pool, 120)
    names["DACH"][6] = "Müller & Söhne <Holding> GmbH"
    return names


def month_days(month: dt.date) -> list[dt.date]:
    """The order days of ``month`` (every day; the partial month stops at PARTIAL_END)."""
    days = []
    day = month
    while day.month == month.month and day <= PARTIAL_END:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def order_lines(rng: random.Random) -> list[list[str]]:
    """Every row of the file, in order-id order."""
    names = customers(rng)
    product_names = [p for p, _ in PRODUCTS]
    rows: list[list[str]] = []
    order_no = 0
    for index in range(FULL_MONTHS + 1):
        month = dt.date(2024 + index // 12, index % 12 + 1, 1)
        days = month_days(month)
        season = 1.35 if month.month in (10, 11, 12) else (0.8 if month.month == 8 else 1.0)
        growth = 1.0 + 0.012 * index
        for region, reps in REGIONS.items():
            orders = round(14 * REGION_WEIGHT[region] * season * growth * len(days) / 30)
            for _ in range(orders):
                order_no += 1
                order_id = f"SO-{month.year}-{order_no:05d}"
                date = rng.choice(days)
                customer = rng.choice(names[region][: 60 + index * 3])  # a customer base grows
                rep = rng.choice(reps)
                chosen = rng.choices(range(len(PRODUCTS)), weights=PRODUCT_WEIGHT, k=4)
                for product_index in chosen[: rng.choice([1, 1, 1, 2, 2, 3, 4])]:
                    name, price = PRODUCTS[product_index]
                    quantity = min(40, max(1, int(rng.expovariate(1 / 4))))
                    discount = rng.choice([0.0, 0.0, 0.0, 0.05, 0.1, 0.15])
                    decimals = 3 if round(price * 1000) % 10 else 2
                    amount = round(quantity * price * (1 - discount), decimals)
                    amount_text = eu_number(amount, decimals)
                    row = [order_id, date.strftime("%d.%m.%Y"), customer, region, rep, name]
                    rows.append([*row, str(quantity), amount_text])
    assert len(set(product_names)) == len(product_names)
    return rows


def plant_bad_rows(rows: list[list[str]], rng: random.Random) -> list[list[str]]:
    """Seven rows an import must quarantine, at fixed positions chosen by ``rng``."""
    result = [list(r) for r in rows]
    positions = rng.sample(range(len(result)), 7)
    for position in positions[:4]:
        result[position][2] = ""  # no customer
    for position in positions[4:6]:
        result[position][7] = "-" + result[position][7]  # a credit note
    result[positions[6]][1] = ""  # no order date
    return result


def main() -> None:
    """Write ``orders.csv`` beside this script."""
    rng = random.Random(SEED)
    rows = plant_bad_rows(order_lines(rng), rng)
    with (HERE / "orders.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"wrote {len(rows):,} rows to {HERE / 'orders.csv'}")


if __name__ == "__main__":
    main()
