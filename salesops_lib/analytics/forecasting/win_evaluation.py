"""The deal win-probability model's parts: the logistic pipeline, stage-only baseline, evaluation.

* :func:`make_model`: logistic regression on one-hot stage / forecast category and scaled
  numbers (a scikit-learn Pipeline).
* :func:`stage_rates` / :func:`stage_only_probability`: the baseline that knows only the stage.
* :func:`out_of_fold` and :func:`reliability_table`: out-of-fold probabilities (GroupKFold by
  deal) and the reliability curve (one row per probability bin).
* Slips: :func:`slip_partial_dependence` (one row per push count), :func:`odds_ratio_per_push`,
  :func:`empirical_slips` (win rate by pushes among closed deals that reached the last open
  stage, Negotiation in the default model) and :func:`empirical_ratio_per_push`.

Stages are the stage model's (``stages``: the warehouse's ``stage_model``; by default the
workspace's configured one): the one-hot stage categories are its open stages, the slip stage
is its last open stage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from salesops_lib.analytics.forecasting.win_examples import CATEGORICAL_FEATURES
from salesops_lib.core.config import stage_model_or_configured
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns
from salesops_lib.core.stages import FORECAST_CATEGORIES, StageModel

N_SPLITS = 5
RELIABILITY_BINS = 10
PUSH_LEVELS = (0, 1, 2, 3)
"""Push counts of the slip tables; 3 stands for 3 or more."""


def slip_stage(stages: StageModel | None = None) -> str:
    """The stage whose closed deals the slip tables follow: the model's last open stage."""
    return stage_model_or_configured(stages).last_open_stage


def stage_rates(examples: pd.DataFrame, stages: StageModel | None = None) -> pd.DataFrame:
    """Empirical win-within-window rate per stage (the stage-only baseline).

    Args:
        examples: Training examples (stage, won).
        stages: The stage model (for the funnel order); default the workspace's.

    Returns:
        A new frame: stage, examples, won, win_rate; stages in funnel order.
    """
    require_columns(examples, ["stage", "won"], "stage_rates(examples)")
    grouped = examples.groupby("stage")["won"].agg(examples="size", won="sum").reset_index()
    grouped["win_rate"] = grouped["won"] / grouped["examples"]
    order = {s: i for i, s in enumerate(stage_model_or_configured(stages).open_stages)}
    grouped["_order"] = grouped["stage"].map(order).fillna(len(order))
    return grouped.sort_values(["_order", "stage"]).drop(columns="_order").reset_index(drop=True)


def stage_only_probability(rates: pd.DataFrame, stages: pd.Series, overall: float) -> np.ndarray:
    """Look up each stage's rate; a stage unseen in training gets the ``overall`` rate."""
    lookup = dict(zip(rates["stage"], rates["win_rate"], strict=True))
    return stages.map(lookup).fillna(overall).astype(float).to_numpy()


def make_model(features: tuple[str, ...], stages: StageModel | None = None) -> Pipeline:
    """A fresh logistic-regression pipeline over the given features (one-hot + scaling).

    Args:
        features: Feature columns; those in :data:`CATEGORICAL_FEATURES` are one-hot encoded.
        stages: The stage model (its open stages are the stage categories); default the
            workspace's.

    Returns:
        An unfitted scikit-learn Pipeline.
    """
    open_stages = list(stage_model_or_configured(stages).open_stages)
    categorical = [f for f in features if f in CATEGORICAL_FEATURES]
    numeric = [f for f in features if f not in CATEGORICAL_FEATURES]
    encoder = OneHotEncoder(
        categories=[
            open_stages if f == "stage" else list(FORECAST_CATEGORIES) for f in categorical
        ],
        handle_unknown="ignore",
    )
    transformers = [("cat", encoder, categorical), ("num", StandardScaler(), numeric)]
    return Pipeline(
        [
            ("features", ColumnTransformer(transformers)),
            ("logistic", LogisticRegression(C=1.0, max_iter=2000)),
        ]
    )


