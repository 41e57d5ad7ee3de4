"""The payout ledger: append-only runs, period locks, prior-period adjustments.

The ledger is exercised with hand-made payout results (the engine's contract columns), so every
expected figure is hand-worked; ``test_ledger_engine.py`` runs it behind the real engine.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from salesops_lib.analytics.compensation.ledger import (
    adjustments_since,
    latest_run,
    list_runs,
    load_run,
    lock_period,
    locked_periods,
    record_payout_run,
)
from salesops_lib.analytics.compensation.ledger_files import next_period, period_range
from salesops_lib.analytics.compensation.model import LINE_COLUMNS, PAYOUT_COLUMNS, PayoutResult
from salesops_lib.core.errors import ContractError, ParameterError

AS_OF = dt.date(2026, 4, 10)


def _period_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    if "-Q" in label:
        year, quarter = label.split("-Q")
        start = pd.Timestamp(int(year), 3 * int(quarter) - 2, 1)
        return start, start + pd.offsets.QuarterEnd(0)
    start = pd.Timestamp(label + "-01")
    return start, start + pd.offsets.MonthEnd(0)


def make_result(payouts: list[tuple[str, str, float]], lines: list[tuple]) -> PayoutResult:
    """Payouts ``(rep, period, payout)`` on plan P; lines ``(rep, period, deal, credit, amount,
    kind)``."""
    rows = []
    for rep, period, payout in payouts:
        start, end = _period_bounds(period)
        row = dict.fromkeys(PAYOUT_COLUMNS, 0.0)
        row.update(
            rep_id=rep,
            plan_id="P",
            period=period,
            period_start=start,
            period_end=end,
            commission=payout,
            payout=payout,
            gate_met=True,
            capped=False,
        )
        rows.append(row)
    line_rows = [
        {
            "rep_id": rep,
            "plan_id": "P",
            "period": period,
            "deal_id": deal,
            "credit_date": _period_bounds(period)[0],
            "credit": credit,
            "tier": "T1",
            "rate": 0.1,
            "amount": amount,
            "kind": kind,
            "note": "",
        }
        for rep, period, deal, credit, amount, kind in lines
    ]
    return PayoutResult(
        pd.DataFrame(rows, columns=list(PAYOUT_COLUMNS)),
        pd.DataFrame(line_rows, columns=list(LINE_COLUMNS)),
    )


JAN_FEB = make_result(
    [("A", "2026-01", 100.10), ("A", "2026-02", 50.00), ("B", "2026-01", 20.00)],
    [
        ("A", "2026-01", "D1", 1001.0, 100.10, "commission"),
        ("A", "2026-02", "D2", 500.0, 50.00, "commission"),
        ("B", "2026-01", "D3", 200.0, 20.00, "commission"),
    ],
)
SPLIT_CORRECTED = make_result(
    [("A", "2026-01", 60.05), ("A", "2026-02", 50.00), ("B", "2026-01", 20.00)],
    [
        ("A", "2026-01", "D1", 600.5, 60.05, "commission"),
        ("A", "2026-02", "D2", 500.0, 50.00, "commission"),
        ("B", "2026-01", "D3", 200.0, 20.00, "commission"),
    ],
)


def record(ledger: Path, result: PayoutResult, **kwargs: object):
    return record_payout_run(
        ledger, result, inputs={"credits": "abc"}, plan_version="v1", as_of=AS_OF, **kwargs
    )


def _files(ledger: Path) -> dict[Path, tuple[bytes, int]]:
    return {
        p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(ledger.rglob("*")) if p.is_file()
    }


def test_period_labels() -> None:
    assert period_range("2026-02") == (pd.Timestamp(2026, 2, 1), pd.Timestamp(2026, 2, 28))
    assert period_range("2026-Q4") == (pd.Timestamp(2026, 10, 1), pd.Timestamp(2026, 12, 31))
    assert period_range("2027") == (pd.Timestamp(2027, 1, 1), pd.Timestamp(2027, 12, 31))
    assert [next_period(p) for p in ("2026-12", "2026-Q4", "2026", "2026-01")] == [
        "2027-01",
        "2027-Q1",
        "2027",
        "2026-02",
    ]
    for bad in ("2026-13", "2026-Q5", "26-01", "2026/01", "../x"):
        with pytest.raises(ParameterError, match="YYYY-MM, YYYY-Qn or YYYY"):
            period_range(bad)


def test_a_run_records_inputs_plan_and_payouts(tmp_path: Path) -> None:
    credits = tmp_path / "credits.csv"
    credits.write_text("rep_id,credit_date,amount\nA,2026-01-05,1001\n")
    run = record_payout_run(
        tmp_path / "ledger",
        JAN_FEB,
        inputs={"credits": credits, "snapshot": "checksum-123"},
        plan_version="v1",
        as_of=AS_OF,
        plan_text="plans: {}\n",
        now="2026-04-10T08:00:00+00:00",
    )
    import hashlib

    assert run.inputs == {
        "credits": hashlib.sha256(credits.read_bytes()).hexdigest(),
        "snapshot": "checksum-123",
    }
    assert run.seq == 1 and run.run_id.startswith("000001-")
    assert (run.recorded_at, run.as_of, run.plan_version) == (
        "2026-04-10T08:00:00+00:00",
        AS_OF,
        "v1",
    )
    assert run.periods == ("2026-01", "2026-02")
    assert run.plan_text == "plans: {}\n"
    assert run.payouts["payout_due"].tolist() == [100.10, 50.00, 20.00]
    assert not run.payouts["locked"].any() and (run.payouts["adjustment"] == 0).all()
    assert run.adjustments.empty
    assert latest_run(tmp_path / "ledger").run_id == run.run_id
    assert load_run(tmp_path / "ledger", run.run_id).payouts.equals(run.payouts)


def test_runs_are_append_only(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    first = record(ledger, JAN_FEB)
    before = _files(ledger)
    lock_period(ledger, "2026-01", by="ops", reason="paid in February payroll")
    second = record(ledger, SPLIT_CORRECTED)
    third = record(ledger, SPLIT_CORRECTED)
    after = _files(ledger)
    for path, (content, mtime) in before.items():
        assert after[path] == (content, mtime), f"{path} was rewritten"
    assert len(after) > len(before)
    assert list(list_runs(ledger)["run_id"]) == [first.run_id, second.run_id, third.run_id]
    assert [r.seq for r in (first, second, third)] == [1, 2, 3]
    leftovers = [p for p in ledger.rglob(".*") if p.name != ".writer.lock"]
    assert not leftovers, "no temporary files are left behind"


def test_corrected_split_after_lock_posts_an_adjustment(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    record(ledger, JAN_FEB)
    lock_period(ledger, "2026-01", by="ops")
    run = record(ledger, SPLIT_CORRECTED, reason="corrected split")
    # the locked period is unchanged: A's January stays 100.10
    jan = run.payouts[(run.payouts["rep_id"] == "A") & (run.payouts["period"] == "2026-01")]
    assert jan["payout"].tolist() == [100.10] and jan["locked"].tolist() == [True]
    # one adjustment: booked 100.10, now 60.05, posted in February (the first unlocked month)
    adjustment = run.adjustments.iloc[0]
    assert len(run.adjustments) == 1
    assert (adjustment["rep_id"], adjustment["period"], adjustment["posted_period"]) == (
        "A",
        "2026-01",
        "2026-02",
    )
    assert (adjustment["old_value"], adjustment["new_value"], adjustment["amount"]) == (
        100.10,
        60.05,
        -40.05,
    )
    assert adjustment["reason"].startswith("corrected split: deal D1 commission")
    assert "credit 1,001.00 -> 600.50" in adjustment["reason"]
    feb = run.payouts[(run.payouts["rep_id"] == "A") & (run.payouts["period"] == "2026-02")]
    assert feb[["payout", "adjustment", "payout_due"]].values.tolist() == [[50.0, -40.05, 9.95]]
    line = run.lines[run.lines["kind"] == "adjustment"]
    assert line[["rep_id", "period", "amount"]].values.tolist() == [["A", "2026-02", -40.05]]
    assert "prior-period adjustment for 2026-01" in line["note"].iloc[0]
    assert "booked 100.10, now 60.05" in line["note"].iloc[0]
    # B did not change: no adjustment
    assert set(run.adjustments["rep_id"]) == {"A"}


def test_a_repeated_run_posts_nothing_new_and_keeps_the_posted_adjustment(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    first = record(ledger, JAN_FEB)
    lock_period(ledger, "2026-01", by="ops")
    second = record(ledger, SPLIT_CORRECTED)
    third = record(ledger, SPLIT_CORRECTED)
    assert third.adjustments.empty
    feb = third.payouts[(third.payouts["rep_id"] == "A") & (third.payouts["period"] == "2026-02")]
    assert feb["payout_due"].tolist() == [9.95]
    # a further change is priced against the booked value (paid + adjustments): 60.05 -> 70.00
    later = make_result(
        [("A", "2026-01", 70.00), ("A", "2026-02", 50.00), ("B", "2026-01", 20.00)],
        [("A", "2026-01", "D1", 700.0, 70.00, "commission")],
    )
    fourth = record(ledger, later)
    assert fourth.adjustments[["old_value", "new_value", "amount"]].values.tolist() == [
        [60.05, 70.00, 9.95]
    ]
    feb = fourth.payouts[
        (fourth.payouts["rep_id"] == "A") & (fourth.payouts["period"] == "2026-02")
    ]
    assert feb[["adjustment", "payout_due"]].values.tolist() == [[-30.10, 19.90]]
    since = adjustments_since(ledger, first.run_id)
    assert since["run_id"].tolist() == [second.run_id, fourth.run_id]
    assert adjustments_since(ledger, second.run_id)["run_id"].tolist() == [fourth.run_id]
    assert len(adjustments_since(ledger)) == 2
    with pytest.raises(ParameterError, match="no run"):
        adjustments_since(ledger, "000009-0000000000000000")


def test_cancelled_deal_in_locked_months_posts_in_the_first_unlocked_month(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    record(ledger, JAN_FEB)
    lock_period(ledger, "2026-01", by="ops")
    lock_period(ledger, "2026-02", by="ops")
    # deal D1 (January) was cancelled in February: the engine claws back in February
    clawed = make_result(
        [("A", "2026-01", 100.10), ("A", "2026-02", 19.97), ("B", "2026-01", 20.00)],
        [
            ("A", "2026-01", "D1", 1001.0, 100.10, "commission"),
            ("A", "2026-02", "D2", 500.0, 50.00, "commission"),
            ("A", "2026-02", "D1", 0.0, -30.03, "clawback"),
            ("B", "2026-01", "D3", 200.0, 20.00, "commission"),
        ],
    )
    run = record(ledger, clawed)
    assert run.adjustments[
        ["period", "posted_period", "old_value", "new_value", "amount"]
    ].values.tolist() == [["2026-02", "2026-03", 50.00, 19.97, -30.03]]
    assert "deal D1 clawback added (-30.03)" in run.adjustments["reason"].iloc[0]
    paid = run.payouts[run.payouts["locked"]].sort_values(["rep_id", "period"])
    assert paid[["rep_id", "period", "payout"]].values.tolist() == [
        ["A", "2026-01", 100.10],
        ["A", "2026-02", 50.00],
        ["B", "2026-01", 20.00],
    ]
    # March had no row for A: one is created for the adjustment
    march = run.payouts[run.payouts["period"] == "2026-03"]
    assert march[["rep_id", "payout", "adjustment", "payout_due", "locked"]].values.tolist() == [
        ["A", 0.0, -30.03, -30.03, False]
    ]
    assert march["period_start"].iloc[0] == pd.Timestamp(2026, 3, 1)


def test_a_quarter_lock_covers_its_months(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    record(ledger, JAN_FEB)
    lock = lock_period(ledger, "2026-Q1", by="ops", reason="quarter closed")
    assert (lock.period_start, lock.period_end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    run = record(ledger, SPLIT_CORRECTED)
    assert run.adjustments["posted_period"].tolist() == ["2026-04"]
    frame = locked_periods(ledger)
    assert frame[["period", "by", "reason"]].values.tolist() == [
        ["2026-Q1", "ops", "quarter closed"]
    ]


def test_reps_and_periods_a_run_does_not_cover_are_not_adjusted(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    record(ledger, JAN_FEB)
    lock_period(ledger, "2026-01", by="ops")
    only_a_february = make_result(
        [("A", "2026-02", 50.00)], [("A", "2026-02", "D2", 500.0, 50.00, "commission")]
    )
    run = record(ledger, only_a_february)
    assert run.adjustments.empty
    only_b = make_result(
        [("B", "2026-01", 25.00)], [("B", "2026-01", "D3", 250.0, 25.0, "commission")]
    )
    run = record(ledger, only_b)
    assert run.adjustments[["rep_id", "amount", "posted_period"]].values.tolist() == [
        ["B", 5.00, "2026-02"]
    ]


def test_lock_rules(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    with pytest.raises(ParameterError, match="no recorded payout run has a row in period 2026-01"):
        lock_period(ledger, "2026-01", by="ops")
    record(ledger, JAN_FEB)
    with pytest.raises(ParameterError, match="no recorded payout run has a row in period 2026-05"):
        lock_period(ledger, "2026-05", by="ops")
    with pytest.raises(ParameterError, match="YYYY-MM"):
        lock_period(ledger, "January", by="ops")
    lock_period(ledger, "2026-01", by="ops", now="2026-02-05T09:00:00+00:00")
    with pytest.raises(ParameterError, match=r"already locked \(by 'ops' at 2026-02-05"):
        lock_period(ledger, "2026-01", by="someone else")
    assert locked_periods(ledger)["by"].tolist() == ["ops"]


def test_a_changed_file_is_caught(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    run = record(ledger, JAN_FEB)
    payouts = run.folder / "payouts.parquet"
    payouts.write_bytes(payouts.read_bytes() + b"x")
    with pytest.raises(ContractError, match=r"payouts.parquet: missing or changed after it was"):
        load_run(ledger, run.run_id)
    (ledger / "runs" / "stray").mkdir()
    with pytest.raises(ContractError, match="stray: not a run folder"):
        list_runs(ledger)


def test_bad_results_are_refused(tmp_path: Path) -> None:
    twice = make_result([("A", "2026-01", 1.0), ("A", "2026-01", 2.0)], [])
    with pytest.raises(ParameterError, match="rep 'A', plan 'P', period '2026-01' appears twice"):
        record(tmp_path / "ledger", twice)
    empty = make_result([], [])
    with pytest.raises(ParameterError, match="no rows"):
        record(tmp_path / "ledger", empty)
    assert not (tmp_path / "ledger" / "runs").exists()


def test_a_row_new_in_a_locked_period_is_adjusted_from_zero(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    record(ledger, make_result([("A", "2026-01", 10.0)], []))
    lock_period(ledger, "2026-01", by="ops")
    late = make_result(
        [("A", "2026-01", 10.0), ("C", "2026-01", 7.5)],
        [("C", "2026-01", "D9", 75.0, 7.5, "commission")],
    )
    run = record(ledger, late, reason="late booking")
    assert run.adjustments[
        ["rep_id", "old_value", "new_value", "amount", "posted_period"]
    ].values.tolist() == [["C", 0.0, 7.5, 7.5, "2026-02"]]
    assert run.adjustments["reason"].tolist() == ["late booking: deal D9 commission added (7.50)"]
    # C's January is locked (nothing was paid): no row; the 7.50 is due in February
    c_rows = run.payouts[run.payouts["rep_id"] == "C"]
    assert c_rows[["period", "payout", "payout_due", "locked"]].values.tolist() == [
        ["2026-02", 0.0, 7.5, False]
    ]


def _record_corrected(ledger: str) -> int:
    return len(record(Path(ledger), SPLIT_CORRECTED).adjustments)


def test_two_writers_at_once_post_an_adjustment_once(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ledger = tmp_path / "ledger"
    record(ledger, JAN_FEB)
    lock_period(ledger, "2026-01", by="ops")
    with ThreadPoolExecutor(2) as pool:  # flock also excludes two opens in one process
        posted = list(pool.map(_record_corrected, [str(ledger)] * 2))
    assert sorted(posted) == [0, 1]
    assert adjustments_since(ledger)["amount"].tolist() == [-40.05]
    assert list_runs(ledger)["seq"].tolist() == [1, 2, 3]
