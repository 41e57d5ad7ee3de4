"""Every planted signal, measured from the generated data.

The truth file only says where to look (which region, week, reps, family, accounts, deals);
each size is measured here from the order lines, quotas and opportunities with DuckDB.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from tests.demo_fixtures import AS_OF, connect, generate, read_truth

SCALE = 200_000
"""Big enough that every planted effect stands well clear of the noise (generates in ~1 s)."""


@dataclass(frozen=True)
class Demo:
    """The last two weekly snapshots, their tables in one DuckDB, and the truth file."""

    last: Path
    previous: Path
    con: duckdb.DuckDBPyConnection
    truth: dict[str, Any]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    previous, last = generate(tmp_path_factory.mktemp("demo-signals"), SCALE, weeks=2)
    con = connect(last, previous)
    yield Demo(last, previous, con, read_truth(last))
    con.close()


def values(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[Any]:
    """The first column of a query's rows."""
    return [row[0] for row in con.execute(sql, params or []).fetchall()]


def test_truth_file_is_the_same_in_every_snapshot_and_sorted(demo: Demo) -> None:
    text = (demo.last / "_truth.json").read_text(encoding="utf-8")
    assert text == (demo.previous / "_truth.json").read_text(encoding="utf-8")
    assert list(demo.truth) == sorted(demo.truth)


def test_q4_is_high_and_summer_low(demo: Demo) -> None:
    by_month = dict(
        demo.con.execute(
            """SELECT month(order_date), sum(amount) / count(DISTINCT year(order_date))
               FROM order_lines WHERE order_date < date_trunc('month', ?::DATE) GROUP BY 1""",
            [AS_OF],
        ).fetchall()
    )
    q4 = np.mean([by_month[m] for m in (10, 11, 12)])
    summer = np.mean([by_month[m] for m in (7, 8)])
    assert q4 / summer > 1.4


def test_last_two_weeks_of_each_quarter_spike(demo: Demo) -> None:
    ratios = values(
        demo.con,
        """WITH days AS (
             SELECT order_date, date_trunc('quarter', order_date) AS quarter, sum(amount) AS b
             FROM order_lines WHERE isodow(order_date) <= 5 GROUP BY ALL),
           flagged AS (
             SELECT *,
               order_date > CAST(quarter + INTERVAL 3 MONTH - INTERVAL 15 DAY AS DATE) AS late
             FROM days)
           SELECT avg(b) FILTER (WHERE late) / avg(b) FILTER (WHERE NOT late) FROM flagged
           GROUP BY quarter HAVING count(*) FILTER (WHERE late) >= 8
              AND count(*) FILTER (WHERE NOT late) >= 40""",
    )
    assert len(ratios) >= 11
    assert min(ratios) > 1.4
    assert np.median(ratios) > 1.7


def test_new_hires_ramp_to_a_plateau_around_month_six(demo: Demo) -> None:
    rows = demo.con.execute(
        """WITH hires AS (
             SELECT rep_id, date_trunc('month', hire_date) AS hire_month FROM reps
             WHERE role = 'rep' AND hire_date > (SELECT min(order_date) FROM order_lines)),
           months AS (
             SELECT DISTINCT date_trunc('month', order_date) AS month FROM order_lines
             WHERE order_date < date_trunc('month', ?::DATE)),
           bookings AS (
             SELECT rep_id, date_trunc('month', order_date) AS month, sum(amount) AS b
             FROM order_lines GROUP BY ALL)
           SELECT datediff('month', h.hire_month, m.month) AS tenure, avg(coalesce(b.b, 0))
           FROM hires h JOIN months m ON m.month >= h.hire_month
           LEFT JOIN bookings b ON b.rep_id = h.rep_id AND b.month = m.month
           GROUP BY tenure ORDER BY tenure LIMIT 14""",
        [AS_OF],
    ).fetchall()
    assert [tenure for tenure, _ in rows] == list(range(14))
    per_month = [bookings for _, bookings in rows]
    plateau = np.mean(per_month[7:13])
    share = np.array(per_month) / plateau
    assert share[0] < 0.15 and share[1] < 0.4  # first months: far from full productivity
    assert 0.4 < share[3] < 0.8  # half-way up the ramp
    assert share[0] < share[2] < share[4] < share[6]  # rising
    assert all(0.8 < s < 1.2 for s in share[6:14])  # flat from about month six


