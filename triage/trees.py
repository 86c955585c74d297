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
from dataclasses import dataclass
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
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray  # what a leaf adds to the score

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
                          nodes["missing_go_to_left"].astype(bool),
                          np.where(leaf, 0, nodes["left"].astype(np.int64) + offset),
                          np.where(leaf, 0, nodes["right"].astype(np.int64) + offset),
                          leaf, nodes["value"]))
            offset += len(nodes)
        columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
        return cls(float(np.ravel(fitted._baseline_prediction)[0]), np.array(roots, np.int64),
                   columns[0].astype(np.int64), columns[1].astype(np.float64), columns[2],
                   columns[3], columns[4], columns[5], columns[6].astype(np.float64))

    @classmethod
    def from_arrays(cls, baseline: float, arrays: dict[str, np.ndarray], width: int) -> Trees:
        """Trees from saved arrays, checked to be trees over ``width`` features: every
        inner node's children come after it in its own tree, so reading ends."""
        trees = cls(float(baseline), *(np.asarray(arrays[name]) for name in ARRAYS))
        nodes = len(trees.leaf)
        ends = np.append(trees.roots[1:], nodes)
        tree_of = np.searchsorted(trees.roots, np.arange(nodes), side="right") - 1
        inner = ~trees.leaf.astype(bool)
        number = np.arange(nodes)
        if not (trees.roots.ndim == 1 and len(trees.roots) > 0 and trees.roots[0] == 0
                and (np.diff(trees.roots) > 0).all() and trees.roots[-1] < nodes
                and all(len(getattr(trees, name)) == nodes for name in ARRAYS[1:])
                and np.isfinite(trees.value).all() and np.isfinite(trees.baseline)):
            raise ValueError("the tree arrays do not fit together")
        for child in (trees.left, trees.right):
            if not ((child[inner] > number[inner]) & (child[inner] < ends[tree_of][inner])).all():
                raise ValueError("a node's child is not further on in its own tree")
        if not ((trees.feature >= 0) & (trees.feature < width)).all():
            raise ValueError("a node reads a feature the ranker does not have")
        return Trees(trees.baseline, trees.roots.astype(np.int64),
                     trees.feature.astype(np.int64), trees.threshold.astype(np.float64),
                     trees.missing_left.astype(bool), trees.left.astype(np.int64),
                     trees.right.astype(np.int64), trees.leaf.astype(bool),
                     trees.value.astype(np.float64))

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in ARRAYS}

    def predict_proba(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        """For each row, the chances of the two classes (as scikit-learn gives them)."""
        x = np.asarray(rows, dtype=np.float64)
        if x.ndim != 2:
            x = x.reshape(len(x), -1)
        at = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        row = np.arange(len(x))[:, None]
        while True:
            inner = ~self.leaf[at]
            if not inner.any():
                break
            seen = x[row, self.feature[at]]
            left = np.where(np.isnan(seen), self.missing_left[at], seen <= self.threshold[at])
            at = np.where(inner, np.where(left, self.left[at], self.right[at]), at)
        raw = self.baseline + self.value[at].sum(axis=1)
        chance = 1.0 / (1.0 + np.exp(-raw))
        return np.column_stack([1.0 - chance, chance])
