"""The learned part of the answer decision: its probability that the best candidate answers the question,
and the row it reads. Below the model's threshold the decision is a refusal.

Two kinds, each shipped as plain numbers in `answerability.json` (`make train`, `rag.evaluation.train`,
writes the one that wins on validation): a logistic model over the signals, and gradient-boosted trees
over the same row (they can read an interaction of signals, say a high verifier score on a sentence
without the asked kind, that a weighted sum cannot). `load_model` picks the kind by its name in the file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answering.signals import SIGNALS
from rag.types import Candidate

MODEL_FILE = Path(__file__).with_name("answerability.json")
# The verifier's (rag.answering.verifier): its probability for the best sentence, and its best over the
# `verified` top candidates; 0 when the judge has no verifier (a model that reads them needs one).
VERIFIER_FEATURES = ("verifier", "verifier_best")
FEATURES = SIGNALS + ("score", "eligible", "gap", "dense_lead") + VERIFIER_FEATURES
# What the shipped model reads: every signal. Left out in turn (`python -m rag.evaluation.fit --loo`), a
# five-signal model refused fewer unanswerable questions (0.57 against 0.77) for slightly fewer false
# refusals (0.07 against 0.11): bench/results.md has both.
DECISION_FEATURES = FEATURES


def columns_of(features: tuple[str, ...]) -> list[int]:
    unknown = sorted(set(features) - set(FEATURES))
    if unknown:
        raise ValueError(f"the model does not fit this code (features {unknown} unknown): refit it")
    return [FEATURES.index(f) for f in features]


@dataclass(frozen=True)
class LogisticModel:
    """Logistic weights over standardised `features` (a subset of FEATURES) of the best sentence, and the
    refusal threshold."""
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: tuple[str, ...] = ()
    kind = "logistic"

    @property
    def reads_verifier(self) -> bool:
        return any(f in VERIFIER_FEATURES for f in self.features)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """`rows`: full decision rows (one per question, columns in FEATURES order)."""
        z = (np.atleast_2d(rows)[:, columns_of(self.features)] - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias)))

    def to_json(self) -> dict:
        return {"kind": self.kind, "features": list(self.features), "mean": [round(x, 6) for x in self.mean],
                "scale": [round(x, 6) for x in self.scale], "weights": [round(x, 6) for x in self.weights],
                "bias": round(self.bias, 6), "threshold": self.threshold, "fitted_on": list(self.fitted_on)}

    @classmethod
    def from_json(cls, data: dict) -> LogisticModel:
        model = cls(tuple(data["features"]), tuple(data["mean"]), tuple(data["scale"]), tuple(data["weights"]),
                    float(data["bias"]), float(data["threshold"]), tuple(data.get("fitted_on", ())))
        columns_of(model.features)
        if not len(model.features) == len(model.mean) == len(model.scale) == len(model.weights):
            raise ValueError("the model's features and weights differ in number: refit it")
        return model


@dataclass(frozen=True, eq=False)
class BoostedTrees:
    """A sum of regression trees over `features`, through a sigmoid (scikit-learn's histogram gradient
    boosting, exported by `rag.evaluation.train`). Each array is trees x nodes; node 0 is a tree's root,
    an inner node sends a row left when its feature is at most `split`, and a node whose `left` is 0 is a
    leaf holding `value`. Shorter trees are padded with leaves that are never reached."""
    features: tuple[str, ...]
    feature: np.ndarray
    split: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    baseline: float
    threshold: float
    fitted_on: tuple[str, ...] = ()
    kind = "boosted_trees"

    @property
    def reads_verifier(self) -> bool:
        return any(f in VERIFIER_FEATURES for f in self.features)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """All trees walked at once, one level a step: a few array lookups per level, not a loop per tree."""
        x = np.atleast_2d(rows)[:, columns_of(self.features)]
        trees = np.arange(self.left.shape[0])
        row = np.arange(len(x))[:, None]
        node = np.zeros((len(x), len(trees)), dtype=np.int64)
        while (inner := self.left[trees, node] != 0).any():
            go_left = x[row, self.feature[trees, node]] <= self.split[trees, node]
            step = np.where(go_left, self.left[trees, node], self.right[trees, node])
            node = np.where(inner, step, node)
        raw = self.baseline + self.value[trees, node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-raw))

    def to_json(self) -> dict:
        trees = []
        for t in range(self.left.shape[0]):
            n = self.size(t)
            trees.append({"feature": self.feature[t, :n].tolist(), "split": self.split[t, :n].tolist(),
                          "left": self.left[t, :n].tolist(), "right": self.right[t, :n].tolist(),
                          "value": self.value[t, :n].tolist()})
        return {"kind": self.kind, "features": list(self.features), "baseline": self.baseline,
                "threshold": self.threshold, "fitted_on": list(self.fitted_on), "trees": trees}

    def size(self, tree: int) -> int:
        """Nodes the tree really has: past them, only padding."""
        return int(max(self.left[tree].max(), self.right[tree].max())) + 1

    @classmethod
    def from_trees(cls, features: tuple[str, ...], trees: list[dict], baseline: float, threshold: float,
                   fitted_on: tuple[str, ...] = ()) -> BoostedTrees:
        """`trees`: one dict of equal-length node lists (feature, split, left, right, value) per tree."""
        width = max(len(t["left"]) for t in trees)

        def padded(key: str, dtype) -> np.ndarray:
            return np.array([list(t[key]) + [0] * (width - len(t[key])) for t in trees], dtype=dtype)

        model = cls(tuple(features), padded("feature", np.int64), padded("split", float), padded("left", np.int64),
                    padded("right", np.int64), padded("value", float), float(baseline), float(threshold),
                    tuple(fitted_on))
        columns_of(model.features)
        if model.feature.max() >= len(model.features):
            raise ValueError("a tree reads a feature the model does not list: refit it")
        return model

    @classmethod
    def from_json(cls, data: dict) -> BoostedTrees:
        return cls.from_trees(tuple(data["features"]), data["trees"], data["baseline"], data["threshold"],
                              tuple(data.get("fitted_on", ())))


AnswerabilityModel = LogisticModel | BoostedTrees
KINDS: dict[str, type] = {"logistic": LogisticModel, "boosted_trees": BoostedTrees}


def model_from_json(data: dict) -> AnswerabilityModel:
    kind = data.get("kind", "logistic")  # files written before the trees name no kind: logistic
    if kind not in KINDS:
        raise ValueError(f"unknown answer model kind {kind!r}: expected one of {', '.join(KINDS)}")
    return KINDS[kind].from_json(data)


def load_model(path: Path = MODEL_FILE) -> AnswerabilityModel:
    return model_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def decision_row(candidates: list[Candidate]) -> np.ndarray:
    """The model's input: the best sentence's signals, its score, eligibility and leads, and the verifier's
    reading of it and of the best it verified."""
    best = candidates[0]
    gap = best.score - candidates[1].score if len(candidates) > 1 else best.score
    lead = best.signals["dense"] - float(np.mean([c.signals["dense"] for c in candidates]))
    verified = max((c.signals.get("verifier", 0.0) for c in candidates), default=0.0)
    return np.array([best.signals[f] for f in SIGNALS] + [best.score, float(best.eligible), gap, lead,
                                                          best.signals.get("verifier", 0.0), verified])
