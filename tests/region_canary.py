"""The region isolation canary: a name and figures planted in one region, and where to look.

:func:`plant_canary` gives a tiny demo workspace one more snapshot (a week after the latest, so
it is the latest) whose tables are the latest one's, except that one ``dach`` account is renamed
to :data:`CANARY_NAME` (its opportunities' names, which start with the account name, follow),
one ``dach`` order line of that account is booked at :data:`CANARY_AMOUNT` (quantity 1, no
discount, so the line still satisfies amount = quantity x unit price x (1 - discount)), and the
region's sales target of each month of the new as-of date's quarter is set to
:data:`CANARY_MONTH_TARGET`, so the quarter's target is a figure no other region comes near (the
forecast report once printed every region's target in each regional report).

After the default job has run, every published artifact of every other region
(:func:`region_artifacts`: HTML, executed notebook, run record, query pages under
``reports/<as_of>/<region>/``, and that region's run manifests in ``reports/_runs/``) is
searched (:func:`canary_findings`) for the name and the figures in every form a report might
print them. The tests live in ``tests/test_end_to_end.py``, whose ``make run`` runs on the
planted snapshot: one default job serves both.

Charts are PNG images, so text drawn inside a chart cannot be searched; base64 image data is left
out of the search (it could only match the figure's digits by chance).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import SnapshotWriter, open_snapshot, read_table
from tests.conftest import Workspace

CANARY_REGION = "dach"
"""The region the canary is planted in."""

COMPANY = "all"
"""The company view: the one place every region's data may appear."""

CANARY_NAME = "Canary Zq7x Holdings"
"""The planted account name."""

CANARY_TOKEN = "Zq7x"
"""The name's unique part: found even where a table truncates or wraps the name."""

CANARY_AMOUNT = 987654.32
"""The planted order line's amount (quantity 1 at this unit price, no discount)."""

CANARY_MONTH_TARGET = 29_209_876.54
"""The planted region's target of each month of the canary snapshot's quarter."""

CANARY_QUARTER_TARGET_SHOWN = "$87.6M"
"""``format_money`` of the quarter's target (3 x :data:`CANARY_MONTH_TARGET` = 87,629,629.62)."""

CANARY_FIGURES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        ("order line 987654.32 (raw)", r"(?<![\d.])987654(?:\.3|\b)"),
        ("order line 987,654 (grouped)", r"(?<![\d,.])987,654(?![\d])"),
        ("order line 987.7K / $987.7K (thousands)", r"(?<![\d,.])987\.7(?!\d)"),
        ("order line 987.65K (thousands, two places)", r"(?<![\d,.])987\.65(?!\d)"),
        ("order line 9.88e+05 (scientific)", r"(?<![\d.])9\.8765\d*e\+0?5"),
        ("month target 29209876 (raw)", r"(?<![\d.])29209876(?!\d)"),
        ("month target 29,209,876 (grouped)", r"(?<![\d,.])29,209,876(?!\d)"),
        ("month target $29.2M (millions)", r"(?<![\d,.])29\.2M"),
        ("quarter target 87629629 (raw)", r"(?<![\d.])87629629(?!\d)"),
        ("quarter target 87,629,629 (grouped)", r"(?<![\d,.])87,629,629(?!\d)"),
        ("quarter target $87.6M (millions)", r"(?<![\d,.])87\.6M"),
    )
)
"""The forms a report might print the planted figures in: a label and a pattern for each.

``format_money`` prints the order line's amount as ``$1.0M``, too common to be a canary: not
searched. At tiny scale no region's figures come near the planted targets' millions.
"""

BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{400,}")
"""Embedded image data (base64), left out of the search."""


def searchable_text(path: Path) -> str:
    """A file's text without image data, plus its HTML-unescaped, whitespace-collapsed form."""
    raw = BASE64_RUN.sub(" ", path.read_text(encoding="utf-8", errors="replace"))
    plain = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))
    return raw + "\n" + plain


def canary_findings(path: Path) -> list[str]:
    """What of the canary a file holds: the name's token and each matching figure form."""
    text = searchable_text(path)
    found = [f"name token {CANARY_TOKEN!r}"] if CANARY_TOKEN.lower() in text.lower() else []
    for label, pattern in CANARY_FIGURES:
        match = pattern.search(text)
        if match:
            start = max(match.start() - 60, 0)
            found.append(f"figure {label}: ...{text[start : match.end() + 60]!r}...")
    return found


