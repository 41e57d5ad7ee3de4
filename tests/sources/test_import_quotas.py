"""Quota and target files of an ``order_lines`` import: the spread rule, the row rules, the reps.

Every expected figure is worked out by hand in the test (cents, weights of partial months), and
outcomes are read from the written parquet files and ``_quarantine.json``, not through the
importer.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from salesops_lib.core.errors import ConfigError
from salesops_lib.sources.importer import import_snapshot
from salesops_lib.sources.importer.mapping import load_mapping
from salesops_lib.sources.importer.plan_files import (
    grain_end,
    overlapping,
    spread_cents,
    to_cents,
)
from salesops_lib.sources.importer.quarantine import ImportDataError
from tests.conftest import ROOT

D = dt.date
AS_OF = "2025-06-30"


# --- the spread rule ---------------------------------------------------------------------------


def test_a_quarter_of_1000_is_333_34_333_33_333_33() -> None:
    assert spread_cents(100_000, D(2025, 1, 1), D(2025, 3, 31)) == [
        (D(2025, 1, 1), 33_334),
        (D(2025, 2, 1), 33_333),
        (D(2025, 3, 1), 33_333),
    ]


def test_a_mid_month_start_weighs_the_first_month_by_its_days() -> None:
    # Feb 15-28 2026 is 14 of 28 days (weight 1/2), March whole (1): 900 x 1/3 and 900 x 2/3.
    assert spread_cents(90_000, D(2026, 2, 15), D(2026, 3, 31)) == [
        (D(2026, 2, 1), 30_000),
        (D(2026, 3, 1), 60_000),
    ]
    # Leap year: Feb 15-29 2024 is 15 of 29 days; shares 90,000 x 15/44 = 30,681.8 and
    # 90,000 x 29/44 = 59,318.2 cents; whole cents 30,681 + 59,318 leave 1 cent for February.
    assert spread_cents(90_000, D(2024, 2, 15), D(2024, 3, 31)) == [
        (D(2024, 2, 1), 30_682),
        (D(2024, 3, 1), 59_318),
    ]


def test_a_year_whose_cents_do_not_divide_gives_the_remainder_to_january() -> None:
    months = spread_cents(50_000_005, D(2025, 1, 1), D(2025, 12, 31))
    assert [c for _, c in months] == [4_166_668] + [4_166_667] * 11
    assert sum(c for _, c in months) == 50_000_005


def test_a_month_row_and_a_zero_amount() -> None:
    assert spread_cents(123, D(2025, 5, 10), D(2025, 5, 20)) == [(D(2025, 5, 1), 123)]
    assert spread_cents(0, D(2025, 1, 1), D(2025, 2, 28)) == [
        (D(2025, 1, 1), 0),
        (D(2025, 2, 1), 0),
    ]


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(ValueError, match="before its start"):
        spread_cents(100, D(2025, 3, 1), D(2025, 2, 1))


@pytest.mark.parametrize(
    ("start", "grain", "end"),
    [
        (D(2025, 2, 15), "quarter", D(2025, 3, 31)),
        (D(2025, 11, 3), "quarter", D(2025, 12, 31)),
        (D(2025, 4, 1), "quarter", D(2025, 6, 30)),
        (D(2024, 2, 10), "month", D(2024, 2, 29)),
        (D(2025, 7, 1), "year", D(2025, 12, 31)),
    ],
)
def test_grain_end_is_the_end_of_the_calendar_period(
    start: dt.date, grain: str, end: dt.date
) -> None:
    assert grain_end(start, grain) == end


def test_amounts_become_cents_half_up() -> None:
    assert to_cents(333.335) == 33_334
    assert to_cents(0.1 + 0.2) == 30
    assert to_cents(180_000.01) == 18_000_001


def test_overlap_names_the_earlier_row_and_adjacent_rows_do_not_overlap() -> None:
    keys = pd.Series(["a", "a", "a", "a", "b"], index=[10, 11, 12, 13, 14])
    starts = pd.Series([D(2025, 1, 1), D(2025, 3, 1), D(2025, 4, 1), D(2025, 5, 15), D(2025, 3, 1)])
    ends = pd.Series(
        [D(2025, 3, 31), D(2025, 3, 31), D(2025, 5, 14), D(2025, 6, 30), D(2025, 3, 31)]
    )
    rows = pd.Series([2, 3, 4, 5, 6])
    starts.index = ends.index = rows.index = keys.index
    hit = overlapping(keys, starts, ends, rows)
    assert hit.to_dict() == {10: None, 11: 2, 12: None, 13: None, 14: None}


# --- imports with quota and target files -------------------------------------------------------

ORDERS = """Order Date,Customer,Region,Sales Rep,Amount
2025-01-10,Acme,East,Ana Lima,1000.00
2025-02-10,Acme,East,Ana Lima,500.00
2025-04-10,Birch,West,Sam Lee,700.00
2025-05-10,Birch,West,Sam Lee,300.25
"""

MAPPING = """name: quota_test
kind: order_lines
max_failed_share: {share}
sources:
  orders:
    file: orders.csv
    columns:
      order_date: {{column: Order Date, type: date}}
      customer: {{column: Customer}}
      region: {{column: Region, type: category}}
      rep: {{column: Sales Rep, type: category, required: false}}
      amount: {{column: Amount, type: number}}
  quotas:
    file: quotas.csv
    columns:
      rep: {{column: Rep, type: category}}
      period_start: {{column: Start, type: date}}
      amount: {{column: Quota, type: number}}
      period_end: {{column: End, type: date, required: false}}
      grain: {{column: Grain, type: category, required: false}}
      region: {{column: Region, type: category, required: false}}
{extra}"""


def _import(tmp_path: Path, quotas: str, share: float = 1.0, mapping_text: str = "") -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (folder / "quotas.csv").write_text(quotas, encoding="utf-8")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(mapping_text or MAPPING.format(share=share, extra=""), encoding="utf-8")
    import_snapshot(mapping, [folder], AS_OF, tmp_path / "snaps", force=False)
    return tmp_path / "snaps" / AS_OF


def _table(folder: Path, name: str) -> pd.DataFrame:
    return pq.read_table(folder / f"{name}.parquet").to_pandas()


def _issues(folder: Path) -> list[dict[str, object]]:
    return json.loads((folder / "_quarantine.json").read_text(encoding="utf-8"))["issues"]


def _quotas(folder: Path) -> dict[tuple[str, str], float]:
    q = _table(folder, "quotas")
    return {
        (r, str(m)[:10]): a
        for r, m, a in zip(q["rep_id"], q["month"], q["quota_amount"], strict=True)
    }


def test_quota_rows_spread_to_the_order_books_rep_ids(tmp_path: Path) -> None:
    quotas = (
        "Rep,Start,End,Grain,Region,Quota\n"
        'ana  LIMA,2025-01-01,,quarter,East,"1,000.00"\n'  # same rep as "Ana Lima"
        "Ana Lima,2025-04-01,2025-05-14,,,900.00\n"  # Apr whole (1) + May 1-14 (14/31)
        "Ana Lima,2025-05-15,,month,,170.00\n"  # the rest of May: adds up in May
        "Sam Lee,2025-01-01,,year,West,1200.00\n"
    )
    folder = _import(tmp_path, quotas)
    assert _issues(folder) == []
    q = _quotas(folder)
    assert {k: v for k, v in q.items() if k[0] == "ana-lima"} == {
        ("ana-lima", "2025-01-01"): 333.34,
        ("ana-lima", "2025-02-01"): 333.33,
        ("ana-lima", "2025-03-01"): 333.33,
        # Weights April 1, May 1-14 14/31 (total 45/31): 90,000 cents x 31/45 = 62,000 and
        # x 14/45 = 28,000; May adds the 170.00 row of May 15-31.
        ("ana-lima", "2025-04-01"): 620.00,
        ("ana-lima", "2025-05-01"): 280.00 + 170.00,
    }
    assert [v for k, v in sorted(q.items()) if k[0] == "sam-lee"] == [100.0] * 12
    reps = _table(folder, "reps").set_index("rep_id")
    assert sorted(reps.index) == ["ana-lima", "sam-lee"]
    # Hired no later than the first quota row starts (first orders Jan 10 and Apr 10).
    assert str(reps.loc["ana-lima", "hire_date"])[:10] == "2025-01-01"
    assert str(reps.loc["sam-lee", "hire_date"])[:10] == "2025-01-01"


def test_april_and_may_weights_by_hand() -> None:
    # The figure above: weights April 30/30 = 1, May 1-14 = 14/31; total 45/31.
    # April = 90,000 x 31/45 = 62,000 cents, May = 90,000 x 14/45 = 28,000 cents.
    assert spread_cents(90_000, D(2025, 4, 1), D(2025, 5, 14)) == [
        (D(2025, 4, 1), 62_000),
        (D(2025, 5, 1), 28_000),
    ]


def test_a_rep_with_a_quota_and_no_order_line_is_a_rep(tmp_path: Path) -> None:
    quotas = (
        "Rep,Start,End,Grain,Region,Quota\n"
        "Ana Lima,2025-01-01,,quarter,East,300.00\n"
        "Jo Park,2025-03-10,,quarter,West,210.00\n"  # hired Mar 10: the rest of Q1
        "Jo Park,2025-04-01,,quarter,West,300.00\n"
        "sam-lee,2025-04-01,,quarter,West,300.00\n"  # not "Sam Lee": a rep of its own
    )
    folder = _import(tmp_path, quotas)
    assert _issues(folder) == []
    reps = _table(folder, "reps").set_index("rep_id")
    assert reps.loc["jo-park", "rep_name"] == "Jo Park"
    assert reps.loc["jo-park", "region_id"] == "west"
    assert str(reps.loc["jo-park", "hire_date"])[:10] == "2025-03-10"
    other = [r for r in reps.index if r not in {"ana-lima", "sam-lee", "jo-park"}]
    assert len(other) == 1 and other[0].startswith("sam-lee-")  # never the order book's id
    assert reps.loc[other[0], "rep_name"] == "sam-lee"
    q = _quotas(folder)
    # Mar 10-31 is one month: the whole 210.00 in March.
    assert q[("jo-park", "2025-03-01")] == 210.0
    assert q[("jo-park", "2025-04-01")] == 100.0
    assert q[(other[0], "2025-06-01")] == 100.0


def test_every_bad_row_is_quarantined_with_its_rule(tmp_path: Path) -> None:
    quotas = (
        "Rep,Start,End,Grain,Region,Quota\n"
        "Ana Lima,2025-01-01,,quarter,East,300.00\n"  # 2 kept
        ",2025-01-01,,quarter,East,300.00\n"  # 3 missing_rep
        "Ana Lima,,,quarter,East,300.00\n"  # 4 missing_period_start
        "Ana Lima,2025-04-01,,quarter,East,\n"  # 5 missing_amount
        "Ana Lima,2025-04-01,,quarter,East,-5.00\n"  # 6 negative_amount
        "Ana Lima,2025-04-01,,fortnight,East,300.00\n"  # 7 unknown_grain
        "Ana Lima,2025-04-01,,,East,300.00\n"  # 8 missing_grain
        "Ana Lima,2025-04-01,2025-03-01,,East,300.00\n"  # 9 period_end_before_start
        "Ana Lima,2025-04-01,2031-01-01,,East,300.00\n"  # 10 period_too_long
        "Ana Lima,2025-02-01,,month,East,300.00\n"  # 11 overlapping_period (line 2)
        "Ana Lima,2025-04-01,,quarter,Atlantis,300.00\n"  # 12 unknown_region
        "!!!,2025-04-01,,quarter,West,300.00\n"  # 13 empty_id
        "New Hire,2025-09-01,,quarter,West,300.00\n"  # 14 rep_starts_after_as_of
        "Sam Lee,2025-04-01,,quarter,East,300.00\n"  # 15 kept, region corrected to West
        "Sam Lee,2025-01-01,,quarter,,notanumber\n"  # 16 unparseable_number
    )
    folder = _import(tmp_path, quotas)
    found = {(i["row"], i["rule"], i["action"], i["column"]) for i in _issues(folder)}
    assert found == {
        (3, "missing_rep", "quarantined", "Rep"),
        (4, "missing_period_start", "quarantined", "Start"),
        (5, "missing_amount", "quarantined", "Quota"),
        (6, "negative_amount", "quarantined", "Quota"),
        (7, "unknown_grain", "quarantined", "Grain"),
        (8, "missing_grain", "quarantined", "Grain"),
        (9, "period_end_before_start", "quarantined", "End"),
        (10, "period_too_long", "quarantined", "End"),
        (11, "overlapping_period", "quarantined", "Start"),
        (12, "unknown_region", "quarantined", "Region"),
        (13, "empty_id", "quarantined", "Rep"),
        (14, "rep_starts_after_as_of", "quarantined", "Start"),
        (15, "rep_region_mismatch", "corrected", "Region"),
        (16, "unparseable_number", "quarantined", "Quota"),
    }
    by_row = {i["row"]: i for i in _issues(folder)}
    assert by_row[11]["value"] == "overlaps line 2"
    assert by_row[15]["region_id"] == "west" and by_row[15]["owner_rep_id"] == "sam-lee"
    assert all(i["amount"] is None for i in _issues(folder))  # quota is not money left out
    assert _quotas(folder) == {
        ("ana-lima", "2025-01-01"): 100.0,
        ("ana-lima", "2025-02-01"): 100.0,
        ("ana-lima", "2025-03-01"): 100.0,
        ("sam-lee", "2025-04-01"): 100.0,
        ("sam-lee", "2025-05-01"): 100.0,
        ("sam-lee", "2025-06-01"): 100.0,
    }
    reps = _table(folder, "reps")
    assert sorted(reps["rep_id"]) == ["ana-lima", "sam-lee"]
    assert dict(zip(reps["rep_id"], reps["region_id"], strict=True))["sam-lee"] == "west"


def test_too_many_bad_quota_rows_stop_the_import(tmp_path: Path) -> None:
    quotas = (
        "Rep,Start,End,Grain,Region,Quota\n"
        "Ana Lima,2025-01-01,,quarter,East,300.00\n"
        "Ana Lima,2025-04-01,,quarter,East,-300.00\n"
    )
    with pytest.raises(ImportDataError, match=r"quotas\.csv: 1 of 2 rows .*negative_amount"):
        _import(tmp_path, quotas, share=0.05)
    assert not (tmp_path / "snaps" / AS_OF).exists()


GRAIN_MAPPING = """name: grain_test
kind: order_lines
max_failed_share: 1.0
sources:
  orders:
    file: orders.csv
    columns:
      order_date: {column: Order Date, type: date}
      customer: {column: Customer}
      region: {column: Region, type: category}
      rep: {column: Sales Rep, type: category, required: false}
      amount: {column: Amount, type: number}
  quotas:
    file: quotas.csv
    columns:
      rep: {column: Rep, type: category}
      period_start: {column: Start, type: date}
      amount: {column: Quota, type: number}
  targets:
    file: targets.csv
    columns:
      region: {column: Region, type: category}
      period_start: {column: Start, type: date}
      amount: {column: Target, type: number}
