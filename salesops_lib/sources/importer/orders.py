"""Build recipe ``order_lines``: a plain order book (one row per order line) -> snapshot tables.

Fields of source ``orders``: order_date, customer, amount (required); order_id, product,
region, rep, quantity (optional). What a field does not give comes from ``constants``:
``region_id``/``region_name`` (one region), ``product_name``/``product_family`` (one product),
``rep_name`` (one house-account rep per region, id ``house-<region>``), ``industry`` and
``size_band`` for every customer account.

Rules: a blank date, customer, amount or region (rule ``missing_<field>``), an unknown region
(when ``regions`` is given), a negative amount, a quantity below 1, or a date after the as-of
date quarantines the line. Region (without ``regions``), product and rep ids are derived
collision-free (:mod:`~salesops_lib.sources.importer.ids`); a name with no letter or digit
(``empty_id``) or a region named like the reserved company id ``all`` (``reserved_id``)
quarantines the line. Without ``order_id`` each line is its own order
(``L<line number in the file>``). Unit price = amount / quantity rounded up to the cent and the
sub-cent remainder is a discount, so quantity x unit price x (1 - discount) = amount. A
product's list price is the median unit price of its lines (positive ones); accounts are
created and reps hired on their first order date.

Region and rep per line: every line keeps the region and the rep it names, so one customer may
buy in several regions and one rep may sell in several (a rep is one ``rep_id`` whatever the
region). Bookings count in the line's region (``fct_bookings.region_id``). The snapshot still
needs one home region per account and per rep (``accounts.region_id``, ``reps.region_id``:
who a rep reports to, whose quota a rep's is): it is the region of the key's lines with the
largest booked amount; a tie goes to the region booked first (order date, then line in the
file). An account's owner is the rep of its home region (by the rep's home) with the most of
its lines (ties: the smallest rep id), or that region's house account when no such rep sold
to it, so the owner always works in the account's region.
``opportunity_id`` stays null: this kind writes no opportunities, so a deal id could not
resolve (the ``crm_opportunities`` kind links won deals to their order lines).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesops_lib.sources.importer.build import BuiltTables, empty_table
from salesops_lib.sources.importer.ids import derive_ids, reserved_names
from salesops_lib.sources.importer.mapping import Mapping
from salesops_lib.sources.importer.parsing import norm_key
from salesops_lib.sources.importer.quarantine import check_failed_share, combine
from salesops_lib.sources.importer.rules import RuleBook, source_columns
from salesops_lib.sources.importer.sources import LoadedSource


def home_regions(lines: pd.DataFrame, key: str) -> pd.Series:
    """The home region of each value of ``key``: where most of its money was booked.

    Ties (equal booked amounts) go to the region booked first: earliest order date, then
    earliest line in the file. Deterministic for any order of ``lines``.

    Args:
        lines: Order lines with ``key``, region_id, amount, order_date and ``_row`` (the line
            in the file).
        key: The column to find home regions for (``account_id`` or ``rep_id``).

    Returns:
        region_id indexed by the values of ``key`` (sorted).
    """
    ordered = lines[[key, "region_id", "amount", "order_date", "_row"]].sort_values(
        ["order_date", "_row"], kind="stable"
    )
    ordered = ordered.assign(_position=np.arange(len(ordered)))
    per_region = (
        ordered.groupby([key, "region_id"], sort=False)
        .agg(booked=("amount", "sum"), first_line=("_position", "min"))
        .reset_index()
        .sort_values([key, "booked", "first_line"], ascending=[True, False, True], kind="stable")
    )
    return per_region.drop_duplicates(key).set_index(key)["region_id"]


def account_owners(lines: pd.DataFrame, account_home: pd.Series, rep_home: pd.Series) -> pd.Series:
    """The owner of each account: a rep of the account's home region who sold it the most.

    The owner is the rep with the most of the account's lines among the reps whose home region
    is the account's (ties: the smallest rep id), so an owner always works in the region the
    account is filed under. An account no such rep sold to is owned by its home region's house
    account (``house-<region>``).

    Args:
        lines: Order lines with account_id and rep_id.
        account_home: Home region per account (:func:`home_regions`).
        rep_home: Home region per rep (:func:`home_regions`).

    Returns:
        rep_id indexed by account_id (the index of ``account_home``).
    """
    sold = lines[["account_id", "rep_id"]]
    same_home = sold["account_id"].map(account_home) == sold["rep_id"].map(rep_home)
    counts = (
        sold[same_home]
        .groupby(["account_id", "rep_id"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["account_id", "n", "rep_id"], ascending=[True, False, True])
        .drop_duplicates("account_id")
        .set_index("account_id")["rep_id"]
    )
    owners = account_home.index.to_series().map(counts)
    return owners.fillna("house-" + account_home)


def build_order_lines(
    mapping: Mapping, sources: dict[str, LoadedSource], as_of: dt.date | None
) -> BuiltTables:
    """Build the snapshot tables from an order-lines export.

    Args:
        mapping: An ``order_lines`` mapping with one source, ``orders``.
        sources: The parsed source.
        as_of: The snapshot date; ``None`` uses the latest order date.

    Returns:
        The tables (no opportunities, stage history, quotas or targets) and every issue.
    """
    src = sources["orders"]
    f = src.frame
    if as_of is None:
        latest = f["order_date"].max()
        as_of = latest.date() if pd.notna(latest) else dt.date.today()
    as_of_ts = pd.Timestamp(as_of)
    c = mapping.constants
    default_region = str(c.get("region_id", "all-customers"))
    region_names = {default_region: str(c.get("region_name", default_region))}
    spec_columns = mapping.sources["orders"].columns
    has_region, has_rep = "region" in spec_columns, "rep" in spec_columns
    for optional in ("order_id", "product", "region", "rep", "quantity"):
        if optional not in f:
            f = f.assign(**{optional: pd.Series(None, index=f.index, dtype=object)})
    lookup = {k.strip().casefold(): r for k, r in mapping.regions.items()}
    if has_region:
        keys = norm_key(f["region"])
        if lookup:
            region_id = keys.map(lambda k: lookup[k].id if k in lookup else None)
            region_names.update({r.id: r.name for r in mapping.regions.values()})
        else:
            region_id = derive_ids(f["region"])
            named = region_id.notna() & (region_id != "") & ~reserved_names(f["region"])
            region_names.update(dict(zip(region_id[named], f["region"][named], strict=True)))
    else:
        region_id = pd.Series(default_region, index=f.index)
    quantity = pd.to_numeric(f["quantity"]).fillna(1.0)
    f = f.assign(region_id=region_id, quantity=quantity)
    customer = f["customer"]
    rep_name = f["rep"] if has_rep else None

    book = RuleBook(f, src.file, f["order_id"], source_columns(mapping, "orders"))
    book.region = region_id
    book.hit(f["customer"].isna(), "missing_customer", "customer")
    book.hit(f["order_date"].isna(), "missing_order_date", "order_date")
    book.hit(f["amount"].isna(), "missing_amount", "amount")
    negative, below_one = f["amount"] < 0, f["quantity"] < 1
    book.hit(negative, "negative_amount", "amount", values=f.loc[negative, "amount"].astype(str))
    book.hit(
        below_one,
        "quantity_not_positive",
        "quantity",
        values=f.loc[below_one, "quantity"].astype(str),
    )
    if has_region and not lookup:
        book.hit(region_id == "", "empty_id", "region", values=f["region"])
        book.hit(reserved_names(f["region"]), "reserved_id", "region", values=f["region"])
    product_id = derive_ids(f["product"])
    book.hit(product_id == "", "empty_id", "product", values=f["product"])
    late = f["order_date"] > as_of_ts
    book.hit(
        late, "after_as_of", "order_date", values=f.loc[late, "order_date"].dt.strftime("%Y-%m-%d")
    )
    if has_region:
        book.hit(f["region"].isna(), "missing_region", "region")
        book.hit(
            f["region"].notna() & region_id.isna(), "unknown_region", "region", values=f["region"]
        )
    house_ids = {r: f"house-{r}" for r in region_id.dropna().unique()}
    house_id = region_id.map(house_ids).fillna("house-")
    if rep_name is not None:
        rep_id = derive_ids(rep_name).where(rep_name.notna(), house_id)
        book.hit(rep_id == "", "empty_id", "rep", values=rep_name)
    else:
        rep_id = house_id
    book.owner = rep_id
    issues = combine([src.issues, book.issues()])
    check_failed_share(issues, src.file, src.rows, mapping.max_failed_share)

    kept = book.kept().assign(rep_id=rep_id, account_id=customer)
    kept = kept.drop(columns=["customer", "region"])
    del f, book, customer, region_id, house_id
    default_product = str(c.get("product_name", "All products"))
    product_name = kept["product"].fillna(default_product)
    kept["product_id"] = product_id[kept.index].fillna(
        derive_ids(pd.Series([default_product])).iloc[0]
    )
    if kept["order_id"].notna().any():
        kept["order_id"] = kept["order_id"].fillna("L" + kept["_row"].astype(str))
    else:
        kept["order_id"] = "L" + kept["_row"].astype(str).str.zfill(8)
    kept = kept.sort_values(["order_id", "_row"], kind="stable")
    kept["line_number"] = kept.groupby("order_id").cumcount() + 1
    amount = kept["amount"]  # source precision: rounding each line first would lose cents
    qty = kept["quantity"].astype("int64")
    unit = np.ceil(np.round(amount / qty * 100, 6)) / 100
    gross = qty * unit
    discount = np.where(gross > 0, 1 - amount / gross.where(gross > 0, 1.0), 0.0)
    order_lines = pd.DataFrame(
        {
            "order_id": kept["order_id"],
            "line_number": kept["line_number"],
            "order_date": kept["order_date"],
            "account_id": kept["account_id"],
            "rep_id": kept["rep_id"],
            "product_id": kept["product_id"],
            "quantity": qty,
            "unit_price": unit,
            "discount": np.clip(discount, 0.0, 1.0),
            "amount": amount,
            "region_id": kept["region_id"],
            "opportunity_id": pd.Series(None, index=kept.index, dtype=object),
        }
    )

    positive = order_lines[order_lines["unit_price"] > 0]
    prices = positive.groupby("product_id")["unit_price"].median().round(2)
    names = dict(zip(kept["product_id"], product_name[kept.index], strict=False))
    product_ids = sorted(order_lines["product_id"].unique())
    products = pd.DataFrame(
        {
            "product_id": product_ids,
            "product_name": [names[p] for p in product_ids],
            "family": str(c.get("product_family", "Unassigned")),
            "list_price": [float(prices.get(p, 0.01)) for p in product_ids],
        }
    )
    firsts = ["order_date", "_row", "account_id", "rep_id", "rep"]
    first_line = kept[firsts].sort_values(["order_date", "_row"], kind="stable")
    account_first = first_line.drop_duplicates("account_id")
    account_home = home_regions(kept, "account_id")
    rep_home = home_regions(kept, "rep_id")
    owners = account_owners(kept, account_home, rep_home)
    accounts = pd.DataFrame(
        {
            "account_id": account_first["account_id"].to_numpy(),
            "account_name": account_first["account_id"].to_numpy(),
            "industry": str(c.get("industry", "Unknown")),
            "size_band": str(c.get("size_band", "SMB")),
            "region_id": account_home.loc[account_first["account_id"]].to_numpy(),
            "owner_rep_id": owners.loc[account_first["account_id"]].to_numpy(),
            "created_date": account_first["order_date"].to_numpy(),
        }
    )
    rep_first = first_line.drop_duplicates("rep_id")
    house_owners = accounts[~accounts["owner_rep_id"].isin(rep_first["rep_id"])]
    house_first = house_owners.sort_values("created_date", kind="stable").drop_duplicates(
        "owner_rep_id"
    )
    house = str(c.get("rep_name", "House account"))
    rep_region = pd.concat(
        [rep_home.loc[rep_first["rep_id"]], house_first.set_index("owner_rep_id")["region_id"]]
    )
    rep_label = pd.concat([rep_first["rep"], pd.Series(None, index=house_first.index)])
    reps = pd.DataFrame(
        {
            "rep_id": rep_region.index.to_numpy(),
            "rep_name": rep_label.fillna(
                house + " (" + rep_region.map(region_names).set_axis(rep_label.index) + ")"
            ).to_numpy(),
            "role": "rep",
            "region_id": rep_region.to_numpy(),
            "manager_id": None,
            "hire_date": np.concatenate(
                [rep_first["order_date"].to_numpy(), house_first["created_date"].to_numpy()]
            ),
        }
    )
    used_regions = sorted(kept["region_id"].unique())
    regions = pd.DataFrame(
        {"region_id": used_regions, "region_name": [region_names.get(r, r) for r in used_regions]}
    )
    return BuiltTables(
        as_of=as_of,
        tables={
            "regions": regions,
            "reps": reps,
            "accounts": accounts,
            "products": products,
            "order_lines": order_lines,
            "quotas": empty_table("quotas"),
            "region_targets": empty_table("region_targets"),
            "opportunities": empty_table("opportunities"),
            "opportunity_stage_history": empty_table("opportunity_stage_history"),
        },
        issues=issues,
        source_rows={src.file: src.rows},
    )
