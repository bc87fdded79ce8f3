"""Train the answer decision on our own corpus, choose it on validation, score it on test (`make train`).

    python -m rag.evaluation.train [--work DIR] [--out rag/answering/answerability.json] [--seed 0]

The firewall (data/corpus/README.md): documents are split by document. Fitting reads the training
documents only (`data/corpus/train/`, `tests/data/train-docs/`). Every choice (the candidate, its L2,
the weight of the generated negatives, the feature set, the threshold) is the one with the best
validation figures (`data/corpus/validation/`). The test documents (`data/corpus/test/`, `data/eval/`)
are scored once, after the choice, and only reported: in the model card written beside the weights.

Four families of candidates, each giving the probability that the best sentence answers: logistic
regression (`rag.evaluation.fit`) over the signals with the verifier's (all, or pruned of collinear ones), and
without them; the verifier alone; gradient-boosted trees over the same signals (exported to plain numbers,
`rag.answering.model.BoostedTrees`). Each family's setting is chosen on quick figures, its threshold on the
whole pipeline; the best one on validation is written.
Rows: the questions of each training and validation document and its follow-ups (read with the turns
they lean on); generated negatives: every answerable training question with its gold sentences hidden,
or a name or year swapped for another of the document (`rag.evaluation.fit.collect`).
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.answering.model import (
    DECISION_FEATURES,
    FEATURES,
    MODEL_FILE,
    VERIFIER_FEATURES,
    AnswerabilityModel,
    BoostedTrees,
    load_model,
    save_model,
)
from rag.embedding.embedders import create_embedder
from rag.evaluation import evaluate, fit, heldout
from rag.evaluation.heldout import (
    PIPELINE_MAX_FALSE_REFUSALS,
    PIPELINE_THRESHOLDS,
    RememberingEmbedder,
    mean_row,
    pipeline_objective,
    pipeline_threshold,
    scored,
    served,
    type_rows,
)
from rag.settings import DEFAULT_SOURCE

TRAIN, VALIDATION, TEST = evaluate.TRAIN, evaluate.VALIDATION, evaluate.TEST
CARD_FILE = MODEL_FILE.with_name("answerability.card.json")
VIF_LIMIT = 10.0
MAX_FALSE_REFUSALS = 0.05  # of the decision alone on validation (refused answers that would be right)
GRID = {"l2": (0.3, 1.0, 3.0, 10.0), "hidden_weight": (0.25, 0.5, 1.0)}
BOOSTING_GRID = {"max_depth": (2, 3, 4), "max_iter": (200, 400)}
WHAT = {"logistic": "logistic regression", "boosted_trees": "gradient-boosted trees (scikit-learn's histogram "
        "gradient boosting, exported to plain numbers)"}
THRESHOLDS = tuple(round(t, 3) for t in np.linspace(0.02, 0.98, 49))


def discover(folders: tuple[Path, ...]) -> list[evaluate.SuiteDocument]:
    return [doc for folder in folders if folder.is_dir() for doc in evaluate.discover(folder, DEFAULT_SOURCE)]


def shared_names(splits: dict[str, list[evaluate.SuiteDocument]]) -> list[str]:
    """Names held by more than one document, in any splits: each document gets an index folder named after
    it under --work, so two of a name would rebuild one folder in turn."""
    names = [d.name for docs in splits.values() for d in docs]
    return sorted({n for n in names if names.count(n) > 1})


# ---------------------------------------------------------------- quick figures from collected rows

def outcomes(examples: list[fit.Example], probability: np.ndarray, threshold: float) -> dict[str, dict]:
    """Per document: answer accuracy, false refusals and refusals of unanswerable questions, as the
    decision alone would give them (the rules before and after it are left out: fast enough for a grid)."""
    by_document: dict[str, list] = {}
    for e, p in zip(examples, probability):
        by_document.setdefault(e.document, []).append((e.outcome, p >= threshold))
    out = {}
    for name, rows in by_document.items():
        answerable = [(o, a) for o, a in rows if o != "none"] or [("wrong", False)]
        unanswerable = [a for o, a in rows if o == "none"] or [False]
        out[name] = {"answer_acc": sum(o == "right" and a for o, a in answerable) / len(answerable),
                     "false_refusal": sum(o == "right" and not a for o, a in answerable) / len(answerable),
                     "refusal_unanswerable": sum(not a for a in unanswerable) / len(unanswerable)}
    return out


def objective(per_document: dict[str, dict], max_false_refusals: float = MAX_FALSE_REFUSALS) -> float:
    """Mean answer accuracy plus mean refusal of unanswerable questions (a wrong answer and a missed
    refusal cost the same), among the settings whose mean false refusals stay under the cap; past the
    cap, only how far past it counts. Without the cap the sum is best where half the right answers are
    refused (measured on validation: accuracy 0.46, false refusals 0.46), which no user wants."""
    rows = list(per_document.values())
    false_refusals = float(np.mean([r["false_refusal"] for r in rows]))
    if false_refusals > max_false_refusals:
        return -false_refusals
    return float(np.mean([r["answer_acc"] for r in rows]) + np.mean([r["refusal_unanswerable"] for r in rows]))


def best_threshold(examples: list[fit.Example], probability: np.ndarray) -> tuple[float, float]:
    scored = [(objective(outcomes(examples, probability, t)), -abs(t - 0.5), t) for t in THRESHOLDS]
    value, _, threshold = max(scored)
    return float(threshold), value


# ---------------------------------------------------------------- candidates

def vif_pruned(examples: list[fit.Example], features: tuple[str, ...], limit: float = VIF_LIMIT) -> tuple[str, ...]:
    """Drop the most collinear signal until every variance inflation factor is under `limit`."""
    x = np.array([e.row for e in examples if e.row is not None])
    kept = list(features)
    while len(kept) > 2:
        columns = x[:, [FEATURES.index(f) for f in kept]]
        columns = (columns - columns.mean(0)) / np.where(columns.std(0) < 1e-9, 1.0, columns.std(0))
        vifs = []
        for i in range(len(kept)):
            others = np.delete(columns, i, axis=1)
            design = np.hstack([others, np.ones((len(others), 1))])
            beta, *_ = np.linalg.lstsq(design, columns[:, i], rcond=None)
            residual = columns[:, i] - design @ beta
            r2 = 1 - residual.var() / max(columns[:, i].var(), 1e-12)
            vifs.append(1 / max(1 - r2, 1e-9))
        worst = int(np.argmax(vifs))
        if vifs[worst] < limit:
            break
        kept.pop(worst)
    return tuple(kept)


@dataclasses.dataclass
class Candidate:
    name: str
    settings: dict
    model: object  # has probabilities(rows) and threshold
    validation: dict  # per document, quick figures at the validation-chosen threshold
    score: float


def rows_of(examples: list[fit.Example]) -> np.ndarray:
    return np.array([e.row if e.row is not None else np.zeros(len(FEATURES)) for e in examples])


def probabilities(model, examples: list[fit.Example]) -> np.ndarray:
    p = model.probabilities(rows_of(examples))
    return np.where([e.row is None for e in examples], 0.0, p)


def thresholded(family: str, settings: dict, model: AnswerabilityModel, validation: list[fit.Example]) -> Candidate:
    """One fitted model as a candidate: its threshold set on validation, and its figures there."""
    threshold, value = best_threshold(validation, probabilities(model, validation))
    model = dataclasses.replace(model, threshold=threshold)
    return Candidate(family, {**settings, "threshold": threshold}, model,
                     outcomes(validation, probabilities(model, validation), threshold), value)


def logistic_candidates(train: list[fit.Example], validation: list[fit.Example]) -> list[Candidate]:
    signals = tuple(f for f in DECISION_FEATURES if f not in VERIFIER_FEATURES)
    feature_sets = {"all": DECISION_FEATURES, "pruned": vif_pruned(train, DECISION_FEATURES),
                    "without verifier": signals, "pruned without verifier": vif_pruned(train, signals),
                    "verifier alone": ("verifier",)}
    out = []
    for (set_name, features), l2, hidden in itertools.product(feature_sets.items(), GRID["l2"],
                                                              GRID["hidden_weight"]):
        model = fit.fit(train, features=features, l2=l2, hidden_weight=hidden)
        out.append(thresholded("logistic", {"features": set_name, "l2": l2, "hidden_weight": hidden},
                               model, validation))
    return out


def exported(classifier, threshold: float) -> BoostedTrees:
    """scikit-learn's fitted trees as plain numbers, to be shipped without pickle. It reads scikit-learn's
    private arrays (`_predictors`, `_baseline_prediction`), so the caller checks the export against
    scikit-learn's own probabilities."""
    trees = [{"feature": p.nodes["feature_idx"].tolist(), "split": p.nodes["num_threshold"].tolist(),
              "left": p.nodes["left"].tolist(), "right": p.nodes["right"].tolist(),
              "value": p.nodes["value"].tolist(), "missing_left": p.nodes["missing_go_to_left"].tolist()}
             for (p,) in classifier._predictors]
    return BoostedTrees.from_trees(FEATURES, trees, float(classifier._baseline_prediction.ravel()[0]), threshold)


