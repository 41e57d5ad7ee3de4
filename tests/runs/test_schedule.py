"""Cron fire times of the scheduled jobs, and `salesops schedule --next`."""

from __future__ import annotations

import datetime as dt

import pytest

from salesops_lib.runs.jobs import Job, crontab_for_apscheduler, next_fire_times
from salesops_lib.runs.scheduler import next_fire_table
from tests.cli.in_process import run_cli
from tests.conftest import Workspace

THURSDAY_NOON = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def _job(cron: str, timezone: str = "UTC") -> Job:
    return Job(name="j", notebooks=(), regions=("all",), cron=cron, timezone=timezone)


def test_weekly_monday_six_fires_on_the_next_mondays() -> None:
    times = next_fire_times(_job("0 6 * * mon"), THURSDAY_NOON, count=3)
    assert [t.weekday() for t in times] == [0, 0, 0]  # Monday
    assert [t.astimezone(dt.UTC).replace(tzinfo=None) for t in times] == [
        dt.datetime(2026, 11, 30, 6),
        dt.datetime(2026, 12, 7, 6),
        dt.datetime(2026, 12, 14, 6),
    ]


def test_a_fire_time_equal_to_now_is_not_listed() -> None:
    at_fire = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)
    (first,) = next_fire_times(_job("0 6 * * mon"), at_fire)
    assert first == at_fire + dt.timedelta(days=7)


@pytest.mark.parametrize(("field", "weekday"), [("1", 0), ("0", 6), ("7", 6), ("5", 4)])
def test_numeric_weekdays_follow_standard_cron(field: str, weekday: int) -> None:
    """Crontab counts Sunday = 0 (or 7), Monday = 1; APScheduler 3 alone would count Monday = 0."""
    times = next_fire_times(_job(f"0 6 * * {field}"), THURSDAY_NOON, count=2)
    assert [t.weekday() for t in times] == [weekday, weekday]
    assert times[1] - times[0] == dt.timedelta(days=7)


def test_ranges_and_lists_of_weekdays_are_translated() -> None:
    assert crontab_for_apscheduler("0 6 * * 1-5") == "0 6 * * mon-fri"
    assert crontab_for_apscheduler("15 */2 1 * 0,6") == "15 */2 1 * sun,sat"
    weekdays = next_fire_times(_job("0 6 * * 1-5"), THURSDAY_NOON, count=5)
    assert [t.date().isoformat() for t in weekdays] == [
        "2026-11-27",
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
    ]


def test_time_zone_of_the_cron_expression_is_respected() -> None:
    winter = next_fire_times(_job("0 6 * * mon", "Europe/Berlin"), THURSDAY_NOON)[0]
    assert winter.astimezone(dt.UTC) == dt.datetime(2026, 11, 30, 5, 0, tzinfo=dt.UTC)  # CET
    july = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    summer = next_fire_times(_job("0 6 * * mon", "Europe/Berlin"), july)[0]
    assert summer.astimezone(dt.UTC) == dt.datetime(2026, 7, 6, 4, 0, tzinfo=dt.UTC)  # CEST


def test_next_fire_table_lists_every_job() -> None:
    jobs = {"default": _job("0 6 * * mon"), "monthly": _job("30 7 1 * *")}
    lines = next_fire_table(jobs, THURSDAY_NOON, count=2)
    assert lines == [
        "default  0 6 * * mon (UTC)  2026-11-30T06:00:00+00:00, 2026-12-07T06:00:00+00:00",
        "monthly  30 7 1 * * (UTC)  2026-12-01T07:30:00+00:00, 2027-01-01T07:30:00+00:00",
    ]


def test_schedule_next_command_prints_the_default_jobs_fire_times(
    tiny_workspace: Workspace,
) -> None:
    result = run_cli(
        tiny_workspace.env(), "schedule", "--next", "--now", "2026-11-26T12:00", "--count", "2"
    )
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]  # names are padded
    assert "default 0 6 * * mon (UTC) 2026-11-30T06:00:00+00:00, 2026-12-07T06:00:00+00:00" in lines
