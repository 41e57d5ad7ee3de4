"""The plans file (``config/comp_plans.yml``): parsing and validation with file and line.

The format is documented in the comment header of ``config/comp_plans.example.yml``. The whole
file is checked before anything runs; the first problem raises
:class:`~salesops_lib.core.errors.CompPlanError` as ``<file>:<line>: <rule>``, line numbers
coming from the YAML node tree (:func:`yaml.compose`). Checks: known keys and values, every tier
table covers ``[0, inf)`` with no gap and no overlap (a value on a boundary belongs to the higher
tier), rates with at most 6 decimals, dates, a revenue split summing to 100% (overlay splits may
exceed it), every assigned plan defined, and no rep on two plans on the same day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from salesops_lib.analytics.compensation.model import (
    ACCUMULATE,
    CREDIT_RULES,
    MICRO,
    PERIODS,
    SPLIT_TYPES,
    TIER_BASIS,
    TIER_MODES,
    TRUE_UPS,
    Draw,
    Gate,
    PeriodCap,
    Plan,
    PlanBook,
    RateTable,
    Spif,
    Tier,
)
from salesops_lib.analytics.compensation.plan_reader import PlanReader
from salesops_lib.core.errors import CompPlanError

TOP_KEYS = ("version", "currency", "plans", "assignments", "splits")
PLAN_KEYS = (
    "name",
    "period",
    "currency",
    "ote",
    "base_pct",
    "measure",
    "credit",
    "tier_basis",
    "tier_mode",
    "retro_from_tier",
    "accumulate",
    "rate_tables",
    "gate",
    "deal_cap",
    "period_cap",
    "spifs",
    "draw",
    "clawback",
    "true_up",
    "ramp",
)
REQUIRED_PLAN_KEYS = ("period", "tier_basis", "tier_mode", "accumulate", "rate_tables")


def _tiers(reader: PlanReader, node: yaml.Node, what: str, basis: str) -> tuple[Tier, ...]:
    """Tiers of one table, checked for coverage from 0, no gap, no overlap, open last tier."""
    items = reader.sequence(node, what)
    if not items:
        raise reader.fail(node, f"{what}: a tier table needs at least one tier")
    tiers: list[Tier] = []
    bound_places = 2  # money in cents, or percent of quota with 2 decimals: exact in micro-units
    expected = Decimal(0)
    for index, item in enumerate(items, start=1):
        where = f"{what} tier {index}"
        fields = reader.mapping(item, where, ("from", "to", "rate"))
        for key in ("from", "rate"):
            if key not in fields:
                raise reader.fail(item, f"{where}: missing key {key!r}")
        lower = reader.number(fields["from"], f"{where} from", places=bound_places)
        upper = (
            reader.number(fields["to"], f"{where} to", places=bound_places)
            if "to" in fields and reader.value(fields["to"]) is not None
            else None
        )
        rate = reader.number(fields["rate"], f"{where} rate", places=6)
        if lower < expected:
            raise reader.fail(
                item, f"{where}: overlaps the tier before it (starts at {lower}, before {expected})"
            )
        if lower > expected:
            raise reader.fail(
                item,
                f"{where}: gap in coverage ({expected} to {lower} is in no tier; "
                "tiers must start at 0 and each start where the previous one ends)",
            )
        if upper is not None and upper <= lower:
            raise reader.fail(item, f"{where}: 'to' ({upper}) must be above 'from' ({lower})")
        if upper is None and index < len(items):
            raise reader.fail(item, f"{where}: only the last tier may be open (no 'to')")
        tiers.append(Tier(f"T{index}", lower, upper, rate, int(rate * MICRO)))
        expected = upper if upper is not None else expected
    if tiers[-1].upper is not None:
        raise reader.fail(
            items[-1],
            f"{what}: gap in coverage above {tiers[-1].upper}: the last tier must be open",
        )
    return tuple(tiers)


def _rate_tables(
    reader: PlanReader, node: yaml.Node, where: str, basis: str
) -> tuple[RateTable, ...]:
    tables: list[RateTable] = []
    for index, item in enumerate(reader.sequence(node, f"{where} rate_tables"), start=1):
        what = f"{where} rate_tables[{index}]"
        fields = reader.mapping(item, what, ("effective", "tiers"))
        if "tiers" not in fields:
            raise reader.fail(item, f"{what}: missing key 'tiers'")
        effective = (
            reader.date(fields["effective"], f"{what} effective")
            if "effective" in fields
            else dt.date.min
        )
        if tables and effective <= tables[-1].effective:
            raise reader.fail(item, f"{what}: effective dates must ascend")
        tables.append(RateTable(effective, _tiers(reader, fields["tiers"], what, basis)))
    if not tables:
        raise reader.fail(node, f"{where}: rate_tables needs at least one table")
    return tuple(tables)


def _spifs(reader: PlanReader, node: yaml.Node, where: str) -> tuple[Spif, ...]:
    spifs = []
    for item in reader.sequence(node, f"{where} spifs"):
        keys = ("name", "start", "end", "budget", "per_deal", "rate", "min_amount")
        fields = reader.mapping(item, f"{where} spif", keys)
        for key in ("name", "start", "end", "budget"):
            if key not in fields:
                raise reader.fail(item, f"{where} spif: missing key {key!r}")
        if ("per_deal" in fields) == ("rate" in fields):
            raise reader.fail(item, f"{where} spif: give exactly one of 'per_deal' or 'rate'")
        start = reader.date(fields["start"], f"{where} spif start")
        end = reader.date(fields["end"], f"{where} spif end")
        if end < start:
            raise reader.fail(fields["end"], f"{where} spif: end {end} is before start {start}")
        zero = Decimal(0)
        spifs.append(
            Spif(
                name=reader.text(fields["name"], "spif name"),
                start=start,
                end=end,
                budget=reader.number(fields["budget"], "spif budget", places=2),
                per_deal=reader.number(fields["per_deal"], "spif per_deal", places=2)
                if "per_deal" in fields
                else zero,
                rate=reader.number(fields["rate"], "spif rate", places=6)
                if "rate" in fields
                else zero,
                min_amount=reader.number(fields["min_amount"], "spif min_amount", places=2)
                if "min_amount" in fields
                else zero,
            )
        )
    return tuple(spifs)


def _optional(reader: PlanReader, fields: dict[str, yaml.Node], key: str, where: str) -> Any:
    """Sub-parsers of the optional plan features, by key."""
    node = fields[key]
    if key == "gate":
        g = reader.mapping(node, f"{where} gate", ("min_attainment", "rate_factor"))
        if "min_attainment" not in g:
            raise reader.fail(node, f"{where} gate: missing key 'min_attainment'")
        factor = (
            reader.number(g["rate_factor"], "gate rate_factor", places=6)
            if "rate_factor" in g
            else Decimal(0)
        )
        if factor > 1:
            raise reader.fail(g["rate_factor"], "gate rate_factor must be between 0 and 1")
        return Gate(reader.number(g["min_attainment"], "gate min_attainment", places=4), factor)
    if key == "period_cap":
        c = reader.mapping(node, f"{where} period_cap", ("amount", "carry_over"))
        if "amount" not in c:
            raise reader.fail(node, f"{where} period_cap: missing key 'amount'")
        carry = reader.flag(c["carry_over"], "carry_over") if "carry_over" in c else False
        return PeriodCap(reader.number(c["amount"], "period_cap amount", places=2), carry)
    if key == "draw":
        d = reader.mapping(
            node, f"{where} draw", ("amount", "periods", "recoverable", "recovery_pct")
        )
        for need in ("amount", "periods"):
            if need not in d:
                raise reader.fail(node, f"{where} draw: missing key {need!r}")
        pct = (
            reader.number(d["recovery_pct"], "draw recovery_pct", places=4)
            if "recovery_pct" in d
            else Decimal(100)
        )
        if pct > 100:
            raise reader.fail(d["recovery_pct"], "draw recovery_pct must be between 0 and 100")
        return Draw(
            amount=reader.number(d["amount"], "draw amount", places=2),
            periods=reader.integer(d["periods"], "draw periods", minimum=1),
            recoverable=reader.flag(d["recoverable"], "recoverable")
            if "recoverable" in d
            else True,
            recovery_pct=pct,
        )
    if key == "clawback":
        c = reader.mapping(node, f"{where} clawback", ("window_days",))
        if "window_days" not in c:
            raise reader.fail(node, f"{where} clawback: missing key 'window_days'")
        return reader.integer(c["window_days"], "clawback window_days", minimum=1)
    raise AssertionError(key)  # pragma: no cover


def _plan(reader: PlanReader, plan_id: str, node: yaml.Node, currency: str) -> Plan:
    where = f"plan {plan_id!r}"
    fields = reader.mapping(node, where, PLAN_KEYS)
    for key in REQUIRED_PLAN_KEYS:
        if key not in fields:
            raise reader.fail(node, f"{where}: missing key {key!r}")
    basis = reader.choice(fields["tier_basis"], f"{where} tier_basis", TIER_BASIS)
    mode = reader.choice(fields["tier_mode"], f"{where} tier_mode", TIER_MODES)
    tables = _rate_tables(reader, fields["rate_tables"], where, basis)
    retro = None
    if "retro_from_tier" in fields:
        retro = reader.integer(fields["retro_from_tier"], f"{where} retro_from_tier", minimum=2)
        if mode != "retroactive":
            raise reader.fail(
                fields["retro_from_tier"], f"{where}: retro_from_tier needs tier_mode retroactive"
            )
        shortest = min(len(t.tiers) for t in tables)
        if retro > shortest:
            raise reader.fail(
                fields["retro_from_tier"],
                f"{where}: retro_from_tier {retro} but a rate table has only {shortest} tiers",
            )
    measure = (
        reader.mapping(fields["measure"], f"{where} measure", ("product_family", "deal_type"))
        if "measure" in fields
        else {}
    )
    credit = (
        reader.mapping(fields["credit"], f"{where} credit", ("rule", "type"))
        if "credit" in fields
        else {}
    )
    opt = {
        k: _optional(reader, fields, k, where)
        for k in ("gate", "period_cap", "draw", "clawback")
        if k in fields
    }
    ramp: tuple[Decimal, ...] = ()
    if "ramp" in fields:
        ramp = tuple(
            reader.number(n, f"{where} ramp", places=4)
            for n in reader.sequence(fields["ramp"], f"{where} ramp")
        )
    base_pct = (
        reader.number(fields["base_pct"], f"{where} base_pct", places=4)
        if "base_pct" in fields
        else Decimal(0)
    )
    if base_pct > 100:
        raise reader.fail(fields["base_pct"], f"{where}: base_pct must be between 0 and 100")
    return Plan(
        plan_id=plan_id,
        name=reader.text(fields["name"], f"{where} name") if "name" in fields else plan_id,
        period=reader.choice(fields["period"], f"{where} period", PERIODS),
        currency=reader.text(fields["currency"], "currency") if "currency" in fields else currency,
        ote=reader.number(fields["ote"], f"{where} ote", places=2)
        if "ote" in fields
        else Decimal(0),
        base_pct=base_pct,
        product_families=reader.strings(measure["product_family"], "product_family")
        if "product_family" in measure
        else (),
        deal_types=reader.strings(measure["deal_type"], "deal_type")
        if "deal_type" in measure
        else (),
        credit_rule=reader.choice(credit["rule"], f"{where} credit rule", CREDIT_RULES)
        if "rule" in credit
        else "owner",
        split_type=reader.choice(credit["type"], f"{where} credit type", SPLIT_TYPES)
        if "type" in credit
        else "revenue",
        tier_basis=basis,
        tier_mode=mode,
        retro_from_tier=retro,
        accumulate=reader.choice(fields["accumulate"], f"{where} accumulate", ACCUMULATE),
        rate_tables=tables,
        gate=opt.get("gate"),
        deal_cap=reader.number(fields["deal_cap"], f"{where} deal_cap", places=2)
        if "deal_cap" in fields
        else None,
        period_cap=opt.get("period_cap"),
        spifs=_spifs(reader, fields["spifs"], where) if "spifs" in fields else (),
        draw=opt.get("draw"),
        clawback_days=opt.get("clawback"),
        true_up=reader.choice(fields["true_up"], f"{where} true_up", TRUE_UPS)
        if "true_up" in fields
        else "none",
        ramp=ramp,
        line=node.start_mark.line + 1,
    )


def _assignments(reader: PlanReader, node: yaml.Node, plans: dict[str, Plan]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    spans: dict[str, list[tuple[dt.date, dt.date, str, int]]] = {}
    for item in reader.sequence(node, "assignments"):
        keys = ("rep_id", "plan", "start", "end", "role", "quota")
        f = reader.mapping(item, "assignment", keys)
        for key in ("rep_id", "plan", "start"):
            if key not in f:
                raise reader.fail(item, f"assignment: missing key {key!r}")
        rep = reader.text(f["rep_id"], "assignment rep_id")
        plan_id = reader.text(f["plan"], "assignment plan")
        if plan_id not in plans:
            raise reader.fail(f["plan"], f"assignment of {rep}: plan {plan_id!r} is not defined")
        start = reader.date(f["start"], "assignment start")
        end = reader.date(f["end"], "assignment end") if "end" in f else None
        if end is not None and end < start:
            raise reader.fail(f["end"], f"assignment of {rep}: end {end} is before start {start}")
        line = item.start_mark.line + 1
        last = end or dt.date.max
        for other_start, other_end, other_plan, other_line in spans.get(rep, []):
            if start <= other_end and other_start <= last:
                raise reader.fail(
                    item,
                    f"rep {rep} is on two plans at once: {plan_id} from {start} overlaps "
                    f"{other_plan} (line {other_line}); end one before the other starts",
                )
        spans.setdefault(rep, []).append((start, last, plan_id, line))
        role = reader.choice(f["role"], "assignment role", SPLIT_TYPES) if "role" in f else None
        rows.append(
            {
                "rep_id": rep,
                "plan_id": plan_id,
                "start_date": pd.Timestamp(start),
                "end_date": pd.Timestamp(end) if end else pd.NaT,
                "role": role or plans[plan_id].split_type,
                "quota": float(reader.number(f["quota"], "assignment quota", places=2))
                if "quota" in f
                else float("nan"),
                "line": line,
            }
        )
    columns = ["rep_id", "plan_id", "start_date", "end_date", "role", "quota", "line"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    return frame


def _splits(reader: PlanReader, node: yaml.Node) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in reader.sequence(node, "splits"):
        f = reader.mapping(item, "split", ("deal_id", "type", "shares"))
        for key in ("deal_id", "shares"):
            if key not in f:
                raise reader.fail(item, f"split: missing key {key!r}")
        deal = reader.text(f["deal_id"], "split deal_id")
        kind = reader.choice(f["type"], "split type", SPLIT_TYPES) if "type" in f else "revenue"
        if (deal, kind) in seen:
            raise reader.fail(item, f"split of deal {deal}: {kind} split given twice")
        seen.add((deal, kind))
        shares = reader.mapping(f["shares"], f"split of deal {deal} shares")
        if not shares:
            raise reader.fail(f["shares"], f"split of deal {deal}: no shares")
        total = Decimal(0)
        for rep, share_node in shares.items():
            pct = reader.number(share_node, f"split of deal {deal} share of {rep}", places=2)
            total += pct
            rows.append(
                {"deal_id": deal, "rep_id": rep, "split_pct": float(pct), "split_type": kind}
            )
        if kind == "revenue" and total != 100:
            raise reader.fail(
                f["shares"], f"split of deal {deal}: revenue split shares sum to {total}%, not 100%"
            )
    return pd.DataFrame(rows, columns=["deal_id", "rep_id", "split_pct", "split_type"])


def plan_book_from_text(text: str, source: str = "<text>") -> PlanBook:
    """Parse and validate plans YAML text.

    Args:
        text: The YAML text.
        source: File name used in error messages.

    Returns:
        The validated :class:`PlanBook`.

    Raises:
        CompPlanError: ``<source>:<line>: <rule>`` for the first problem found.
    """
    reader = PlanReader(source, text)
    root = reader.root()
    if root is None:
        raise CompPlanError(f"{source}:1: the plans file is empty")
    top = reader.mapping(root, "the plans file", TOP_KEYS)
    if "plans" not in top:
        raise reader.fail(root, "the plans file needs a 'plans' mapping")
    currency = reader.text(top["currency"], "currency") if "currency" in top else "USD"
    plans = {
        plan_id: _plan(reader, plan_id, node, currency)
        for plan_id, node in reader.mapping(top["plans"], "plans").items()
    }
    if not plans:
        raise reader.fail(top["plans"], "plans: at least one plan is needed")
    if "assignments" not in top:
        raise reader.fail(root, "the plans file needs an 'assignments' list")
    assignments = _assignments(reader, top["assignments"], plans)
    splits = _splits(reader, top["splits"]) if "splits" in top else None
    kwargs = {"splits": splits} if splits is not None else {}
    return PlanBook(
        plans=plans,
        assignments=assignments,
        source=source,
        text=text,
        version=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        **kwargs,
    )


def load_plan_book(path: Path) -> PlanBook:
    """Parse and validate a plans file (``config/comp_plans.yml``).

    Args:
        path: The YAML file.

    Returns:
        The validated :class:`PlanBook`; ``version`` is the sha256 of the file's bytes.

    Raises:
        CompPlanError: ``<file>:<line>: <rule>``, or the file cannot be read.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CompPlanError(f"{path}: cannot read the plans file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CompPlanError(f"{path}:1: the plans file is not UTF-8 text") from None
    book = plan_book_from_text(text, str(path))
    return PlanBook(
        plans=book.plans,
        assignments=book.assignments,
        source=book.source,
        text=book.text,
        version=hashlib.sha256(raw).hexdigest(),
        splits=book.splits,
    )
