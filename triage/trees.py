"""A fitted gradient-boosted tree ensemble (two classes) as arrays, read with NumPy alone.

The evidence ranker is fitted with scikit-learn's HistGradientBoostingClassifier
(bench/evidence_fit.py). What it learnt is a starting score and a few hundred small
trees, each node a feature, a threshold, where a missing value goes, its two
children or, at a leaf, a value: a handful of arrays. Reading them needs no
scikit-learn, so the service loads neither it nor SciPy (about 100 MB and a second
of start-up). ``tests/test_proof.py`` checks the chances against scikit-learn's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The arrays of a saved ensemble, one entry per node of every tree, and the roots.
ARRAYS = ("roots", "feature", "threshold", "missing_left", "left", "right", "leaf", "value")


@dataclass(frozen=True, slots=True)
class Trees:
    """Every tree's nodes in one set of arrays; ``roots`` holds each tree's first node,
    and children are numbered in the same arrays."""

    baseline: float  # the score before any tree (log odds)
    roots: np.ndarray
    feature: np.ndarray  # the feature an inner node compares
    threshold: np.ndarray  # ... going left at this or less
    missing_left: np.ndarray  # ... and where a missing value (NaN) goes
    left: np.ndarray  # a node's children; a leaf is its own
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray  # what a leaf adds to the score
    _depth: int = field(init=False, repr=False, compare=False)  # the deepest tree's

    def __post_init__(self) -> None:
        depth, frontier = 0, self.roots
        while len(frontier):  # ends: children come after their parent (from_arrays)
            frontier = frontier[~self.leaf[frontier]]
            if len(frontier):
                depth += 1
                frontier = np.concatenate([self.left[frontier], self.right[frontier]])
        object.__setattr__(self, "_depth", depth)

    @classmethod
    def of(cls, fitted: Any) -> Trees:
        """The trees of a fitted two-class HistGradientBoostingClassifier (numeric
        features only)."""
        parts, roots, offset = [], [], 0
        for (predictor,) in fitted._predictors:  # one tree per iteration for two classes
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise ValueError("categorical splits are not supported")
            roots.append(offset)
            leaf = nodes["is_leaf"].astype(bool)
            parts.append((np.where(leaf, 0, nodes["feature_idx"]), nodes["num_threshold"],
                          nodes["missing_go_to_left"], nodes["left"].astype(np.int64) + offset,
                          nodes["right"].astype(np.int64) + offset, leaf, nodes["value"]))
            offset += len(nodes)
        arrays = dict(zip(ARRAYS, [np.array(roots), *(np.concatenate(column) for column
                                                      in zip(*parts, strict=True))],
                          strict=True))
        return cls.from_arrays(float(np.ravel(fitted._baseline_prediction)[0]), arrays,
                               fitted.n_features_in_)

    @classmethod
    def from_arrays(cls, baseline: float, arrays: dict[str, np.ndarray], width: int) -> Trees:
        """Trees from saved arrays, checked to be trees over ``width`` features before
        anything reads them: every inner node's children come after it in its own
        tree, so reading ends."""
        got = {name: np.asarray(arrays[name]) for name in ARRAYS}
        roots, leaf = got["roots"], got["leaf"].astype(bool)
        nodes = len(leaf)
        if not (roots.ndim == 1 and len(roots) > 0 and roots[0] == 0
                and (np.diff(roots) > 0).all() and roots[-1] < nodes
                and all(got[name].shape == (nodes,) for name in ARRAYS[1:])
                and np.isfinite(got["value"]).all() and np.isfinite(baseline)):
            raise ValueError("the tree arrays do not fit together")
        ends = np.append(roots[1:], nodes)[np.searchsorted(roots, np.arange(nodes),
                                                           side="right") - 1]
        inner, number = ~leaf, np.arange(nodes)
        for child in (got["left"], got["right"]):
            if not ((child[inner] > number[inner]) & (child[inner] < ends[inner])).all():
                raise ValueError("a node's child is not further on in its own tree")
        if not ((got["feature"] >= 0) & (got["feature"] < width)).all():
            raise ValueError("a node reads a feature the ranker does not have")
        left, right = (np.where(leaf, number, got[side]).astype(np.int64)
                       for side in ("left", "right"))
        return cls(float(baseline), roots.astype(np.int64), got["feature"].astype(np.int64),
                   got["threshold"].astype(np.float64), got["missing_left"].astype(bool),
                   left, right, leaf, got["value"].astype(np.float64))

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in ARRAYS}

    def predict_proba(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        """For each row, the chances of the two classes (as scikit-learn gives them)."""
        x = np.asarray(rows, dtype=np.float64)
        if x.ndim != 2:
            x = x.reshape(len(x), -1)
        raw = np.concatenate([self._scores(x[start:start + _ROWS_AT_ONCE])
                              for start in range(0, len(x), _ROWS_AT_ONCE)] or [np.empty(0)])
        chance = 1.0 / (1.0 + np.exp(-raw))
        return np.column_stack([1.0 - chance, chance])

    def _scores(self, x: np.ndarray) -> np.ndarray:
        # Every row down every tree at once, one level a step; a leaf is its own child,
        # so after the deepest tree's depth in steps every row is at a leaf.
        at = np.broadcast_to(self.roots, (len(x), len(self.roots)))
        row = np.arange(len(x))[:, None]
        missing = bool(np.isnan(x).any())
        for _ in range(self._depth):
            seen = x[row, self.feature[at]]
            go_left = seen <= self.threshold[at]
            if missing:
                go_left = np.where(np.isnan(seen), self.missing_left[at], go_left)
            at = np.where(go_left, self.left[at], self.right[at])
        scores: np.ndarray = self.baseline + self.value[at].sum(axis=1)
        return scores


# Rows read at a time. Each step holds a few arrays of rows x trees: for a round of a
# first sync's evidence search (30,000 candidates and more) at once they took 100 MB,
# and out of the processor's cache, four times as long as in blocks of this size.
_ROWS_AT_ONCE = 256