def test_bottleneck_region_negotiates_twice_as_long_and_wins_less(demo: Demo) -> None:
    bottleneck = demo.truth["stage_bottleneck"]["region_id"]
    rows = demo.con.execute(
        """WITH steps AS (
             SELECT opportunity_id, stage, entered_date,
                    lead(entered_date) OVER w AS left_date, lead(stage) OVER w AS next_stage
             FROM opportunity_stage_history
             WINDOW w AS (PARTITION BY opportunity_id ORDER BY sequence))
           SELECT r.region_id, median(s.left_date - s.entered_date),
                  avg((s.next_stage = 'Closed Won')::int), count(*)
           FROM steps s JOIN opportunities o USING (opportunity_id)
           JOIN reps r ON r.rep_id = o.owner_rep_id
           WHERE s.stage = 'Negotiation' AND s.left_date IS NOT NULL GROUP BY 1"""
    ).fetchall()
    days = {region: d for region, d, _, _ in rows}
    wins = {region: w for region, _, w, _ in rows}
    assert len(rows) == 8 and min(n for *_, n in rows) >= 50
    others = [d for region, d in days.items() if region != bottleneck]
    assert 1.6 <= days[bottleneck] / np.median(others) <= 2.5
    assert all(days[bottleneck] > 1.5 * d for d in others)
    assert all(wins[bottleneck] < w - 0.15 for region, w in wins.items() if region != bottleneck)