def out_of_fold(
    examples: pd.DataFrame,
    features: tuple[str, ...],
    n_splits: int = N_SPLITS,
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Out-of-fold probabilities of the model and of the stage-only baseline.

    Folds are grouped by opportunity (GroupKFold), so a deal's weekly copies never sit on both
    sides of a split.

    Args:
        examples: Training examples (opportunity_id, features, won).
        features: The model's feature columns.
        n_splits: Number of folds (at most the number of distinct deals).
        stages: The stage model; default the workspace's.

    Returns:
        A new frame: opportunity_id, stage, won, p_model, p_stage.
    """
    model_stages = stage_model_or_configured(stages)
    groups = examples["opportunity_id"].to_numpy()
    splits = min(n_splits, len(np.unique(groups)))
    if splits < 2:
        raise ParameterError("out_of_fold: the examples need at least two distinct opportunities")
    p_model = np.full(len(examples), np.nan)
    p_stage = np.full(len(examples), np.nan)
    y = examples["won"].astype(int).to_numpy()
    for train, test in GroupKFold(n_splits=splits).split(examples, y, groups):
        fold = examples.iloc[train]
        rates = stage_rates(fold, model_stages)
        p_stage[test] = stage_only_probability(
            rates, examples["stage"].iloc[test], float(fold["won"].mean())
        )
        if fold["won"].nunique() == 2:
            model = make_model(features, model_stages).fit(fold[list(features)], y[train])
            p_model[test] = model.predict_proba(examples.iloc[test][list(features)])[:, 1]
        else:
            p_model[test] = float(fold["won"].mean())
    return pd.DataFrame(
        {
            "opportunity_id": groups,
            "stage": examples["stage"].to_numpy(),
            "won": y,
            "p_model": p_model,
            "p_stage": p_stage,
        }
    )


def reliability_table(
    outcome: np.ndarray, probability: np.ndarray, bins: int = RELIABILITY_BINS
) -> pd.DataFrame:
    """Reliability curve: mean predicted probability against the observed rate, per bin.

    Args:
        outcome: 0/1 outcomes.
        probability: Predicted probabilities.
        bins: Number of equal-width bins on [0, 1]; empty bins are left out.

    Returns:
        A new frame: bin_lower, bin_upper, mean_predicted, observed_rate, examples.
    """
    observed, predicted = calibration_curve(outcome, probability, n_bins=bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], probability, side="right")
    counts = np.bincount(ids, minlength=bins)
    used = np.flatnonzero(counts > 0)
    return pd.DataFrame(
        {
            "bin_lower": edges[used],
            "bin_upper": edges[used + 1],
            "mean_predicted": predicted,
            "observed_rate": observed,
            "examples": counts[used],
        }
    )


def slip_partial_dependence(
    model: Pipeline,
    examples: pd.DataFrame,
    features: tuple[str, ...],
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Mean predicted probability with every example's push count set to 0, 1, 2 and 3.

    Args:
        model: The fitted model.
        examples: The examples whose other features are held at their observed values.
        features: The model's feature columns (must include push_count).
        stages: The stage model; default the workspace's.

    Returns:
        A new frame: push_count, mean_probability, and the same restricted to examples in
        the last open stage (:func:`slip_stage`; the column keeps the default model's name,
        ``mean_probability_negotiation``, NaN when there are none).
    """
    negotiation = (examples["stage"] == slip_stage(stages)).to_numpy()
    rows = []
    for pushes in PUSH_LEVELS:
        probability = model.predict_proba(
            examples[list(features)].assign(push_count=float(pushes))
        )[:, 1]
        rows.append(
            {
                "push_count": pushes,
                "mean_probability": float(probability.mean()),
                "mean_probability_negotiation": (
                    float(probability[negotiation].mean()) if negotiation.any() else float("nan")
                ),
            }
        )
    return pd.DataFrame(rows)


def odds_ratio_per_push(model: Pipeline) -> float:
    """The fitted logistic model's odds ratio for one more push (all else equal)."""
    columns = model.named_steps["features"]
    names = list(columns.get_feature_names_out())
    coef = model.named_steps["logistic"].coef_[0]
    scaler = columns.named_transformers_["num"]
    numeric = list(columns.transformers_[1][2])
    scale = float(scaler.scale_[numeric.index("push_count")])
    return float(np.exp(coef[names.index("num__push_count")] / scale))


def empirical_slips(
    current: pd.DataFrame, stage_changes: pd.DataFrame, stages: StageModel | None = None
) -> pd.DataFrame:
    """Win rate by push count at close among closed deals that reached the last open stage.

    Args:
        current: The as-of snapshot's opportunities (opportunity_id, is_closed, is_won,
            push_count).
        stage_changes: Its stage history (opportunity_id, stage).
        stages: The stage model (:func:`slip_stage`); default the workspace's.

    Returns:
        A new frame: push_count (0, 1, 2, 3 = 3 or more), closed, won, win_rate,
        ratio_to_previous (win rate over the previous row's).
    """
    slip = slip_stage(stages)
    reached = set(stage_changes.loc[stage_changes["stage"] == slip, "opportunity_id"])
    closed = current[current["is_closed"].astype(bool) & current["opportunity_id"].isin(reached)]
    pushes = closed["push_count"].fillna(0).astype(int).clip(upper=PUSH_LEVELS[-1])
    table = (
        closed.assign(push_count=pushes, won=closed["is_won"].astype(int))
        .groupby("push_count")["won"]
        .agg(closed="size", won="sum")
        .reindex(list(PUSH_LEVELS), fill_value=0)
        .reset_index()
    )
    rate = table["won"] / table["closed"].where(table["closed"] > 0)
    return table.assign(win_rate=rate, ratio_to_previous=rate / rate.shift(1))


def empirical_ratio_per_push(table: pd.DataFrame) -> float:
    """Win-rate ratio per push: exp of the closed-weighted slope of log win rate on push count.

    Args:
        table: :func:`empirical_slips` rows.

    Returns:
        The ratio, or NaN with fewer than two push counts that have wins.
    """
    usable = table[(table["won"] > 0) & (table["push_count"] < PUSH_LEVELS[-1])]
    if len(usable) < 2:
        return float("nan")
    slope = np.polyfit(
        usable["push_count"].astype(float),
        np.log(usable["win_rate"].astype(float)),
        1,
        w=np.sqrt(usable["closed"].astype(float)),
    )[0]
    return float(np.exp(slope))
