"""``salesops import MAPPING.yml SOURCE...``: read exports, build, validate, write a snapshot."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from salesops_lib.core.errors import ContractError, SnapshotError
from salesops_lib.data.snapshot import open_snapshot, parse_as_of, sha256_file
from salesops_lib.sources.importer.build import BuiltTables, write_built
from salesops_lib.sources.importer.crm import build_crm
from salesops_lib.sources.importer.mapping import Mapping, load_mapping
from salesops_lib.sources.importer.orders import build_order_lines
from salesops_lib.sources.importer.plan_files import add_plan_files
from salesops_lib.sources.importer.quarantine import summarize
from salesops_lib.sources.importer.sources import LoadedSource, load_sources


def build_order_book(
    mapping: Mapping, sources: dict[str, LoadedSource], as_of: dt.date | None
) -> BuiltTables:
    """The ``order_lines`` recipe: the order book, then its quota and target files (if named)."""
    return add_plan_files(mapping, sources, build_order_lines(mapping, sources, as_of))


RECIPES = {"crm_opportunities": build_crm, "order_lines": build_order_book}


@dataclass(frozen=True)
class ImportSummary:
    """What an import did.

    Attributes:
        snapshot_dir: The written snapshot folder.
        as_of: Its as-of date.
        mapping: The mapping's name.
        source_rows: File name -> data rows read.
        table_rows: Table name -> rows written.
        quarantined_rows: Source rows left out of the snapshot.
        issues: ``action:rule`` -> number of issues.
    """

    snapshot_dir: Path
    as_of: dt.date
    mapping: str
    source_rows: dict[str, int]
    table_rows: dict[str, int]
    quarantined_rows: int
    issues: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The summary as short lines for the command line."""
        out = [f"snapshot {self.as_of} written to {self.snapshot_dir} (mapping {self.mapping})"]
        out += [f"  read {n:,} rows from {f}" for f, n in sorted(self.source_rows.items())]
        out += [f"  {t}: {n:,} rows" for t, n in self.table_rows.items()]
        out.append(f"  quarantined source rows: {self.quarantined_rows:,}")
        out += [f"  {k}: {n:,}" for k, n in self.issues.items()]
        return out


def _validate(snapshots_dir: Path, as_of: dt.date) -> None:
    """Run every staging and mart contract on the written snapshot."""
    from salesops_lib.data.contract_report import format_results
    from salesops_lib.data.contracts import run_contracts
    from salesops_lib.data.warehouse import Warehouse

    snapshot = open_snapshot(snapshots_dir, as_of, verify=True)
    with Warehouse(snapshot) as wh:
        results = run_contracts(wh)
    failed = [r for r in results if not r.passed]
    if failed:
        raise ContractError(
            "imported snapshot breaks its contracts:\n" + format_results(failed, False)
        )


def _publish_validated(built: BuiltTables, snapshots_dir: Path, label: str, force: bool) -> Path:
    """Write the snapshot into a hidden scratch folder, validate it, then move it into place.

    The scratch folder sits beside the snapshots (``.tmp-import-*``, ignored by
    :func:`~salesops_lib.data.snapshot.list_snapshots`), so the final move is a rename on one disk.
    """
    final = snapshots_dir / built.as_of.isoformat()
    if final.exists() and not force:
        raise SnapshotError(
            f"snapshot {final} already exists; snapshots are immutable (pass --force to replace it)"
        )
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    scratch = snapshots_dir / f".tmp-import-{uuid.uuid4().hex}"
    trash = snapshots_dir / f".tmp-import-old-{uuid.uuid4().hex}"
    try:
        written = write_built(built, scratch, label, overwrite=False)
        _validate(scratch, built.as_of)
        if final.exists():
            final.rename(trash)
        written.rename(final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(trash, ignore_errors=True)
    return final


def import_snapshot(
    mapping_path: Path,
    sources: list[Path],
    as_of: str | None,
    snapshots_dir: Path,
    force: bool,
) -> ImportSummary:
    """Import exports with a mapping and publish a validated snapshot.

    The snapshot is written and validated in a scratch folder first and only then published to
    ``snapshots_dir``, so a snapshot that breaks a contract never appears.

    Args:
        mapping_path: The YAML mapping.
        sources: Source files, or folders holding them.
        as_of: Snapshot date ``YYYY-MM-DD``; ``None`` uses the latest date in the data.
        snapshots_dir: Folder of snapshots.
        force: Replace an existing snapshot of the same date.

    Returns:
        The import summary.

    Raises:
        ConfigError: If the mapping is invalid (file and line named).
        ImportDataError: If a file or required column is missing, or too many rows fail.
        ContractError: If the built snapshot breaks a contract.
        SnapshotError: If the snapshot exists and ``force`` is false.
    """
    mapping = load_mapping(mapping_path)
    date = parse_as_of(as_of) if as_of else None
    loaded = load_sources(mapping, [Path(s) for s in sources])
    built: BuiltTables = RECIPES[mapping.kind](mapping, loaded, date)
    checksums = ", ".join(f"{s.file} sha256={sha256_file(s.path)[:16]}" for s in loaded.values())
    label = f"import mapping={mapping.name} currency={mapping.currency}: {checksums}"
    folder = _publish_validated(built, Path(snapshots_dir), label, force)
    snapshot = open_snapshot(Path(snapshots_dir), built.as_of, verify=True)
    quarantined = built.issues[built.issues["action"] == "quarantined"]
    return ImportSummary(
        snapshot_dir=folder,
        as_of=built.as_of,
        mapping=mapping.name,
        source_rows=dict(built.source_rows),
        table_rows={t: snapshot.row_count(t) for t in built.tables},
        quarantined_rows=int(quarantined[["file", "row"]].drop_duplicates().shape[0]),
        issues=summarize(built.issues),
    )