def _attainment_last_12_months(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Bookings / quota over the last 12 complete months, for reps hired 6+ months before them."""
    rows = con.execute(
        """WITH period AS (
             SELECT range::DATE AS month FROM range(
               date_trunc('month', ?::DATE) - INTERVAL 12 MONTH, date_trunc('month', ?::DATE),
               INTERVAL 1 MONTH)),
           booked AS (
             SELECT rep_id, sum(amount) AS b FROM order_lines
             WHERE date_trunc('month', order_date) IN (SELECT month FROM period) GROUP BY 1),
           quota AS (
             SELECT rep_id, sum(quota_amount) AS q FROM quotas
             WHERE month IN (SELECT month FROM period) GROUP BY 1)
           SELECT r.rep_id, coalesce(b.b, 0) / q.q FROM reps r JOIN quota q USING (rep_id)
           LEFT JOIN booked b USING (rep_id)
           WHERE r.hire_date < (SELECT min(month) FROM period) - INTERVAL 6 MONTH""",
        [AS_OF, AS_OF],
    ).fetchall()
    return dict(rows)


def test_under_performers_and_star_against_quota(demo: Demo) -> None:
    attainment = _attainment_last_12_months(demo.con)
    planted = demo.truth["rep_performance"]
    under = [r["rep_id"] for r in planted["under_performers"]]
    star = planted["star"]["rep_id"]
    assert len(under) == 2
    assert all(attainment[rep] < 0.6 for rep in under)
    assert attainment[star] > 1.5
    ordinary = [a for rep, a in attainment.items() if rep not in (*under, star)]
    assert len(ordinary) >= 60
    assert 0.9 <= np.median(ordinary) <= 1.1
    ranked = sorted(attainment, key=attainment.__getitem__)
    assert set(ranked[:2]) == set(under)
    assert ranked[-1] == star


def _week_vs_neighbours(weekly: dict[dt.date, float], week: dt.date) -> float:
    """Bookings of ``week`` over the median of the four weeks either side."""
    neighbours = [weekly[week + dt.timedelta(weeks=k)] for k in (-4, -3, -2, -1, 1, 2, 3, 4)]
    return weekly[week] / float(np.median(neighbours))


def test_anomalous_week_in_one_region(demo: Demo) -> None:
    planted = demo.truth["anomalous_week"]
    week = dt.date.fromisoformat(planted["week_start"])
    assert week.weekday() == 0
    assert AS_OF - dt.timedelta(days=365) <= week <= AS_OF - dt.timedelta(weeks=13)
    rows = demo.con.execute(
        """SELECT CAST(date_trunc('week', o.order_date) AS DATE), a.region_id = ?, sum(o.amount)
           FROM order_lines o JOIN accounts a USING (account_id) GROUP BY ALL""",
        [planted["region_id"]],
    ).fetchall()
    inside = {w: b for w, in_region, b in rows if in_region}
    outside = {w: b for w, in_region, b in rows if not in_region}
    assert _week_vs_neighbours(inside, week) <= 0.6
    assert 0.8 <= _week_vs_neighbours(outside, week) <= 1.25


def test_price_increase_on_one_family(demo: Demo) -> None:
    planted = demo.truth["price_increase"]
    rows = demo.con.execute(
        """SELECT p.family, avg(o.unit_price) FILTER (WHERE o.order_date >= ?)
                  / avg(o.unit_price) FILTER (WHERE o.order_date < ?), count(*)
           FROM order_lines o JOIN products p USING (product_id) GROUP BY p.family, p.product_id""",
        [dt.date.fromisoformat(planted["effective_date"])] * 2,
    ).fetchall()
    raised = [ratio for family, ratio, _ in rows if family == planted["family"] and ratio]
    unchanged = [ratio for family, ratio, _ in rows if family != planted["family"] and ratio]
    assert len(raised) >= 5 and len(unchanged) >= 30
    assert all(abs(r - 1.08) < 0.001 for r in raised)
    assert all(abs(r - 1.0) < 1e-9 for r in unchanged)
    # the catalogue's list price is the price in force now
    stale = values(
        demo.con,
        """SELECT count(*) FROM order_lines o JOIN products p USING (product_id)
           WHERE o.order_date >= ? AND o.unit_price <> p.list_price""",
        [dt.date.fromisoformat(planted["effective_date"])],
    )
    assert stale == [0]


def test_behaviour_groups_are_recovered_by_clustering(demo: Demo) -> None:
    features = demo.con.execute(
        """SELECT o.account_id,
                  ln(1 + datediff('day', max(o.order_date), ?::DATE)) AS recency,
                  ln(count(DISTINCT o.order_id) * 365.0
                     / (datediff('day', min(o.order_date), ?::DATE) + 30)) AS frequency,
                  ln(sum(o.amount) / count(DISTINCT o.order_id)) AS order_value,
                  avg(o.discount) AS discount,
                  avg((p.family = 'Hardware')::int) AS hardware,
                  avg((p.family = 'Software Licenses')::int) AS software,
                  avg((p.family = 'Subscriptions')::int) AS subscriptions,
                  avg((p.family = 'Professional Services')::int) AS services,
                  avg((p.family = 'Support')::int) AS support,
                  avg((p.family = 'Training')::int) AS training
           FROM order_lines o JOIN products p USING (product_id)
           GROUP BY 1 HAVING count(DISTINCT o.order_id) >= 3 ORDER BY 1""",
        [AS_OF, AS_OF],
    ).df()
    groups = demo.truth["behaviour_groups"]["account_groups"]
    assert len(groups) == len(values(demo.con, "SELECT account_id FROM accounts"))
    assert len(set(groups.values())) == 5
    labels = features["account_id"].map(groups)
    assert len(features) >= 0.6 * len(groups)
    x = StandardScaler().fit_transform(features.drop(columns="account_id"))
    clusters = KMeans(n_clusters=5, n_init=10, random_state=0).fit_predict(x)
    assert adjusted_rand_score(labels, clusters) >= 0.8
    # and the groups differ in the plain numbers too
    medians = features.assign(group=labels).groupby("group").median(numeric_only=True)
    assert medians["recency"].idxmax() == "lapsed_churned"
    assert medians["discount"].idxmax() == "enterprise_loyal"
    assert medians["order_value"].idxmin() == "smb_occasional"
    assert medians["hardware"].idxmax() == "hardware_heavy"
    assert medians["services"].idxmax() == "services_growing"


def test_services_growing_accounts_order_more_over_time(demo: Demo) -> None:
    groups = demo.truth["behaviour_groups"]["account_groups"]
    growing = [a for a, g in groups.items() if g == "services_growing"]
    first_year, last_year = demo.con.execute(
        """SELECT sum(amount) FILTER (WHERE order_date < ?::DATE - INTERVAL 2 YEAR),
                  sum(amount) FILTER (WHERE order_date >= ?::DATE - INTERVAL 1 YEAR)
           FROM order_lines WHERE account_id IN (SELECT unnest(?::VARCHAR[]))""",
        [AS_OF, AS_OF, growing],
    ).fetchone()
    assert last_year > 2 * first_year


def test_planted_slips_and_pull_ins_between_the_last_two_snapshots(demo: Demo) -> None:
    moves = demo.truth["pipeline_moves"]
    assert moves["previous_as_of"] == demo.previous.name and moves["as_of"] == demo.last.name
    assert len(moves["slips"]) == 20 and len(moves["pull_ins"]) == 10

    def compare(ids: list[str]) -> list[tuple]:
        return demo.con.execute(
            """SELECT p.close_date, o.close_date, p.stage, o.stage, p.amount, o.amount,
                      p.push_count, o.push_count, o.opportunity_id
               FROM opportunities o JOIN prev_opportunities p USING (opportunity_id)
               WHERE o.opportunity_id IN (SELECT unnest(?::VARCHAR[]))""",
            [ids],
        ).fetchall()

    slips = compare([m["opportunity_id"] for m in moves["slips"]])
    pull_ins = compare([m["opportunity_id"] for m in moves["pull_ins"]])
    assert len(slips) == 20 and len(pull_ins) == 10
    for old, new, old_stage, stage, _, _, old_push, push, _ in slips:
        assert new > old and push == old_push + 1
        assert not old_stage.startswith("Closed") and not stage.startswith("Closed")
    for old, new, old_stage, stage, old_amount, amount, _, _, _ in pull_ins:
        assert AS_OF < new < old
        assert stage == old_stage and amount == old_amount and not stage.startswith("Closed")
    recorded = {
        m["opportunity_id"]: m["new_close_date"] for m in moves["slips"] + moves["pull_ins"]
    }
    assert all(recorded[opp] == new.isoformat() for _, new, *_, opp in slips + pull_ins)