def plant_canary(workspace: Workspace) -> dt.date:
    """Write a snapshot a week after the latest with the canary planted; return its as-of date.

    The planted order line is a ``dach`` line (``dach`` rep and ``dach`` account) dated in the
    twelve complete months before the new as-of date, so it counts in the region's bookings.
    """
    latest = open_snapshot(workspace.snapshots)
    as_of = latest.as_of + dt.timedelta(days=7)
    tables = {name: read_table(latest, name) for name in TABLES}

    reps = tables["reps"].to_pandas()
    accounts = tables["accounts"].to_pandas()
    lines = tables["order_lines"].to_pandas()
    dach_reps = set(reps.loc[reps["region_id"] == CANARY_REGION, "rep_id"])
    dach_accounts = set(accounts.loc[accounts["region_id"] == CANARY_REGION, "account_id"])
    window_end = (as_of + dt.timedelta(days=1)).replace(day=1)  # a month's last day completes it
    window_start = window_end.replace(year=window_end.year - 1)
    candidates = lines[
        lines["rep_id"].isin(dach_reps)
        & lines["account_id"].isin(dach_accounts)
        & (lines["order_date"] >= window_start)
        & (lines["order_date"] < window_end)
    ].sort_values(["order_id", "line_number"])
    assert not candidates.empty, "the tiny demo has no dach order line to plant the canary in"
    line_index = candidates.index[0]
    account_id = str(candidates.at[line_index, "account_id"])
    old_name = str(accounts.loc[accounts["account_id"] == account_id, "account_name"].iloc[0])

    planted = lines.copy()
    planted.loc[line_index, ["quantity", "unit_price", "discount", "amount"]] = [
        1,
        CANARY_AMOUNT,
        0.0,
        CANARY_AMOUNT,
    ]
    renamed = accounts.assign(
        account_name=accounts["account_name"].where(
            accounts["account_id"] != account_id, CANARY_NAME
        )
    )
    opportunities = tables["opportunities"]
    is_canary_deal = pc.equal(opportunities["account_id"], account_id)
    deal_names = pc.if_else(
        is_canary_deal,
        pc.replace_substring(opportunities["opportunity_name"], old_name, CANARY_NAME),
        opportunities["opportunity_name"],
    )
    targets = tables["region_targets"].to_pandas()
    quarter_start = as_of.replace(month=3 * ((as_of.month - 1) // 3) + 1, day=1)
    quarter_months = [quarter_start.replace(month=quarter_start.month + k) for k in range(3)]
    in_quarter = (targets["region_id"] == CANARY_REGION) & targets["month"].isin(quarter_months)
    assert in_quarter.sum() == 3, "the tiny demo has no dach target for every month of the quarter"
    planted_targets = targets.assign(
        target_amount=targets["target_amount"].where(~in_quarter, CANARY_MONTH_TARGET)
    )
    tables |= {
        "region_targets": pa.Table.from_pandas(planted_targets, preserve_index=False),
        "accounts": pa.Table.from_pandas(renamed, preserve_index=False),
        "order_lines": pa.Table.from_pandas(planted, preserve_index=False),
        "opportunities": opportunities.set_column(
            opportunities.schema.get_field_index("opportunity_name"), "opportunity_name", deal_names
        ),
    }
    source = f"{latest.manifest['source']} + region canary in {CANARY_REGION}"
    with SnapshotWriter(workspace.snapshots, as_of, source=source) as writer:
        for name, table in tables.items():
            writer.write_table(name, table.select(TABLES[name].columns))
    return as_of


def region_artifacts(workspace: Workspace, as_of: str, region: str) -> list[Path]:
    """Every published file of one region: its report folder and its run manifests."""
    files = sorted(p for p in (workspace.reports / as_of / region).rglob("*") if p.is_file())
    for manifest in sorted((workspace.reports / "_runs").glob("*.json")):
        record = json.loads(manifest.read_text(encoding="utf-8"))
        if record.get("region") == region:
            files.append(manifest)
    return files
