"""End to end: an order book plus a quota file and a targets file, through `salesops import`.

The fixture (tests/import_corpus/quotas/, made by make_files.py) has reps in two regions, quota
rows by month, quarter and year, a rep hired mid-quarter, a half year given by an end date, a
rep with a quota and no order line, and two rows the import quarantines. Every expected figure
comes from a plain DuckDB query over the CSV files, written here independently of the importer:
the quota file's rows are spread over their months by splitting the cents evenly and giving the
remainder to the earliest months; the one row that starts mid-month lies inside one quarter (the
test checks it), so per quarter that equals the documented day-weighted rule.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.data.warehouse import Warehouse
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "import_corpus" / "quotas"
MAPPING = ROOT / "config" / "mappings" / "order_lines_with_quotas.yml"
SALESOPS = Path(sys.executable).with_name("salesops")
AS_OF = "2025-11-14"
ORDERS, QUOTAS, TARGETS = (FIXTURE / f"{n}.csv" for n in ("orders", "quotas", "targets"))


def _salesops(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SALESOPS), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A workspace (regions East and West) with the fixture imported by `salesops import`."""
    folder = tmp_path_factory.mktemp("quotas")
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text(encoding="utf-8"))
    config["regions"] = [{"id": "east", "name": "East"}, {"id": "west", "name": "West"}]
    config["paths"] = {"snapshots": str(folder / "snapshots"), "reports": str(folder / "reports")}
    path = folder / "workbench.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "SALESOPS_CONFIG": str(path), "SALESOPS_HOME": str(ROOT)}
    args = ["import", str(MAPPING), str(ORDERS), str(QUOTAS), str(TARGETS), "--as-of", AS_OF]
    imported = _salesops(args, env)
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert "quarantined source rows: 2" in imported.stdout
    return folder, env


_PLAN_SQL = """
with raw as (
    select row_number() over () + 1 as line, * from read_csv('{path}', all_varchar = true)
),
plan_rows as (
    select
        line,
        {key} as key,
        lower(trim({region})) as region,
        cast("Period Start" as date) as s,
        coalesce(
            cast({end_col} as date),
            case lower(trim("Grain"))
                when 'month' then last_day(cast("Period Start" as date))
                when 'quarter' then last_day(
                    cast(date_trunc('quarter', cast("Period Start" as date)) as date)
                    + interval 2 month)
                when 'year' then make_date(year(cast("Period Start" as date)), 12, 31)
            end
        ) as e,
        cast(round(cast(replace({amount}, ',', '') as decimal(18, 2)) * 100) as bigint) as cents
    from raw
),
valid as (
    select * from plan_rows
    where cents >= 0 and (region is null or region in ('east', 'west'))
),
months as (
    select line, key, region, s, e, cents,
        unnest(generate_series(date_trunc('month', s), date_trunc('month', e),
                               interval 1 month)) as m
    from valid
),
numbered as (
    select *,
        row_number() over (partition by line order by m) - 1 as i,
        count(*) over (partition by line) as k
    from months
)
select key, region, cast(m as date) as month, s, e,
    cents // k + case when i < cents % k then 1 else 0 end as cents
from numbered
"""

_REP = "lower(regexp_replace(trim(\"Sales Rep\"), '\\s+', ' ', 'g'))"


def _quota_months() -> pd.DataFrame:
    sql = _PLAN_SQL.format(
        path=QUOTAS, key=_REP, region='"Region"', end_col='"Period End"', amount='"Quota"'
    )
    return duckdb.sql(sql).df()


def _rep_regions() -> dict[str, str]:
    """Region of every rep: the order book's (one region per rep), else the quota file's."""
    sql = f"""
        select rep, any_value(region) from (
            select {_REP} as rep, lower("Region") as region
            from read_csv('{ORDERS}', all_varchar = true)
            union all
            select {_REP}, lower("Region") from read_csv('{QUOTAS}', all_varchar = true)
            where "Region" is not null and lower("Region") in ('east', 'west')
              and {_REP} not in (select {_REP} from read_csv('{ORDERS}', all_varchar = true))
        ) group by rep
    """
    return dict(duckdb.sql(sql).fetchall())


def _sql_quarters() -> dict[tuple[str, int], tuple[int, int]]:
    """(rep, quarter of 2025) -> (quota cents, bookings cents) for Q1-Q3, from the CSV files."""
    quota_months = _quota_months()  # noqa: F841  (read by the query below)
    sql = f"""
        with quota as (
            select key as rep, quarter(month) as q, sum(cents) as cents
            from quota_months where year(month) = 2025 group by all
        ),
        booked as (
            select {_REP} as rep, quarter(cast("Order Date" as date)) as q,
                cast(sum(cast("Amount" as decimal(18, 2))) * 100 as bigint) as cents
            from read_csv('{ORDERS}', all_varchar = true) group by all
        )
        select quota.rep, quota.q, quota.cents, coalesce(booked.cents, 0)
        from quota left join booked using (rep, q)
        where quota.q <= 3
    """
    return {(r, q): (int(c), int(b)) for r, q, c, b in duckdb.sql(sql).fetchall()}