constants: {quota_grain: quarter, target_grain: year}
"""


def test_a_grain_constant_and_a_targets_file(tmp_path: Path) -> None:
    targets = (
        "Region,Start,Target\n"
        "East,2025-01-01,1200.00\n"
        "west,2025-01-01,100.01\n"  # 10,001 cents / 12: 833 each, 5 cents to Jan-May
        "Nowhere,2025-01-01,5.00\n"  # unknown_region
    )
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "targets.csv").write_text(targets, encoding="utf-8")
    quotas = "Rep,Start,Quota\nAna Lima,2025-01-01,300.00\nSam Lee,2025-04-01,600.00\n"
    folder = tmp_path / "export"
    (folder / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (folder / "quotas.csv").write_text(quotas, encoding="utf-8")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(GRAIN_MAPPING, encoding="utf-8")
    import_snapshot(mapping, [folder], AS_OF, tmp_path / "snaps", force=False)
    snap = tmp_path / "snaps" / AS_OF
    assert _quotas(snap)[("sam-lee", "2025-06-01")] == 200.0
    assert _quotas(snap)[("ana-lima", "2025-01-01")] == 100.0
    t = _table(snap, "region_targets").sort_values(["region_id", "month"])
    east = t[t["region_id"] == "east"]["target_amount"].tolist()
    west = t[t["region_id"] == "west"]["target_amount"].tolist()
    assert east == [100.0] * 12
    assert west == [8.34] * 5 + [8.33] * 7 and round(sum(west), 2) == 100.01
    issues = _issues(snap)
    assert [(i["file"], i["row"], i["rule"]) for i in issues] == [
        ("targets.csv", 4, "unknown_region")
    ]


# --- the mapping format ------------------------------------------------------------------------


def _mapping(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "m.yml"
    path.write_text(MAPPING.format(share=0.05, extra=extra), encoding="utf-8")
    return path


def test_the_shipped_mappings_load() -> None:
    mapping = load_mapping(ROOT / "config" / "mappings" / "order_lines_with_quotas.yml")
    assert set(mapping.sources) == {"orders", "quotas", "targets"}
    load_mapping(ROOT / "config" / "mappings" / "order_lines_template.yml")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("  quotas:", "  quota:"), "unknown: quota"),
        (("      amount: {column: Quota, type: number}\n", ""), "quotas: missing field(s) amount"),
        (
            ("{column: Start, type: date}", "{column: Start}"),
            "quotas.period_start: type must be date",
        ),
        (("      rep: {column: Rep", "      owner: {column: Rep"), "missing field(s) rep"),
    ],
)
def test_a_bad_plan_source_names_the_entry(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    path = _mapping(tmp_path, "")
    path.write_text(path.read_text(encoding="utf-8").replace(*edit, 1), encoding="utf-8")
    with pytest.raises(
        ConfigError,
        match=r"line \d+: sources: .*" + message.replace("(", r"\(").replace(")", r"\)"),
    ):
        load_mapping(path)


def test_a_plan_file_without_a_grain_or_an_end_is_refused(tmp_path: Path) -> None:
    path = _mapping(tmp_path, "")
    text = path.read_text(encoding="utf-8")
    text = text.replace("      period_end: {column: End, type: date, required: false}\n", "")
    text = text.replace("      grain: {column: Grain, type: category, required: false}\n", "")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"constants\.quota_grain"):
        load_mapping(path)
    path.write_text(text + "constants: {quota_grain: fortnight}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'fortnight' is not one of month, quarter, year"):
        load_mapping(path)
    path.write_text(text + "constants: {quota_grain: Quarter}\n", encoding="utf-8")
    assert load_mapping(path).constants["quota_grain"] == "Quarter"
