"""The stage model of a snapshot: read it, check it against the workspace's, and tabulate it.

A snapshot records the stage model its opportunities were built with in ``_stages.json``
(:data:`~salesops_lib.core.stages.STAGE_FILE`, written by the CRM importer); a snapshot without
it (the demo's) uses the default model. The warehouse builds ``ref_stages`` from that model, and
refuses a snapshot whose stages (names, order, outcomes) are not the workspace's configured ones,
so a funnel is never silently drawn with another CRM's stages.
"""

from __future__ import annotations

from typing import Any

from salesops_lib.core.errors import ConfigError, SnapshotError
from salesops_lib.core.stages import (
    DEFAULT_STAGE_MODEL,
    STAGE_FILE,
    StageModel,
    stage_model_from_json,
)
from salesops_lib.data.snapshot import Snapshot


class StageModelMismatch(SnapshotError):
    """A snapshot's stage model is not the workspace's configured one."""


def snapshot_stage_model(snapshot: Snapshot) -> StageModel:
    """The stage model a snapshot's opportunities use.

    Args:
        snapshot: An opened snapshot.

    Returns:
        The model in its ``_stages.json``; the default model when it has none (the demo's,
        and snapshots written before stage models were configurable).

    Raises:
        SnapshotError: If the file is listed but is not a valid stage model.
    """
    if STAGE_FILE not in snapshot.manifest.get("files", {}):
        return DEFAULT_STAGE_MODEL
    path = snapshot.extra_path(STAGE_FILE)
    try:
        return stage_model_from_json(path.read_bytes(), path)
    except (ConfigError, OSError) as exc:
        raise SnapshotError(f"snapshot {snapshot.snapshot_id}: {exc}") from None


def check_stage_model(snapshot: Snapshot, model: StageModel, configured: StageModel) -> None:
    """Refuse a snapshot whose stages are not the workspace's (names, order and outcomes).

    Raises:
        StageModelMismatch: Naming both stage lists and the two ways to fix it.
    """
    if model.same_stages(configured):
        return
    raise StageModelMismatch(
        f"snapshot {snapshot.snapshot_id} ({snapshot.path}) uses stages [{model.outline()}] but "
        f"the workspace configuration declares [{configured.outline()}]; set SALESOPS_CONFIG to "
        "the workspace this snapshot belongs to, or re-import it under this configuration"
    )


def stage_rows(model: StageModel) -> list[tuple[Any, ...]]:
    """One ``ref_stages`` row per stage of ``model``, in funnel order."""
    return [
        (
            stage.name,
            order,
            stage.is_closed,
            stage.outcome == "won",
            stage.outcome == "lost",
            list(stage.allowed_categories),
            stage.forecast_category,
            stage.probability,
        )
        for order, stage in enumerate(model.stages, start=1)
    ]