def test_the_mid_month_row_lies_inside_one_quarter() -> None:
    quota_months = _quota_months()  # noqa: F841
    partial = duckdb.sql(
        "select distinct key, s, e from quota_months where day(s) <> 1 or e <> last_day(e)"
    ).fetchall()
    assert len(partial) == 1
    (_, start, end) = partial[0]
    assert (start.year, (start.month - 1) // 3) == (end.year, (end.month - 1) // 3)


def test_attainment_per_rep_and_quarter_equals_sql_over_the_files(
    workspace: tuple[Path, dict[str, str]],
) -> None:
    folder, _ = workspace
    snapshot = open_snapshot(folder / "snapshots", AS_OF, verify=True)
    with Warehouse(snapshot) as wh:
        rows = wh.query(
            "select lower(regexp_replace(trim(r.rep_name), '\\s+', ' ', 'g')) as rep, "
            "quarter(a.month) as q, sum(a.quota_amount) as quota, "
            "sum(a.bookings_amount) as bookings, "
            "sum(a.bookings_amount) / sum(a.quota_amount) as attainment "
            "from fct_quota_attainment a join dim_reps r using (rep_id) "
            "where year(a.month) = 2025 and quarter(a.month) <= 3 group by all"
        )
        reps = wh.query("select rep_name, region_id, hire_date from dim_reps")
    expected = _sql_quarters()
    got = {
        (r, int(q)): (round(float(quota) * 100), round(float(booked) * 100))
        for r, q, quota, booked in zip(
            rows["rep"], rows["q"], rows["quota"], rows["bookings"], strict=True
        )
    }
    assert got == expected
    assert len(expected) == 10 * 3 - 2  # 10 reps, Jonas Berg from Q3 only
    for r, q, attained in zip(rows["rep"], rows["q"], rows["attainment"], strict=True):
        quota, booked = expected[(r, int(q))]
        assert float(attained) == pytest.approx(booked / quota, rel=1e-12)
    assert expected[("jonas berg", 3)] == (10_000_000, 0)  # a quota and no order line: 0%
    regions = dict(zip(reps["rep_name"].str.lower(), reps["region_id"], strict=True))
    assert regions == _rep_regions()
    hired = dict(zip(reps["rep_name"], reps["hire_date"].astype(str), strict=True))
    assert hired["Elif Kaya"] == "2025-02-15" and hired["Jonas Berg"] == "2025-07-01"


def test_region_targets_per_quarter_equal_sql_over_the_file(
    workspace: tuple[Path, dict[str, str]],
) -> None:
    folder, _ = workspace
    sql = _PLAN_SQL.format(
        path=TARGETS, key='lower("Region")', region='"Region"', end_col="null", amount='"Target"'
    )
    target_months = duckdb.sql(sql).df()  # noqa: F841
    expected = dict(
        duckdb.sql(
            "select key || ' Q' || quarter(month), sum(cents) from target_months group by all"
        ).fetchall()
    )
    snapshot = open_snapshot(folder / "snapshots", AS_OF, verify=True)
    with Warehouse(snapshot) as wh:
        got = wh.query(
            "select region_id || ' Q' || quarter(month) as k, "
            "cast(sum(target_amount) * 100 as bigint) as cents "
            "from fct_region_targets group by all"
        )
    assert dict(zip(got["k"], got["cents"], strict=True)) == expected
    # By hand: 2,600,000.00 a year is 260,000,000 cents = 12 x 21,666,666 + 8, so January to
    # August get one cent more and Q1 is 3 x 21,666,667.
    assert expected["west Q4"] == 76_000_003 and expected["east Q1"] == 65_000_001


def _sql_quarter_headline(region: str) -> tuple[float, float, float]:
    """Q4 2025 for a region (or ``all``): full-quarter quota of its reps, lines booked in it from
    Oct 1 to the as-of date, and their ratio."""
    quota_months = _quota_months()  # noqa: F841
    reps = _rep_regions()
    quota_rows = duckdb.sql(
        "select key, sum(cents) from quota_months "
        "where month between date '2025-10-01' and date '2025-12-01' group by key"
    ).fetchall()
    quota = sum(c for rep, c in quota_rows if region == "all" or reps[rep] == region)
    (booked,) = duckdb.sql(
        f"""select cast(sum(cast("Amount" as decimal(18, 2))) * 100 as bigint)
            from read_csv('{ORDERS}', all_varchar = true)
            where cast("Order Date" as date) between date '2025-10-01' and date '{AS_OF}'
              and ('{region}' = 'all' or lower("Region") = '{region}')"""
    ).fetchone()
    return quota / 100, booked / 100, booked / quota


def test_performance_headline_attainment_equals_sql(
    workspace: tuple[Path, dict[str, str]],
) -> None:
    folder, env = workspace
    ran = _salesops(
        ["run", "-n", "10-performance", "-r", "east", "-r", "all", "--workers", "2"], env
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    records = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (folder / "reports" / "_runs").glob("*.json")
    ]
    headlines = {r["region"]: r["headlines"] for r in records if r["status"] == "ok"}
    assert set(headlines) == {"east", "all"}
    for region, numbers in headlines.items():
        quota, booked, attained = _sql_quarter_headline(region)
        assert numbers["period"] == "qtd"
        assert numbers["quota_period"] == round(quota, 2), region
        assert numbers["bookings_period"] == round(booked, 2), region
        assert numbers["attainment_period"] == round(attained, 4), region
