"""The shape of the demo company: regions, reps and managers, accounts, products.

Everything here is small (hundreds of reps, up to tens of thousands of accounts) and held in
memory as numpy arrays indexed by position, plus the Arrow tables written to every snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from salesops_lib.core.config import Region
from salesops_lib.data.schema import SIZE_BANDS, TABLES
from salesops_lib.sources.demo import plan
from salesops_lib.sources.demo.calendar import Calendar, day_number

FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kara",
    "Liam", "Maya", "Noah", "Olivia", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yusuf", "Zoe", "Aiko", "Björn", "Chloé", "Dmitri", "Siobhan", "Rahul",
)  # fmt: skip
LAST_NAMES = (
    "Andersen", "Brown", "Castillo", "Dubois", "Eriksson", "Fischer", "García", "Hughes", "Ito",
    "Johansson", "Kowalski", "Lopez", "Müller", "Nakamura", "O'Connor", "Patel", "Quint", "Rossi",
    "Schmidt", "Tanaka", "Usman", "Virtanen", "Walsh", "Xu", "Young", "Zimmermann",
)  # fmt: skip
NAME_STEMS = (
    "Northwind", "Bluepeak", "Ironbridge", "Silverline", "Greenfield", "Redwood", "Brightwater",
    "Stonegate", "Oakridge", "Clearview", "Summit", "Harbor", "Falcon", "Cobalt", "Meridian",
    "Pioneer", "Vertex", "Aurora", "Granite", "Crescent", "Evergreen", "Lakeside", "Highland",
    "Keystone", "Nimbus", "Orchard", "Polar", "Quantum", "Riverstone", "Sterling",
)  # fmt: skip
NAME_TRADES = (
    "Logistics", "Foods", "Health", "Energy", "Retail", "Systems", "Manufacturing", "Finance",
    "Media", "Pharma", "Motors", "Textiles", "Labs", "Telecom", "Builders", "Insurance",
)  # fmt: skip
REGION_SUFFIXES = {
    "na": ("Inc.", "LLC", "Corp."),
    "latam": ("S.A.", "Ltda.", "S.A. de C.V."),
    "uki": ("Ltd", "PLC", "& Co. Ltd"),
    "dach": ("GmbH", "AG", "GmbH & Co. KG"),
    "nordics": ("AB", "AS", "Oy"),
    "apac": ("Pty Ltd", "Pte. Ltd.", "K.K."),
}
UNTRUSTED_NAMES = (
    "Smith & Sons <Holdings>",
    'O\'Brien "Quotes" Ltd',
    "<script>alert(1)</script> Corp",
    "Müller Straße GmbH",
    "Robert'); DROP TABLE accounts;-- Inc.",
    "Ampersand & <b>Bold</b> Trading",
    "{{ template }} & ${injection} LLC",
    "Ünïcödé Ωmega 株式会社",
)
INDUSTRIES = (
    "Manufacturing", "Retail", "Financial Services", "Healthcare", "Technology", "Energy",
    "Public Sector", "Logistics", "Media", "Education",
)  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """The demo company. Rep arrays cover sales reps only (managers live in ``reps_table``).

    Attributes:
        region_ids: Region ids in config order.
        rep_ids: Sales rep ids.
        rep_region: Region index of each rep.
        rep_hire_day: Hire date of each rep (day number).
        rep_productivity: Order-rate factor of each rep (planted under-performers and star).
        under_performers: Rep indices of the planted under-performers.
        star: Rep index of the planted star.
        account_ids: Account ids.
        account_names: Account names (some with HTML/SQL special characters).
        account_owner: Owning rep index of each account.
        account_group: Behaviour group index of each account (into ``plan.GROUPS``).
        account_created_day: Created date of each account (day number).
        account_lapse_day: Day from which a lapsed account orders no more (far future if never).
        account_rate: Relative order rate per month of each account (group rate x size).
        product_ids: Product ids.
        product_names: Product names.
        product_family: Family index of each product (into ``plan.FAMILIES``).
        product_price: List price of each product before the planted increase.
        regions_table: The ``regions`` table.
        reps_table: The ``reps`` table (reps and managers).
        accounts_table: The ``accounts`` table.
    """

    region_ids: tuple[str, ...]
    rep_ids: np.ndarray
    rep_region: np.ndarray
    rep_hire_day: np.ndarray
    rep_productivity: np.ndarray
    under_performers: tuple[int, ...]
    star: int
    account_ids: np.ndarray
    account_names: np.ndarray
    account_owner: np.ndarray
    account_group: np.ndarray
    account_created_day: np.ndarray
    account_lapse_day: np.ndarray
    account_rate: np.ndarray
    product_ids: np.ndarray
    product_names: np.ndarray
    product_family: np.ndarray
    product_price: np.ndarray
    regions_table: pa.Table
    reps_table: pa.Table
    accounts_table: pa.Table

    @property
    def account_region(self) -> np.ndarray:
        """Region index of each account (its owner's region)."""
        return self.rep_region[self.account_owner]


def account_count(order_lines: int) -> int:
    """Return the number of accounts for a target number of order lines (1k to 40k)."""
    return int(np.clip(1000 + order_lines // 125, 1000, 40000))


def build_shape(
    rng: np.random.Generator, regions: Sequence[Region], calendar: Calendar, n_accounts: int
) -> Shape:
    """Draw the demo company.

    Args:
        rng: Random generator for the company's shape.
        regions: The sales regions.
        calendar: The demo's dates.
        n_accounts: Number of accounts.

    Returns:
        The company.
    """
    region_ids = tuple(r.id for r in regions)
    counts = [plan.REGION_REP_COUNTS[i % len(plan.REGION_REP_COUNTS)] for i in range(len(regions))]
    rep_region = np.repeat(np.arange(len(regions)), counts)
    n_reps = len(rep_region)
    rep_ids = np.array([f"REP-{i + 1:04d}" for i in range(n_reps)], dtype=object)
    start, as_of = day_number(calendar.start), day_number(calendar.as_of)
    is_new = rng.random(n_reps) < plan.NEW_HIRE_SHARE
    veteran_hire = start - 30 - rng.integers(0, 5 * 365, n_reps)
    new_hire = start + rng.integers(0, as_of - start - 60, n_reps)
    rep_hire_day = np.where(is_new, new_hire, veteran_hire)
    productivity = np.exp(rng.normal(0.0, plan.PRODUCTIVITY_SIGMA, n_reps))
    under, star = _planted_reps(rng, rep_region, is_new, region_ids)
    productivity[list(under)] = plan.UNDER_PERFORMER_PRODUCTIVITY
    productivity[star] = plan.STAR_PRODUCTIVITY

    owner = rng.integers(0, n_reps, n_accounts)
    group = _account_groups(rng, n_accounts, is_new[owner])
    created = _account_created(rng, owner, rep_hire_day, is_new, start, as_of)
    lapse = np.full(n_accounts, as_of + 10_000, dtype=np.int64)
    lapsing = np.array([plan.GROUPS[g].lapses for g in group])
    lapse[lapsing] = as_of - rng.integers(365, 730, int(lapsing.sum()))
    rates = np.array([g.orders_per_month for g in plan.GROUPS])[group]
    account_rate = rates * np.exp(rng.normal(0.0, 0.25, n_accounts))
    account_ids = np.array([f"ACC-{i + 1:06d}" for i in range(n_accounts)], dtype=object)
    account_names = _account_names(rng, n_accounts, rep_region[owner], region_ids)

    product_ids, product_names, product_family, product_price = _products(rng)
    managers = _managers(rng, rep_region, region_ids, start)
    return Shape(
        region_ids=region_ids,
        rep_ids=rep_ids,
        rep_region=rep_region,
        rep_hire_day=rep_hire_day.astype(np.int64),
        rep_productivity=productivity,
        under_performers=under,
        star=star,
        account_ids=account_ids,
        account_names=account_names,
        account_owner=owner,
        account_group=group,
        account_created_day=created.astype(np.int64),
        account_lapse_day=lapse,
        account_rate=account_rate,
        product_ids=product_ids,
        product_names=product_names,
        product_family=product_family,
        product_price=product_price,
        regions_table=pa.table(
            {"region_id": list(region_ids), "region_name": [r.name for r in regions]},
            schema=TABLES["regions"].schema,
        ),
        reps_table=_reps_table(rng, rep_ids, rep_region, rep_hire_day, region_ids, managers),
        accounts_table=_accounts_table(
            rng,
            account_ids,
            account_names,
            group,
            rep_region[owner],
            rep_ids[owner],
            created,
            region_ids,
        ),
    )


def _planted_reps(
    rng: np.random.Generator,
    rep_region: np.ndarray,
    is_new: np.ndarray,
    region_ids: tuple[str, ...],
) -> tuple[tuple[int, ...], int]:
    """Pick two under-performers and a star among veterans, each in a different region."""
    avoid = {plan.BOTTLENECK_REGION}
    chosen: list[int] = []
    for region in rng.permutation(len(region_ids)):
        if region_ids[region] in avoid and len(region_ids) > 3:
            continue
        candidates = np.flatnonzero((rep_region == region) & ~is_new)
        if len(candidates):
            chosen.append(int(rng.choice(candidates)))
        if len(chosen) == 3:
            break
    if len(chosen) < 3:  # few regions: pick any distinct veterans
        spare = np.setdiff1d(np.flatnonzero(~is_new), chosen)
        chosen += [int(i) for i in rng.choice(spare, 3 - len(chosen), replace=False)]
    return (chosen[0], chosen[1]), chosen[2]


def _account_groups(rng: np.random.Generator, n: int, owner_is_new: np.ndarray) -> np.ndarray:
    """Draw each account's behaviour group; new hires' fresh accounts never lapse."""
    shares = np.array([g.share for g in plan.GROUPS])
    group = rng.choice(len(shares), size=n, p=shares / shares.sum())
    lapsing = np.array([g.lapses for g in plan.GROUPS])
    not_lapsing = np.flatnonzero(~lapsing)
    redraw = owner_is_new & lapsing[group]
    p = shares[not_lapsing] / shares[not_lapsing].sum()
    group[redraw] = not_lapsing[rng.choice(len(not_lapsing), size=int(redraw.sum()), p=p)]
    return group


def _account_created(
    rng: np.random.Generator,
    owner: np.ndarray,
    hire: np.ndarray,
    is_new: np.ndarray,
    start: int,
    as_of: int,
) -> np.ndarray:
    """Created dates: at a new hire's start (territory hand-over) or before/within the window."""
    n = len(owner)
    handover = hire[owner] + rng.integers(0, 45, n)
    before = start - rng.integers(1, 6 * 365, n)
    within = start + rng.integers(0, as_of - start - 90, n)
    veteran = np.where(rng.random(n) < 0.75, before, within)
    return np.where(is_new[owner], np.minimum(handover, as_of), veteran)


def _account_names(
    rng: np.random.Generator, n: int, region: np.ndarray, region_ids: tuple[str, ...]
) -> np.ndarray:
    """Realistic company names by region; a handful carry HTML/SQL special characters."""
    stems = rng.integers(0, len(NAME_STEMS), n)
    trades = rng.integers(0, len(NAME_TRADES), n)
    pick = rng.integers(0, 3, n)
    names = np.empty(n, dtype=object)
    for i in range(n):  # accounts are thousands, not millions
        suffixes = REGION_SUFFIXES.get(region_ids[region[i]].split("-")[0], REGION_SUFFIXES["na"])
        names[i] = f"{NAME_STEMS[stems[i]]} {NAME_TRADES[trades[i]]} {suffixes[pick[i]]}"
    slots = rng.choice(n, size=min(n, len(UNTRUSTED_NAMES)), replace=False)
    names[slots] = UNTRUSTED_NAMES[: len(slots)]
    return names


def _products(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The catalogue: ids, names, family index and list price (log-uniform in the family range)."""
    names, families, prices = [], [], []
    for f, family in enumerate(plan.FAMILIES):
        low, high = plan.FAMILY_PRICE_RANGE[family]
        for name in plan.FAMILY_PRODUCTS[family]:
            names.append(name)
            families.append(f)
            prices.append(round(float(np.exp(rng.uniform(np.log(low), np.log(high)))), -1) - 0.01)
    ids = np.array([f"PRD-{i + 1:03d}" for i in range(len(names))], dtype=object)
    return ids, np.array(names, dtype=object), np.array(families), np.array(prices)


def _managers(
    rng: np.random.Generator, rep_region: np.ndarray, region_ids: tuple[str, ...], start: int
) -> list[tuple[str, int, int]]:
    """First-line managers: (manager id, region index, hire day), about one per eight reps."""
    managers = []
    for region in range(len(region_ids)):
        n = -(-int((rep_region == region).sum()) // plan.REPS_PER_MANAGER)
        for _ in range(n):
            hire = start - 400 - int(rng.integers(0, 8 * 365))
            managers.append((f"MGR-{len(managers) + 1:03d}", region, hire))
    return managers


def _reps_table(
    rng: np.random.Generator,
    rep_ids: np.ndarray,
    rep_region: np.ndarray,
    rep_hire_day: np.ndarray,
    region_ids: tuple[str, ...],
    managers: list[tuple[str, int, int]],
) -> pa.Table:
    """The reps table: managers first, then reps pointing at a manager of their region."""
    n_people = len(managers) + len(rep_ids)
    first = rng.integers(0, len(FIRST_NAMES), n_people)
    last = rng.integers(0, len(LAST_NAMES), n_people)
    names = [f"{FIRST_NAMES[a]} {LAST_NAMES[b]}" for a, b in zip(first, last, strict=True)]
    manager_of = []
    for i, region in enumerate(rep_region):
        own = [m[0] for m in managers if m[1] == region]
        manager_of.append(own[i % len(own)])
    hire_days = [m[2] for m in managers] + [int(d) for d in rep_hire_day]
    return pa.table(
        {
            "rep_id": [m[0] for m in managers] + list(rep_ids),
            "rep_name": names,
            "role": ["manager"] * len(managers) + ["rep"] * len(rep_ids),
            "region_id": [region_ids[m[1]] for m in managers] + [region_ids[r] for r in rep_region],
            "manager_id": [None] * len(managers) + manager_of,
            "hire_date": np.array(hire_days, dtype="datetime64[D]"),
        },
        schema=TABLES["reps"].schema,
    )


def _accounts_table(
    rng: np.random.Generator,
    account_ids: np.ndarray,
    account_names: np.ndarray,
    group: np.ndarray,
    region: np.ndarray,
    owner_ids: np.ndarray,
    created: np.ndarray,
    region_ids: tuple[str, ...],
) -> pa.Table:
    """The accounts table; size band drawn from the behaviour group's mix."""
    mixes = np.cumsum([g.size_band_mix for g in plan.GROUPS], axis=1)[group]
    band = (rng.random(len(group))[:, None] > mixes).sum(axis=1).clip(0, len(SIZE_BANDS) - 1)
    industry = rng.integers(0, len(INDUSTRIES), len(group))
    return pa.table(
        {
            "account_id": account_ids,
            "account_name": account_names,
            "industry": np.array(INDUSTRIES, dtype=object)[industry],
            "size_band": np.array(SIZE_BANDS, dtype=object)[band],
            "region_id": np.array(region_ids, dtype=object)[region],
            "owner_rep_id": owner_ids,
            "created_date": created.astype("datetime64[D]"),
        },
        schema=TABLES["accounts"].schema,
    )


def region_index(shape: Shape, region_id: str, fallback: int) -> int:
    """Return the index of a region id, or ``fallback`` (clipped) if it is not configured."""
    if region_id in shape.region_ids:
        return shape.region_ids.index(region_id)
    return min(fallback, len(shape.region_ids) - 1)
