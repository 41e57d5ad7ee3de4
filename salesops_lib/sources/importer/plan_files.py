"""Quota and region-target files of an ``order_lines`` import -> monthly ``quotas`` and targets.

An ``order_lines`` mapping may name two more sources beside ``orders`` (fields in
:mod:`~salesops_lib.sources.importer.plan_spec`):

* ``quotas``: rep (the name as the order book writes it), period_start, amount; optional
  period_end, grain (``month`` | ``quarter`` | ``year``; else ``constants.quota_grain``) and
  region;
* ``targets``: region, period_start, amount; optional period_end and grain (else
  ``constants.target_grain``).

**Periods.** A row's period runs from its start date to its end date: the ``period_end`` value
when the row has one, else the last day of the calendar month, quarter or year that holds the
start date. So a quarterly row starting on Feb 15 covers Feb 15 - Mar 31 and its amount is the
quota of those days (an effective-dated row carries the rest of its period).

**Spread rule.** A row's amount, in cents (rounded half up to the cent first), is spread over
the months its period touches in proportion to the share of each month's days it covers (1 for
a whole month): each month gets the whole cents of its exact share and the cents left over go
one each to the earliest months. So the months of a row sum exactly to its amount: 1,000.00 over
a quarter gives 333.34, 333.33, 333.33; 900.00 from Feb 15 to Mar 31 (14 of February's 28 days,
all of March) gives 300.00 and 600.00. Rows of one rep (of one region, for targets) may not
overlap in days: a row whose period overlaps an earlier-starting row of the same rep is
quarantined (``overlapping_period``, naming that row's line); give the earlier row an end date.
Rows that touch the same month without overlapping add up in it.

**Reps.** A quota row's rep is matched to the order book's reps by name as the importer matches
names (spaces collapsed, case ignored), so it gets the same ``rep_id`` as the rep's order lines.
A rep with quota rows but no order line is still a rep (so their 0 attainment shows): id derived
collision-free from the name (never one of the order book's ids), region from the file (their
earliest row naming one), else the order book's one region (an order book without a region
column), hire date = the start of their first quota row; such a rep whose first quota starts
after the as-of date is not hired yet (``rep_starts_after_as_of``). A rep's hire date is never
after the start of their first quota row. A rep has one home region (the order book's, see
:mod:`~salesops_lib.sources.importer.orders`): a quota row naming another region keeps its quota
under the rep's home region and records ``rep_region_mismatch`` as a correction.

**Regions** are matched as the order book matches them (through the mapping's ``regions`` when
it has them, else by the region names the order book holds); a region not known that way
quarantines the row (``unknown_region``). A region of the mapping's ``regions`` with no order
line is added to the snapshot's regions.

**Other rules** (each quarantines the row, named with file, line, column and value like every
import issue, and counts in the file's failed share against ``max_failed_share``): a blank rep,
region (targets; quotas of a new rep in a many-region book), start or amount
(``missing_<field>``), a negative amount, a grain that is not month/quarter/year
(``unknown_grain``) or none at all (``missing_grain``), an end before the start
(``period_end_before_start``), a period over :data:`MAX_PERIOD_MONTHS` months
(``period_too_long``), a rep name with no letter or digit (``empty_id``). Quarantined plan rows
carry no amount in the issue list: the money a report says was left out is bookings and
pipeline, not quota.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from salesops_lib.sources.importer.build import BuiltTables
from salesops_lib.sources.importer.ids import derive_ids, name_keys
from salesops_lib.sources.importer.mapping import Mapping
from salesops_lib.sources.importer.parsing import norm_key
from salesops_lib.sources.importer.plan_spec import GRAIN_CONSTANTS, GRAINS, PLAN_FIELDS
from salesops_lib.sources.importer.quarantine import check_failed_share, combine
from salesops_lib.sources.importer.rules import RuleBook, source_columns
from salesops_lib.sources.importer.sources import LoadedSource

MAX_PERIOD_MONTHS = 60
"""Longest period one plan row may cover, in calendar months touched."""
_GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}


# --- the spread rule (pure) ------------------------------------------------------------------


def to_cents(amount: float) -> int:
    """An amount as whole cents, rounded half up (``333.335`` -> 33334), exact for decimals."""
    return int((Decimal(repr(float(amount))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _month_first(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, 1)


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


@functools.lru_cache(maxsize=4096)
def grain_end(start: dt.date, grain: str) -> dt.date:
    """The last day of the calendar month, quarter or year that holds ``start``.

    Args:
        start: The row's start date.
        grain: ``month``, ``quarter`` or ``year``.

    Returns:
        The period's last day.
    """
    if grain not in _GRAIN_MONTHS:
        raise ValueError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    size = _GRAIN_MONTHS[grain]
    first_month = (start.month - 1) // size * size + 1
    after = dt.date(start.year, first_month, 1)
    for _ in range(size):
        after = _next_month(after)
    return after - dt.timedelta(days=1)


def months_touched(start: dt.date, end: dt.date) -> int:
    """Calendar months from the month of ``start`` to the month of ``end``, both included."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


