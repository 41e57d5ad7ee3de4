"""Build recipe ``crm_opportunities``: teams, accounts, products and deals -> snapshot tables.

Rules (documented in config/mappings/maven_crm.yml too):

* Regions come from the teams file's region column through the mapping's ``regions``.
* Rep, manager, product and account ids are derived collision-free from the names
  (:mod:`~salesops_lib.sources.importer.ids`); a name with no letter or digit quarantines its
  row (``empty_id``).
* Agents become reps (role ``rep``, ``manager_id`` = their manager); managers become reps with
  role ``manager`` in their team's region. The source has no hire dates: a rep's hire date is
  the created date of their first kept deal (a manager's: the team's first), recorded once per
  rep as an ``imputed`` issue ``missing_hire_date``.
* The schema's accounts belong to one region, a CRM account may be sold to from several
  offices: an account becomes one account row per region it has deals in
  (``<slug>--<region>``), owned by the rep with most deals there (ties: smallest rep id),
  created on its first deal there. Industry is the sector after ``category_aliases``; size
  band from employees (``options.mid_market_from``/``enterprise_from``).
* An account with no kept deal has no region: it is left out (``account_without_deals``).
* A deal with no account that is open or lost is still pipeline: it is kept on the placeholder
  account of its owner's region, ``no-account--<region>`` named "(no account)" (industry
  ``unknown``, size band ``Unknown``), and flagged ``missing_account`` as ``imputed``, so pipeline,
  funnel and forecast counts equal the source. A WON deal with no account is quarantined: a
  booking needs a customer. No source name can take the id ``no-account`` (it is reserved).
* Stages are the workspace's own (``stages:`` in the workbench configuration,
  :mod:`salesops_lib.core.stages`): ``stages`` rules map source stage names onto them (a mapping
  without rules maps each configured stage name onto itself), and the snapshot records the
  model in ``_stages.json``. A deal's forecast category is its stage's default category (the
  source has none).
* Deals: stage through ``stages``; product through ``product_aliases`` (``corrected``); a blank
  owner, stage or product, an unknown one, a duplicated id, a negative amount, a close
  before create, or a date after the as-of date quarantines the deal. Open deals without a close
  date get the as-of date, without an amount the product's list price, without a created date
  the as-of date (``imputed``); closed deals without them are quarantined.
* Stage history: open deals enter their stage on the created date; closed deals enter
  ``options.closed_entry_stage`` (an open stage; default the second open stage, or the only
  one) on the created date and their closed stage on the close date.
* Order lines: one per won deal (quantity 1, unit price = amount, discount 0) on the close date.
* Quotas and region targets: none (empty tables).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesops_lib.core.config import configured_stage_model
from salesops_lib.core.errors import ConfigError
from salesops_lib.core.stages import STAGE_FILE, StageModel
from salesops_lib.data.schema import UNKNOWN_SIZE_BAND
from salesops_lib.sources.importer.build import BuiltTables, empty_table
from salesops_lib.sources.importer.ids import derive_ids
from salesops_lib.sources.importer.mapping import Mapping
from salesops_lib.sources.importer.parsing import norm_key
from salesops_lib.sources.importer.quarantine import check_failed_share, combine, make_issues
from salesops_lib.sources.importer.rules import RuleBook, duplicated_ids, source_columns
from salesops_lib.sources.importer.sources import LoadedSource

NO_ACCOUNT_SLUG = "no-account"
"""Account slug of the per-region placeholder for deals without an account (reserved)."""
NO_ACCOUNT_NAME = "(no account)"
_NO_ACCOUNT_KEY = "\x00no account"
"""Matching key of the placeholder: no source name normalises to it (keys are visible text)."""


def _regions(mapping: Mapping, teams: LoadedSource) -> tuple[pd.DataFrame, RuleBook]:
    frame = teams.frame
    book = RuleBook(frame, teams.file, frame["agent"], source_columns(mapping, "teams"))
    lookup = {k.strip().casefold(): r for k, r in mapping.regions.items()}
    keys = norm_key(frame["region"])
    region_ids = keys.map(lambda k: lookup[k].id if k in lookup else None)
    book.hit(frame["region"].isna(), "missing_region", "region")
    book.hit(
        frame["region"].notna() & region_ids.isna(),
        "unknown_region",
        "region",
        values=frame["region"],
    )
    book.hit(frame["agent"].isna(), "missing_rep", "agent")
    book.hit(
        duplicated_ids(norm_key(frame["agent"])), "duplicate_id", "agent", values=frame["agent"]
    )
    people = derive_ids(pd.concat([frame["agent"], frame["manager"]], ignore_index=True))
    rep_ids = pd.Series(people.iloc[: len(frame)].to_numpy(), index=frame.index)
    manager_ids = pd.Series(people.iloc[len(frame) :].to_numpy(), index=frame.index)
    book.hit(rep_ids == "", "empty_id", "agent", values=frame["agent"])
    book.hit(manager_ids == "", "empty_id", "manager", values=frame["manager"])
    book.region = region_ids
    return frame.assign(region_id=region_ids, rep_id=rep_ids, manager_id=manager_ids), book


def _size_band(employees: pd.Series, mapping: Mapping) -> pd.Series:
    mid = float(mapping.options.get("mid_market_from", 100))
    big = float(mapping.options.get("enterprise_from", 1000))
    return pd.Series(
        np.where(employees >= big, "Enterprise", np.where(employees >= mid, "Mid-Market", "SMB")),
        index=employees.index,
    )


def _with_placeholder(account_info: pd.DataFrame) -> pd.DataFrame:
    """Account info by matching key, plus the placeholder for deals without an account."""
    placeholder = pd.DataFrame(
        {
            "account": [NO_ACCOUNT_NAME],
            "industry": ["unknown"],
            "size_band": [UNKNOWN_SIZE_BAND],
            "account_slug": [NO_ACCOUNT_SLUG],
        },
        index=pd.Index([_NO_ACCOUNT_KEY]),
    )
    return pd.concat([account_info, placeholder.reindex(columns=account_info.columns)])


def _closed_entry_stage(mapping: Mapping, model: StageModel) -> str:
    """The open stage a closed deal's history starts in (``options.closed_entry_stage``)."""
    default = model.open_stages[min(1, len(model.open_stages) - 1)]
    entry = str(mapping.options.get("closed_entry_stage", default))
    if entry not in model.open_stages:
        raise ConfigError(
            f"mapping {mapping.name}: options.closed_entry_stage {entry!r} is not an open stage "
            f"of the workspace's stage model; allowed: {', '.join(model.open_stages)}"
        )
    return entry


