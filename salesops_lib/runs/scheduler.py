"""``salesops schedule``: fire the jobs of ``config/schedule.yml`` on their cron expressions.

Uses APScheduler 3's ``BlockingScheduler`` in the foreground, one cron trigger per job. A firing
runs the job exactly as ``salesops run JOB`` would (latest snapshot, the job's regions, notebooks
and parameters, unchanged runs skipped). One firing of a job at a time; a firing missed by less
than the grace time (the machine was busy or asleep) still runs once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from rich.console import Console

from salesops_lib.runs.jobs import Job, cron_trigger, next_fire_times

MISFIRE_GRACE_S = 3600


def next_fire_table(jobs: Mapping[str, Job], now: dt.datetime, count: int = 1) -> list[str]:
    """Lines listing the next fire times of every job after ``now``.

    Args:
        jobs: The jobs by name.
        now: An aware datetime to count from.
        count: Fire times per job.

    Returns:
        One line per job: ``<job>  <cron> (<tz>)  <time>[, <time>...]`` in ISO format.
    """
    width = max((len(name) for name in jobs), default=0)
    lines = []
    for name, job in jobs.items():
        times = ", ".join(t.isoformat() for t in next_fire_times(job, now, count))
        lines.append(f"{name:<{width}}  {job.cron} ({job.timezone})  {times}")
    return lines


def run_scheduler(
    jobs: Mapping[str, Job],
    fire: Callable[[Job], None],
    console: Console,
) -> None:
    """Run the scheduler in the foreground until interrupted (Ctrl-C).

    Args:
        jobs: The jobs by name.
        fire: Runs one job (called from the scheduler's worker thread).
        console: Where to report firings.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone=dt.UTC)
    for name, job in jobs.items():
        scheduler.add_job(
            fire,
            cron_trigger(job.cron, job.timezone),
            args=[job],
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_S,
        )
    for line in next_fire_table(jobs, dt.datetime.now(dt.UTC)):
        console.print(f"scheduled {line}", highlight=False)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        console.print("scheduler stopped", highlight=False)