@functools.lru_cache(maxsize=4096)
def _month_weights(
    start: dt.date, end: dt.date
) -> tuple[tuple[dt.date, ...], tuple[int, ...], int]:
    """Months a period touches and their weights (covered days / days in the month) as
    integers over a common denominator, so every share is exact; and the weights' sum.
    Quota files repeat the same periods for every rep, hence the cache."""
    months, covered, days = [], [], []
    month = _month_first(start)
    while month <= end:
        following = _next_month(month)
        months.append(month)
        covered.append((min(end, following - dt.timedelta(days=1)) - max(start, month)).days + 1)
        days.append((following - month).days)
        month = following
    common = math.lcm(*days)
    weights = tuple(c * (common // d) for c, d in zip(covered, days, strict=True))
    return tuple(months), weights, sum(weights)


def spread_cents(amount_cents: int, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """Spread an amount over the months a period touches (the module's spread rule).

    Args:
        amount_cents: The row's amount in cents (not negative).
        start: First day of the period.
        end: Last day of the period (not before ``start``).

    Returns:
        (first day of the month, cents) per month touched, earliest first; the cents sum to
        ``amount_cents``.
    """
    if end < start:
        raise ValueError(f"period end {end} is before its start {start}")
    months, weights, total = _month_weights(start, end)
    cents = [amount_cents * w // total for w in weights]  # floor: amounts are not negative
    for i in range(amount_cents - sum(cents)):
        cents[i] += 1
    return list(zip(months, cents, strict=True))


def spread_rows(
    keys: pd.Series, starts: pd.Series, ends: pd.Series, cents: pd.Series
) -> pd.DataFrame:
    """Spread every row and add up the cents per key and month.

    Args:
        keys: The rep or region id per row.
        starts: Period start per row (dates).
        ends: Period end per row (dates).
        cents: Amount per row in cents.

    Returns:
        A new frame: key, month (first day, datetime64) and cents, one row per key and month,
        sorted by both.
    """
    out_keys, out_months, out_cents = [], [], []
    for key, start, end, amount in zip(keys, starts, ends, cents, strict=True):
        for month, part in spread_cents(int(amount), start, end):
            out_keys.append(key)
            out_months.append(month)
            out_cents.append(part)
    frame = pd.DataFrame(
        {
            "key": pd.Series(out_keys, dtype=object),
            "month": pd.to_datetime(pd.Series(out_months, dtype=object)),
            "cents": pd.Series(out_cents, dtype="int64"),
        }
    )
    return frame.groupby(["key", "month"], as_index=False)["cents"].sum()


def overlapping(keys: pd.Series, starts: pd.Series, ends: pd.Series, rows: pd.Series) -> pd.Series:
    """For each row, the line of an earlier-starting row of the same key whose days it overlaps.

    Rows are taken by start date, then line; a row that overlaps is left out of the comparison
    for the rows after it (only kept rows can be overlapped).

    Args:
        keys: Rep or region per row.
        starts: Period start per row.
        ends: Period end per row.
        rows: The row's line in the file.

    Returns:
        The overlapped line (``None`` where the row overlaps nothing), aligned with ``keys``.
    """
    order = pd.DataFrame({"k": keys, "s": starts, "e": ends, "r": rows}).sort_values(
        ["k", "s", "r"], kind="stable"
    )
    latest: dict[object, tuple[dt.date, int]] = {}
    hit: dict[object, int] = {}
    for index, key, start, end, row in order.itertuples(name=None):
        last = latest.get(key)
        if last is not None and start <= last[0]:
            hit[index] = last[1]
        else:  # starts after every kept row of its key ended, so it ends last
            latest[key] = (end, int(row))
    return pd.Series([hit.get(i) for i in keys.index], index=keys.index, dtype=object)


# --- reading one plan file -------------------------------------------------------------------


def _dates(values: pd.Series) -> pd.Series:
    """Parsed dates as ``datetime.date`` objects (``None`` where blank)."""
    stamps = pd.to_datetime(values)
    return pd.Series(
        [None if pd.isna(v) else v.date() for v in stamps], index=values.index, dtype=object
    )


def _prepare(mapping: Mapping, src: LoadedSource, name: str) -> tuple[pd.DataFrame, RuleBook]:
    """Parsed rows with every plan field, periods resolved, and the rules that need no lookup."""
    required, optional = PLAN_FIELDS[name]
    f = src.frame.rename(columns={"amount": "plan_amount"})
    for field in optional:
        if field not in f:
            f = f.assign(**{field: pd.Series(None, index=f.index, dtype=object)})
    columns = source_columns(mapping, name)
    columns["plan_amount"] = columns.pop("amount")
    book = RuleBook(f, src.file, None, columns)
    for field in required:
        column = "plan_amount" if field == "amount" else field
        book.hit(f[column].isna(), f"missing_{'amount' if field == 'amount' else field}", column)
    negative = f["plan_amount"] < 0
    book.hit(
        negative,
        "negative_amount",
        "plan_amount",
        values=f.loc[negative, "plan_amount"].astype(str),
    )
    constant = mapping.constants.get(GRAIN_CONSTANTS[name])
    grain = norm_key(f["grain"])
    if constant is not None:
        grain = grain.fillna(str(constant).strip().casefold())
    unknown = grain.notna() & ~grain.isin(GRAINS)
    book.hit(unknown & f["period_end"].isna(), "unknown_grain", "grain", values=f["grain"])
    book.hit(grain.isna() & f["period_end"].isna(), "missing_grain", "grain")
    start = _dates(f["period_start"])
    from_grain = [
        grain_end(s, g) if s is not None and g in _GRAIN_MONTHS else None
        for s, g in zip(start, grain, strict=True)
    ]
    explicit = _dates(f["period_end"])
    end = explicit.where(explicit.notna(), pd.Series(from_grain, index=f.index, dtype=object))
    backwards = pd.Series(
        [s is not None and e is not None and e < s for s, e in zip(start, end, strict=True)],
        index=f.index,
    )
    book.hit(
        backwards,
        "period_end_before_start",
        "period_end",
        values=end[backwards].astype(str),
    )
    long = pd.Series(
        [
            s is not None and e is not None and months_touched(s, e) > MAX_PERIOD_MONTHS
            for s, e in zip(start, end, strict=True)
        ],
        index=f.index,
    )
    book.hit(long, "period_too_long", "period_end", values=end[long].astype(str))
    return f.assign(start=start, end=end), book


class _RegionMatcher:
    """Region values of a plan file -> region ids, matched as the order book matches them."""

    def __init__(self, mapping: Mapping, regions: pd.DataFrame) -> None:
        self.by_rule = bool(mapping.regions)
        if self.by_rule:
            self.lookup = {k.strip().casefold(): r.id for k, r in mapping.regions.items()}
            self.names = {r.id: r.name for r in mapping.regions.values()}
        else:
            keys = name_keys(regions["region_name"].astype(object))
            self.lookup = dict(zip(keys, regions["region_id"], strict=True))
            self.names = dict(zip(regions["region_id"], regions["region_name"], strict=True))

    def match(self, values: pd.Series) -> pd.Series:
        """Region id per value (``None`` for a blank or unknown value)."""
        keys = norm_key(values) if self.by_rule else name_keys(values)
        return keys.map(lambda k: self.lookup.get(k) if isinstance(k, str) else None)


def _finish(book: RuleBook, src: LoadedSource, mapping: Mapping) -> pd.DataFrame:
    issues = combine([src.issues, book.issues()])
    check_failed_share(issues, src.file, src.rows, mapping.max_failed_share)
    return issues


def _overlaps_checked_and_spread(
    f: pd.DataFrame, book: RuleBook, keys: pd.Series, src: LoadedSource, mapping: Mapping
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quarantine rows overlapping an earlier row of their key, then spread the kept rows.

    Args:
        f: The prepared rows (start, end, _row, plan_amount).
        book: Their rule book (hit here with ``overlapping_period``).
        keys: Rep or region id per row.
        src: The source (for the failed-share check).
        mapping: The mapping (its ``max_failed_share``).

    Returns:
        The spread (key, month, cents) of the kept rows, and every issue of the file.
    """
    ok = ~book.bad
    other = overlapping(keys[ok], f.loc[ok, "start"], f.loc[ok, "end"], f.loc[ok, "_row"])
    other = other.reindex(f.index)
    book.hit(
        other.notna(),
        "overlapping_period",
        "period_start",
        values="overlaps line " + other.astype(str),
    )
    issues = _finish(book, src, mapping)
    kept = ~book.bad
    cents = f.loc[kept, "plan_amount"].map(to_cents)
    return spread_rows(keys[kept], f.loc[kept, "start"], f.loc[kept, "end"], cents), issues


def _quotas(
    mapping: Mapping, src: LoadedSource, built: BuiltTables, regions: _RegionMatcher
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Quota rows -> (quotas table, reps table with new reps and hire dates, issues)."""
    f, book = _prepare(mapping, src, "quotas")
    reps = built.tables["reps"]
    known = dict(zip(name_keys(reps["rep_name"].astype(object)), reps["rep_id"], strict=True))
    rep_key = name_keys(f["rep"])
    is_new = rep_key.notna() & ~rep_key.isin(list(known))
    new_ids = derive_ids(f.loc[is_new, "rep"], reserved=frozenset(reps["rep_id"]))
    rep_id = rep_key.map(known).where(~is_new, new_ids.reindex(f.index))
    book.hit(rep_id == "", "empty_id", "rep", values=f["rep"])
    region_id = regions.match(f["region"])
    book.hit(f["region"].notna() & region_id.isna(), "unknown_region", "region", values=f["region"])
    book.owner, book.region = rep_id, region_id
    home = dict(zip(reps["rep_id"], reps["region_id"], strict=True))
    ok = ~book.bad & is_new
    ordered = f.assign(rep_id=rep_id, region_id=region_id)[ok & region_id.notna()]
    ordered = ordered.sort_values(["start", "_row"], kind="stable").drop_duplicates("rep_id")
    new_home = dict(zip(ordered["rep_id"], ordered["region_id"], strict=True))
    default = str(mapping.constants.get("region_id", ""))
    if default in set(built.tables["regions"]["region_id"]):
        new_home = {r: new_home.get(r, default) for r in rep_id[ok].unique()}
    book.hit(ok & ~rep_id.isin(list(new_home)), "missing_region", "region")
    home.update(new_home)
    rep_home = rep_id.map(home)
    book.region = rep_home.where(rep_home.notna(), region_id)
    mismatch = region_id.notna() & rep_home.notna() & (region_id != rep_home)
    book.hit(mismatch, "rep_region_mismatch", "region", "corrected", values=f["region"])
    first_start = f.assign(rep_id=rep_id)[~book.bad].groupby("rep_id")["start"].min().to_dict()
    late = is_new & pd.Series(
        [r in first_start and first_start[r] > built.as_of for r in rep_id], index=f.index
    )
    book.hit(
        late, "rep_starts_after_as_of", "period_start", values=f.loc[late, "start"].astype(str)
    )
    spread, issues = _overlaps_checked_and_spread(f, book, rep_id, src, mapping)
    kept = ~book.bad
    quotas = pd.DataFrame(
        {"rep_id": spread["key"], "month": spread["month"], "quota_amount": spread["cents"] / 100}
    )
    starts = pd.to_datetime(f.loc[kept, "start"]).groupby(rep_id[kept]).min()
    names = f.assign(rep_id=rep_id)[kept & is_new].sort_values(["start", "_row"], kind="stable")
    names = names.drop_duplicates("rep_id")
    added = pd.DataFrame(
        {
            "rep_id": names["rep_id"].to_numpy(),
            "rep_name": names["rep"].to_numpy(),
            "role": "rep",
            "region_id": names["rep_id"].map(home).to_numpy(),
            "manager_id": None,
            "hire_date": starts.loc[names["rep_id"]].to_numpy(),
        }
    )
    hired = pd.to_datetime(reps["hire_date"])
    earlier = reps["rep_id"].map(starts)
    reps = reps.assign(hire_date=hired.where(~(earlier < hired), earlier))
    return quotas, pd.concat([reps, added], ignore_index=True), issues


def _targets(
    mapping: Mapping, src: LoadedSource, regions: _RegionMatcher
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Target rows -> (region_targets table, issues)."""
    f, book = _prepare(mapping, src, "targets")
    region_id = regions.match(f["region"])
    book.hit(f["region"].notna() & region_id.isna(), "unknown_region", "region", values=f["region"])
    book.region = region_id
    spread, issues = _overlaps_checked_and_spread(f, book, region_id, src, mapping)
    targets = pd.DataFrame(
        {
            "region_id": spread["key"],
            "month": spread["month"],
            "target_amount": spread["cents"] / 100,
        }
    )
    return targets, issues


def add_plan_files(
    mapping: Mapping, sources: dict[str, LoadedSource], built: BuiltTables
) -> BuiltTables:
    """Add the quota and target files of an ``order_lines`` import to the order book's tables.

    Args:
        mapping: The ``order_lines`` mapping.
        sources: Every parsed source (``orders``, and ``quotas``/``targets`` when named).
        built: The tables built from the order book.

    Returns:
        ``built`` itself when the mapping names no plan file; else new tables: ``quotas`` and
        ``region_targets`` per month, ``reps`` with the quota file's new reps and hire dates,
        ``regions`` with the mapping's regions the plan files use, and every issue.

    Raises:
        ImportDataError: If more than ``max_failed_share`` of a plan file's rows break a rule.
    """
    if not any(name in sources for name in PLAN_FIELDS):
        return built
    tables = dict(built.tables)
    matcher = _RegionMatcher(mapping, tables["regions"])
    issues, source_rows = [built.issues], dict(built.source_rows)
    if "quotas" in sources:
        tables["quotas"], tables["reps"], quota_issues = _quotas(
            mapping, sources["quotas"], built, matcher
        )
        issues.append(quota_issues)
        source_rows[sources["quotas"].file] = sources["quotas"].rows
    if "targets" in sources:
        tables["region_targets"], target_issues = _targets(mapping, sources["targets"], matcher)
        issues.append(target_issues)
        source_rows[sources["targets"].file] = sources["targets"].rows
    used = set(tables["reps"]["region_id"]) | set(tables["region_targets"]["region_id"])
    missing = sorted(used - set(tables["regions"]["region_id"]))
    if missing:
        extra = pd.DataFrame(
            {"region_id": missing, "region_name": [matcher.names[r] for r in missing]}
        )
        tables["regions"] = pd.concat([tables["regions"], extra], ignore_index=True)
    return replace(built, tables=tables, issues=combine(issues), source_rows=source_rows)


__all__ = [
    "MAX_PERIOD_MONTHS",
    "add_plan_files",
    "grain_end",
    "months_touched",
    "overlapping",
    "spread_cents",
    "spread_rows",
    "to_cents",
]