def fit_boosting(train: list[fit.Example], max_depth: int, max_iter: int, hidden_weight: float,
                 seed: int) -> BoostedTrees:
    """Trees on the same rows and weights as the logistic fit, the two classes weighted to equal mass."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # scikit-learn: training only, not served

    x, y, w = fit.labelled(train, hidden_weight)
    w = w * np.where(y == 1, (1 - y).sum() / max(y.sum(), 1), 1.0)
    classifier = HistGradientBoostingClassifier(max_depth=max_depth, learning_rate=0.05, max_iter=max_iter,
                                                early_stopping=False, l2_regularization=1.0,
                                                random_state=seed).fit(x, y, sample_weight=w)
    model = exported(classifier, 0.5)
    if not np.allclose(model.probabilities(x), classifier.predict_proba(x)[:, 1], rtol=0, atol=1e-9):
        raise RuntimeError("the exported trees disagree with scikit-learn's: this scikit-learn stores them "
                           "differently; fix rag.evaluation.train.exported")
    return model


def boosting_candidates(train: list[fit.Example], validation: list[fit.Example], seed: int) -> list[Candidate]:
    out = []
    for depth, iterations, hidden in itertools.product(BOOSTING_GRID["max_depth"], BOOSTING_GRID["max_iter"],
                                                       GRID["hidden_weight"]):
        model = fit_boosting(train, depth, iterations, hidden, seed)
        out.append(thresholded("boosting", {"max_depth": depth, "max_iter": iterations, "hidden_weight": hidden},
                               model, validation))
    return out


def refit(chosen: Candidate, train: list[fit.Example], seed: int) -> AnswerabilityModel:
    """The chosen family and settings, fitted again on other training rows."""
    settings = chosen.settings
    if chosen.name == "boosting":
        return fit_boosting(train, settings["max_depth"], settings["max_iter"], settings["hidden_weight"], seed)
    return fit.fit(train, features=chosen.model.features, l2=settings["l2"], hidden_weight=settings["hidden_weight"])


def best_of(candidates: list[Candidate], feature_sets: tuple[str, ...]) -> Candidate:
    return max((c for c in candidates if c.settings["features"] in feature_sets), key=lambda c: c.score)


def learning_curve(chosen: Candidate, chosen_curve: dict, train: list[fit.Example],
                   documents: list[evaluate.SuiteDocument], work: Path, embedder, seed: int,
                   shares: tuple[float, ...] = (0.25, 0.5, 1.0)) -> list[dict]:
    """The chosen settings refitted on a share of the training documents (drawn at random, nested), the
    threshold set on the whole pipeline over validation again: whether more documents would still help.
    The verifier it reads stays the one trained on all of them. The whole share is the chosen model
    itself: its threshold curve (`chosen_curve`) is not computed twice."""
    names = sorted({e.document for e in train})
    np.random.default_rng(seed).shuffle(names)
    out = []
    for share in shares:
        kept = set(names[:max(1, round(share * len(names)))])
        subset = [e for e in train if e.document in kept]
        if len(kept) == len(names):
            threshold, curve = chosen.settings["threshold"], chosen_curve
        else:
            model = refit(chosen, subset, seed)
            threshold, curve = pipeline_threshold(model, documents, work, embedder)
        out.append({"share": share, "documents": len(kept), "questions": len(subset), "threshold": threshold,
                    "validation": curve[threshold]})
        print(f"  learning curve {share}: {out[-1]}", file=sys.stderr, flush=True)
    return out


def collect(documents: list[evaluate.SuiteDocument], work: Path, embedder) -> list[fit.Example]:
    examples = []
    for doc in documents:
        pipeline = served(fit.placeholder_model(), doc, work, embedder)
        examples += fit.collect(pipeline, doc.name, evaluate.load_questions(doc.questions))
        if doc.followups.exists():  # the follow-ups written on it, each read with the turns it leans on
            examples += fit.collect(pipeline, doc.name, evaluate.load_questions(doc.followups))
        print(f"  collected {doc.name}", file=sys.stderr, flush=True)
    return examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="where the per-document indexes go (default: temporary)")
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--card", type=Path, default=CARD_FILE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    np.random.seed(args.seed)
    embedder = RememberingEmbedder(create_embedder())
    splits = {"train": discover(TRAIN), "validation": discover(VALIDATION), "test": discover(TEST)}
    if shared_names(splits):
        parser.error(f"two documents have the same name: {', '.join(shared_names(splits))}")
    with tempfile.TemporaryDirectory(prefix="rag-train-") as tmp:
        work = args.work or Path(tmp)
        if args.work:  # a run stopped halfway reads its verifier readings again rather than recomputing them
            heldout.VERIFIER.remember_in(work)
        print("collecting the decision's input on training and validation documents", file=sys.stderr)
        train = collect(splits["train"], work, embedder)
        validation = collect(splits["validation"], work, embedder)
        candidates = logistic_candidates(train, validation) + boosting_candidates(train, validation, args.seed)
        for c in sorted(candidates, key=lambda c: -c.score)[:8]:
            print(f"  {c.score:.3f} {c.name} {c.settings}", file=sys.stderr)
        logistic = [c for c in candidates if c.name == "logistic"]
        families = {  # each family's best setting on the quick figures
            "logistic with verifier": best_of(logistic, ("all", "pruned")),
            "logistic without verifier": best_of(logistic, ("without verifier", "pruned without verifier")),
            "verifier alone": best_of(logistic, ("verifier alone",)),
            "boosting": max((c for c in candidates if c.name == "boosting"), key=lambda c: c.score),
        }
        print("setting each family's threshold on the whole pipeline over validation", file=sys.stderr)
        curves = {}
        for name, family in families.items():
            threshold, curves[name] = pipeline_threshold(family.model, splits["validation"], work, embedder)
            family.model = dataclasses.replace(family.model, threshold=threshold)
            family.settings = {**family.settings, "threshold": threshold}
            family.score = pipeline_objective(curves[name][threshold])
            print(f"  {name}: threshold {threshold}, {curves[name][threshold]}", file=sys.stderr, flush=True)
        chosen_name = max(families, key=lambda n: families[n].score)
        chosen = families[chosen_name]
        contenders = {"chosen": chosen.model} | {n: f.model for n, f in families.items() if n != chosen_name} \
            | {"before": load_model(MODEL_FILE)}  # the decision before this training
        print("scoring on validation, then test (whole pipeline, each document in its own index)", file=sys.stderr)
        report = {name: {split: scored(model, splits[split], work, embedder) for split in ("validation", "test")}
                  for name, model in contenders.items()}
        curve = learning_curve(chosen, curves[chosen_name], train, splits["validation"], work, embedder, args.seed)
    model = dataclasses.replace(chosen.model, fitted_on=tuple(sorted({d.name for d in splits["train"]})))
    save_model(model, args.out)
    card = {
        "model": args.out.name,
        "what": f"{WHAT[model.kind]} over the answer decision's signals of the best-ranked sentence; "
                "its probability that the document answers the question, and the refusal threshold",
        "data": {split: {d.name: d.hashes(followups=split != "test") for d in docs} for split, docs in splits.items()},
        "rows": {"train_questions": len(train), "validation_questions": len(validation),
                 "generated_negatives": sum((e.hidden_row is not None) + len(e.near_miss_rows) for e in train)},
        "embedding": embedder.describe() if hasattr(embedder, "describe") else {"name": embedder.name},
        "settings": {**chosen.settings, "family": chosen_name, "feature_list": list(chosen.model.features),
                     "seed": args.seed, "grid": GRID, "boosting_grid": BOOSTING_GRID, "vif_limit": VIF_LIMIT,
                     "max_false_refusals_on_validation": MAX_FALSE_REFUSALS,
                     "pipeline_max_false_refusals_on_validation": PIPELINE_MAX_FALSE_REFUSALS,
                     "pipeline_thresholds": list(PIPELINE_THRESHOLDS)},
        "families_on_validation": {name: {"settings": f.settings, "objective": round(f.score, 4),
                                          "threshold_curve": curves[name]} for name, f in families.items()},
        "candidates_on_validation": [{"name": c.name, "settings": {k: v for k, v in c.settings.items()},
                                      "objective": round(c.score, 4)} for c in candidates],
        "figures": {name: {split: {"mean": mean_row(rows), "by_type": type_rows(rows), "documents": rows}
                           for split, rows in runs.items()} for name, runs in report.items()},
        "learning_curve": curve,
        "training_seconds": round(time.perf_counter() - began, 1),
    }
    args.card.write_text(json.dumps(card, indent=1, default=float) + "\n", encoding="utf-8")
    for name, runs in report.items():
        for split, rows in runs.items():
            print(f"{name}, {split}: {mean_row(rows)}")
    print(f"wrote {args.out} and {args.card}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
