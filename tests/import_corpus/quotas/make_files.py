"""Write the quota-import fixture: an order book with a rep per order, a quota file, a targets file.

Run ``python tests/import_corpus/quotas/make_files.py`` to rewrite ``orders.csv``, ``quotas.csv``
and ``targets.csv`` beside this script; the output is the same bytes on every run (seeded).

* ``orders.csv``: 2025-01-02 .. 2025-11-14, orders of 1-3 lines, each order with one sales rep;
  reps in two regions (East, West), amounts in cents.
* ``quotas.csv``: rep (as the order book spells it, one in other case and spacing), region,
  period start, optional period end, grain (month | quarter | year) and amount: yearly,
  quarterly and monthly rows, a rep hired mid-quarter (Feb 15, rest of Q1), a half year given
  by an end date, a yearly amount whose cents do not divide by 12, a rep with a quota and no
  order line, and two rows the import quarantines (a negative amount; an unknown region).
* ``targets.csv``: region targets, East yearly, West quarterly.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2025, 11, 14)
START = dt.date(2025, 1, 2)
REPS: dict[str, tuple[str, float, dt.date]] = {
    # rep -> (region, selling factor, first order date)
    "Ana Lima": ("East", 1.2, START),
    "Ben Okafor": ("East", 0.9, START),
    "Chloé Dubois": ("East", 1.0, START),
    "Diego Ramos": ("East", 0.7, START),
    "Elif Kaya": ("East", 0.8, dt.date(2025, 2, 17)),
    "Femi Adeyemi": ("West", 1.1, START),
    "Grace Chen": ("West", 1.3, START),
    "Hiro Tanaka": ("West", 0.6, START),
    "Isabel Costa": ("West", 1.0, START),
}
PRODUCTS = ["Core Platform", "Analytics Add-on", "Support Plan", "Training Day"]


def _orders(rng: random.Random) -> list[list[str]]:
    customers = {
        region: [
            f"{name} {region} Ltd"
            for name in (
                "Acme",
                "Birch",
                "Cobalt",
                "Delta",
                "Ember",
                "Fjord",
                "Garnet",
                "Harbor",
                "Iris",
                "Juno",
            )
        ]
        for region in ("East", "West")
    }
    days = (AS_OF - START).days
    rows = []
    number = 1000
    for rep, (region, factor, first) in REPS.items():
        for _ in range(int(40 * factor)):
            date = START + dt.timedelta(days=rng.randrange(days + 1))
            if date < first:
                date = first + dt.timedelta(days=rng.randrange((AS_OF - first).days + 1))
            number += 1
            customer = rng.choice(customers[region])
            for _line in range(rng.randint(1, 3)):
                quantity = rng.randint(1, 5)
                amount = round(rng.uniform(400, 6000) * quantity / 3, 2)
                rows.append(
                    [
                        f"SO-{number}",
                        date.isoformat(),
                        customer,
                        rng.choice(PRODUCTS),
                        region,
                        rep,
                        str(quantity),
                        f"{amount:.2f}",
                    ]
                )
    rows.sort(key=lambda r: (r[1], r[0]))
    return [
        [
            "Order ID",
            "Order Date",
            "Customer",
            "Product",
            "Region",
            "Sales Rep",
            "Quantity",
            "Amount",
        ],
        *rows,
    ]


def _quotas() -> list[list[str]]:
    q = [f"2025-{m:02d}-01" for m in (1, 4, 7, 10)]
    rows = [["Sales Rep", "Region", "Period Start", "Period End", "Grain", "Quota"]]
    rows.append(["Ana Lima", "East", "2025-01-01", "", "year", "600,000.00"])
    for start, amount in zip(
        q, ["150,000.00", "160,000.00", "170,000.00", "180,000.01"], strict=True
    ):
        rows.append(["Ben Okafor", "East", start, "", "quarter", amount])
    for month in range(1, 13):
        rows.append(
            [
                "Chloé Dubois",
                "East",
                f"2025-{month:02d}-01",
                "",
                "month",
                f"{40_000 + month * 1_000.5:,.2f}",
            ]
        )
    rows.append(["Diego Ramos", "East", "2025-01-01", "", "year", "500,000.05"])
    rows.append(["Elif Kaya", "East", "2025-02-15", "", "quarter", "90,000.00"])
    for start in q[1:]:
        rows.append(["Elif Kaya", "East", start, "", "quarter", "135,000.00"])
    for start in q[:2]:
        rows.append(["Femi Adeyemi", "West", start, "", "quarter", "140,000.00"])
    rows.append(["Femi Adeyemi", "West", "2025-07-01", "2025-12-31", "", "300,000.00"])
    rows.append(["grace  chen", "west", "2025-01-01", "", "year", "560,000.00"])
    for month in range(1, 13):
        rows.append(["Hiro Tanaka", "", f"2025-{month:02d}-01", "", "month", "30,000.00"])
    for start in q:
        rows.append(["Isabel Costa", "West", start, "", "quarter", "130,000.00"])
    rows.append(["Isabel Costa", "North", "2026-01-01", "", "quarter", "140,000.00"])
    rows.append(["Ben Okafor", "East", "2026-01-01", "", "quarter", "-5,000.00"])
    for start in q[2:]:
        rows.append(["Jonas Berg", "West", start, "", "quarter", "100,000.00"])
    return rows


def _targets() -> list[list[str]]:
    rows = [["Region", "Period Start", "Grain", "Target"]]
    rows.append(["East", "2025-01-01", "year", "2,600,000.00"])
    amounts = ["700,000.00", "720,000.00", "740,000.00", "760,000.03"]
    for month, amount in zip((1, 4, 7, 10), amounts, strict=True):
        rows.append(["West", f"2025-{month:02d}-01", "quarter", amount])
    return rows


def _write(name: str, rows: list[list[str]]) -> None:
    with (HERE / name).open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def main() -> None:
    """Write the three files."""
    _write("orders.csv", _orders(random.Random(20251114)))
    _write("quotas.csv", _quotas())
    _write("targets.csv", _targets())


if __name__ == "__main__":
    main()