def build_crm(
    mapping: Mapping, sources: dict[str, LoadedSource], as_of: dt.date | None
) -> BuiltTables:
    """Build the snapshot tables from CRM exports.

    Args:
        mapping: A ``crm_opportunities`` mapping with sources teams, accounts, products and
            pipeline.
        sources: The parsed sources.
        as_of: The snapshot date; ``None`` uses the latest date in the deals.

    Returns:
        The tables, every issue, and the workspace's stage model as ``_stages.json``.

    Raises:
        ConfigError: If ``options.closed_entry_stage`` is not an open stage of the model.
    """
    model = configured_stage_model()
    entry_stage = _closed_entry_stage(mapping, model)
    teams, accounts_src, products_src, deals = (
        sources["teams"],
        sources["accounts"],
        sources["products"],
        sources["pipeline"],
    )
    d = deals.frame
    if as_of is None:
        latest = pd.concat([d["created_date"], d["close_date"]]).max()
        as_of = latest.date() if pd.notna(latest) else dt.date.today()
    as_of_ts = pd.Timestamp(as_of)

    # regions and reps
    team, team_book = _regions(mapping, teams)
    team = team[~team_book.bad]
    regions = pd.DataFrame(
        {
            "region_id": [r.id for r in mapping.regions.values()],
            "region_name": [r.name for r in mapping.regions.values()],
        }
    )
    regions = regions.drop_duplicates("region_id")
    regions = regions[regions["region_id"].isin(team["region_id"])]
    agents = team
    managers = agents.dropna(subset=["manager"]).drop_duplicates("manager_id")
    rep_of_name = dict(zip(norm_key(agents["agent"]), agents["rep_id"], strict=True))
    region_of_rep = dict(zip(agents["rep_id"], agents["region_id"], strict=True))

    # products
    p = products_src.frame
    pbook = RuleBook(p, products_src.file, p["product"], source_columns(mapping, "products"))
    pbook.hit(p["product"].isna(), "missing_product", "product")
    pbook.hit(
        duplicated_ids(norm_key(p["product"])), "duplicate_id", "product", values=p["product"]
    )
    pbook.hit(
        ~(p["list_price"] > 0),
        "list_price_not_positive",
        "list_price",
        values=p["list_price"].astype(str),
    )
    product_ids = derive_ids(p["product"])
    pbook.hit(product_ids == "", "empty_id", "product", values=p["product"])
    products = pbook.kept()
    products = products.assign(product_id=product_ids[products.index])
    product_of_name = dict(zip(norm_key(products["product"]), products["product_id"], strict=True))
    price_of_product = dict(zip(products["product_id"], products["list_price"], strict=True))

    # accounts source
    a = accounts_src.frame
    abook = RuleBook(a, accounts_src.file, a["account"], source_columns(mapping, "accounts"))
    abook.hit(a["account"].isna(), "missing_account", "account")
    abook.hit(
        duplicated_ids(norm_key(a["account"])), "duplicate_id", "account", values=a["account"]
    )
    industry_aliases = {
        k.strip().casefold(): v for k, v in mapping.category_aliases.get("industry", {}).items()
    }
    industry_key = norm_key(a["industry"])
    aliased = industry_key.isin(industry_aliases)
    abook.hit(aliased, "category_alias", "industry", action="corrected", values=a["industry"])
    abook.hit(a["industry"].isna(), "missing_industry", "industry")
    abook.hit(a["employees"].isna(), "missing_employees", "employees")
    account_ids = derive_ids(a["account"], reserved=frozenset({NO_ACCOUNT_SLUG}))
    abook.hit(account_ids == "", "empty_id", "account", values=a["account"])
    account_src = abook.kept()
    account_src["industry"] = industry_key[account_src.index].map(
        lambda k: industry_aliases.get(k, k)
    )
    account_src["size_band"] = _size_band(account_src["employees"], mapping)
    account_src["account_slug"] = account_ids[account_src.index]
    account_info = _with_placeholder(account_src.set_index(norm_key(account_src["account"])))

    # deals
    book = RuleBook(d, deals.file, d["opportunity_id"], source_columns(mapping, "pipeline"))
    stage_map = mapping.stage_map(as_of) or {n.casefold(): n for n in model.names}
    stage = norm_key(d["stage"]).map(stage_map)
    owner = norm_key(d["owner"]).map(rep_of_name)
    region = owner.map(region_of_rep)
    book.owner, book.region = owner, region
    alias = {k.strip().casefold(): v.strip().casefold() for k, v in mapping.product_aliases.items()}
    product_key = norm_key(d["product"])
    is_alias = product_key.isin(alias)
    product = product_key.map(lambda k: alias.get(k, k)).map(product_of_name)
    no_account = d["account"].isna()
    account_key = norm_key(d["account"]).where(~no_account, _NO_ACCOUNT_KEY)
    is_open = stage.isin(model.open_stages)
    is_closed = stage.notna() & ~is_open
    is_won = stage.eq(model.won_stage)

    book.hit(
        duplicated_ids(d["opportunity_id"]),
        "duplicate_id",
        "opportunity_id",
        values=d["opportunity_id"],
    )
    book.hit(d["opportunity_id"].isna(), "missing_id", "opportunity_id")
    book.hit(d["owner"].isna(), "missing_owner", "owner")
    book.hit(d["owner"].notna() & owner.isna(), "unknown_owner", "owner", values=d["owner"])
    book.hit(d["stage"].isna(), "missing_stage", "stage")
    book.hit(d["stage"].notna() & stage.isna(), "unknown_stage", "stage", values=d["stage"])
    book.hit(is_alias, "product_alias", "product", action="corrected", values=d["product"])
    book.hit(d["product"].isna(), "missing_product", "product")
    book.hit(
        d["product"].notna() & product.isna(), "unknown_product", "product", values=d["product"]
    )
    book.hit(no_account & is_won, "missing_account", "account")
    book.hit(no_account & ~is_won, "missing_account", "account", action="imputed")
    book.hit(
        d["account"].notna() & ~account_key.isin(account_info.index),
        "unknown_account",
        "account",
        values=d["account"],
    )
    book.hit(d["amount"] < 0, "negative_amount", "amount", values=d["amount"].astype(str))
    book.hit(
        d["close_date"] < d["created_date"],
        "close_before_create",
        "close_date",
        values=d["close_date"].dt.strftime("%Y-%m-%d"),
    )
    book.hit(
        (d["created_date"] > as_of_ts) | (is_closed & (d["close_date"] > as_of_ts)),
        "after_as_of",
        "close_date",
    )
    book.hit(
        ~is_closed & d["created_date"].isna(),
        "missing_created_date",
        "created_date",
        action="imputed",
    )
    book.hit(is_closed & d["created_date"].isna(), "missing_created_date", "created_date")
    book.hit(is_open & d["close_date"].isna(), "missing_close_date", "close_date", action="imputed")
    book.hit(is_closed & d["close_date"].isna(), "missing_close_date", "close_date")
    book.hit(is_open & d["amount"].isna(), "missing_amount", "amount", action="imputed")
    book.hit(is_closed & d["amount"].isna(), "missing_amount", "amount")
    issues = [
        teams.issues,
        products_src.issues,
        accounts_src.issues,
        deals.issues,
        team_book.issues(),
        pbook.issues(),
        abook.issues(),
        book.issues(),
    ]

    kept = book.kept().assign(
        stage=stage,
        owner_rep_id=owner,
        region_id=region,
        product_id=product,
        account_key=account_key,
    )
    kept["created_date"] = kept["created_date"].fillna(as_of_ts)
    kept["close_date"] = kept["close_date"].fillna(as_of_ts)
    kept["amount"] = kept["amount"].fillna(kept["product_id"].map(price_of_product))

    # accounts: one per (account, region) with deals
    account_slug = kept["account_key"].map(account_info["account_slug"])
    kept["account_id"] = account_slug + "--" + kept["region_id"]
    counts = (
        kept.groupby(["account_id", "account_key", "region_id", "owner_rep_id"])
        .size()
        .rename("deals")
        .reset_index()
        .sort_values(["account_id", "deals", "owner_rep_id"], ascending=[True, False, True])
    )
    owners = counts.drop_duplicates("account_id")
    first = kept.groupby("account_id")["created_date"].min()
    info = account_info.loc[owners["account_key"]]
    accounts = pd.DataFrame(
        {
            "account_id": owners["account_id"].to_numpy(),
            "account_name": info["account"].to_numpy(),
            "industry": info["industry"].to_numpy(),
            "size_band": info["size_band"].to_numpy(),
            "region_id": owners["region_id"].to_numpy(),
            "owner_rep_id": owners["owner_rep_id"].to_numpy(),
            "created_date": first.loc[owners["account_id"]].to_numpy(),
        }
    )

    idle = account_src[~norm_key(account_src["account"]).isin(kept["account_key"])]
    issues.append(
        make_issues(
            idle,
            "account_without_deals",
            "quarantined",
            accounts_src.file,
            source_columns(mapping, "accounts")["account"],
            values=idle["account"],
            record_ids=idle["account"],
        )
    )

    # reps with hire date = first kept deal
    first_deal = kept.groupby("owner_rep_id")["created_date"].min()
    fallback = kept["created_date"].min() if len(kept) else as_of_ts
    agent_reps = pd.DataFrame(
        {
            "rep_id": agents["rep_id"].to_numpy(),
            "rep_name": agents["agent"].to_numpy(),
            "role": "rep",
            "region_id": agents["region_id"].to_numpy(),
            "manager_id": agents["manager_id"].where(agents["manager"].notna(), None).to_numpy(),
        }
    )
    agent_reps["hire_date"] = agent_reps["rep_id"].map(first_deal).fillna(fallback)
    team_first = agent_reps.groupby("manager_id")["hire_date"].min()
    manager_reps = pd.DataFrame(
        {
            "rep_id": managers["manager_id"].to_numpy(),
            "rep_name": managers["manager"].to_numpy(),
            "role": "manager",
            "region_id": managers["region_id"].to_numpy(),
            "manager_id": None,
        }
    )
    manager_reps["hire_date"] = manager_reps["rep_id"].map(team_first).fillna(fallback)
    reps = pd.concat([agent_reps, manager_reps], ignore_index=True)
    hire_rows = pd.DataFrame({"_row": np.zeros(len(reps), dtype="int64")})
    issues.append(
        make_issues(
            hire_rows,
            "missing_hire_date",
            "imputed",
            teams.file,
            "hire_date",
            record_ids=reps["rep_id"],
            owner_rep_ids=reps["rep_id"],
            region_ids=reps["region_id"],
        )
    )

    # opportunities, history, order lines
    opportunities = pd.DataFrame(
        {
            "opportunity_id": kept["opportunity_id"],
            "opportunity_name": kept["account"].fillna(NO_ACCOUNT_NAME)
            + " - "
            + kept["product_id"].map(
                dict(zip(products["product_id"], products["product"], strict=True))
            ),
            "account_id": kept["account_id"],
            "owner_rep_id": kept["owner_rep_id"],
            "product_id": kept["product_id"],
            "created_date": kept["created_date"],
            "stage": kept["stage"],
            "amount": kept["amount"],
            "close_date": kept["close_date"],
            "forecast_category": kept["stage"].map(
                {s.name: s.forecast_category for s in model.stages}
            ),
            "push_count": 0,
        }
    )
    closed = opportunities[~opportunities["stage"].isin(model.open_stages)]
    history = pd.concat(
        [
            pd.DataFrame(
                {
                    "opportunity_id": opportunities["opportunity_id"],
                    "sequence": 1,
                    "stage": opportunities["stage"].where(
                        opportunities["stage"].isin(model.open_stages), entry_stage
                    ),
                    "entered_date": opportunities["created_date"],
                }
            ),
            pd.DataFrame(
                {
                    "opportunity_id": closed["opportunity_id"],
                    "sequence": 2,
                    "stage": closed["stage"],
                    "entered_date": closed["close_date"],
                }
            ),
        ],
        ignore_index=True,
    )
    won = opportunities[opportunities["stage"] == model.won_stage]
    rep_region = dict(zip(reps["rep_id"], reps["region_id"], strict=True))
    order_lines = pd.DataFrame(
        {
            "order_id": won["opportunity_id"],
            "line_number": 1,
            "order_date": won["close_date"],
            "account_id": won["account_id"],
            "rep_id": won["owner_rep_id"],
            "product_id": won["product_id"],
            "quantity": 1,
            "unit_price": won["amount"],
            "discount": 0.0,
            "amount": won["amount"],
            "region_id": won["owner_rep_id"].map(rep_region),
            "opportunity_id": won["opportunity_id"],
        }
    )
    product_table = pd.DataFrame(
        {
            "product_id": products["product_id"],
            "product_name": products["product"],
            "family": products["family"].fillna("Unassigned"),
            "list_price": products["list_price"],
        }
    )
    all_issues = combine(issues)
    for source in sources.values():
        check_failed_share(all_issues, source.file, source.rows, mapping.max_failed_share)
    return BuiltTables(
        as_of=as_of,
        tables={
            "regions": regions,
            "reps": reps,
            "accounts": accounts,
            "products": product_table,
            "order_lines": order_lines,
            "quotas": empty_table("quotas"),
            "region_targets": empty_table("region_targets"),
            "opportunities": opportunities,
            "opportunity_stage_history": history,
        },
        issues=all_issues,
        source_rows={s.file: s.rows for s in sources.values()},
        extras={STAGE_FILE: model.to_json_bytes()},
    )
