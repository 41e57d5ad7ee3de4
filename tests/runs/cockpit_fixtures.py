"""A small reports folder for the cockpit tests, published with the real publish functions.

Two weeks of reports (the tiny workspace's two weekly snapshots) for the company, ``dach`` and a
region whose display name is hostile markup. Each report is a hand-written HTML page with the
headings nbconvert would give (``<h2 id="Action-lists">``) and a run record with hand-picked
headlines, so every number the cockpit shows from headlines is known in advance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from salesops_lib.runs.publish import publish_failure, publish_success, write_indexes

HOSTILE_NAME = '<script>alert("x")</script> & "Nordics"'
"""A region display name from CRM text: must be shown escaped, never run."""

SECTIONS: dict[str, tuple[str, ...]] = {
    "00-data-quality": ("CRM-data-quality", "Summary", "Provenance"),
    "10-performance": (
        "Performance-diagnosis", "Executive-summary", "Attainment", "Pipeline-change-waterfall",
        "Funnel-and-bottlenecks", "Deviations-and-risks", "Provenance",
    ),
    "20-forecast": ("Revenue-forecast", "Executive-summary", "History-and-forecast"),
    "30-segmentation": ("Customer-segmentation", "Executive-summary", "Action-lists"),
}  # fmt: skip

# (week index, region) -> topic -> headlines; week 0 is the earlier snapshot.
HEADLINES: dict[tuple[int, str], dict[str, dict[str, Any]]] = {
    (0, "all"): {
        "20-forecast": {"quarter_forecast": 10_000_000.0, "quarter_gap_to_target": 0.0},
        "30-segmentation": {"customers_at_risk": 20, "revenue_at_stake": 400_000.0},
        "00-data-quality": {"quality_score": 0.9, "problem_records": 30},
    },
    (1, "all"): {
        "20-forecast": {
            "quarter_forecast": 9_000_000.0,
            "quarter_forecast_low_80": 8_000_000.0,
            "quarter_forecast_high_80": 9_900_000.0,
            "quarter_gap_to_target": 1_500_000.0,
        },
        "30-segmentation": {"customers_at_risk": 25, "revenue_at_stake": 600_000.0},
        "00-data-quality": {"quality_score": 0.85, "problem_records": 41},
        "10-performance": {"pipeline_change": -2_000_000.0, "deals_at_risk": 7, "bottlenecks": 1},
    },
    (1, "dach"): {
        "20-forecast": {"quarter_forecast": 2_000_000.0, "quarter_gap_to_target": -10.0},
        "30-segmentation": {"customers_at_risk": 4, "revenue_at_stake": 50_000.0},
        "10-performance": {"pipeline_change": 300_000.0, "deals_at_risk": 2, "bottlenecks": 0},
    },
    (1, "nordics"): {
        "30-segmentation": {"customers_at_risk": 3, "revenue_at_stake": 2_500_000.0},
    },
}
"""The headlines each published report records."""

REGION_NAMES = {"all": "All regions", "dach": "DACH", "nordics": HOSTILE_NAME}


def report_page(title: str, sections: tuple[str, ...]) -> str:
    """A report page with nbconvert-style heading ids, one per section."""
    headings = "".join(
        f'<h{1 if i == 0 else 2} id="{s}">{s.replace("-", " ")}</h{1 if i == 0 else 2}><p>x</p>'
        for i, s in enumerate(sections)
    )
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{headings}</body></html>"


def publish_reports(reports: Path, weeks: list[str]) -> None:
    """Publish every report of :data:`HEADLINES` (and one failed run) for the given two weeks.

    Args:
        reports: The reports folder to fill.
        weeks: The two as-of dates (older first).
    """
    for (week_index, region), topics in sorted(HEADLINES.items()):
        as_of = weeks[week_index]
        for topic, numbers in sorted(topics.items()):
            staging = reports / ".staging" / f"{as_of}-{region}-{topic}"
            staging.mkdir(parents=True)
            record = {
                "notebook": topic,
                "region": region,
                "region_name": REGION_NAMES[region],
                "as_of": as_of,
                "status": "ok",
                "ended_at": f"{as_of}T06:00:00+00:00",
                "headlines": {"region": region, "region_name": REGION_NAMES[region], **numbers},
            }
            (staging / f"{topic}.run.json").write_text(json.dumps(record), encoding="utf-8")
            (staging / f"{topic}.ipynb").write_text("{}", encoding="utf-8")
            page = report_page(f"{topic} {region}", SECTIONS[topic])
            (staging / f"{topic}.html").write_text(page, encoding="utf-8")
            publish_success(staging, reports / as_of, region, topic)
    failed = reports / ".staging" / "failed"
    failed.mkdir(parents=True)
    record = {
        "notebook": "00-overview",
        "region": "nordics",
        "region_name": HOSTILE_NAME,
        "status": "failed",
        "error": "boom <b>bold</b>",
        "ended_at": f"{weeks[1]}T06:30:00+00:00",
    }
    (failed / "00-overview.run.json").write_text(json.dumps(record), encoding="utf-8")
    publish_failure(failed, reports / weeks[1], "nordics", "00-overview")
    for as_of in weeks:
        write_indexes(reports, as_of)
