"""Check one document folder of the training corpus.

    python validate.py FOLDER

FOLDER holds article.txt, questions.jsonl and meta.json. `question_errors` is shared with
validate_followups.py, so both kinds of question are held to the same evidence rules.
"""
import collections
import json
import os
import sys

TRAPS = {"slot-missing", "near-miss", "unknown-entity", "out-of-scope", "false-premise"}
TYPES = {"fact", "date", "number", "why", "paraphrase", "multi", "twostep", "casual", "summary", "unanswerable"}


def read_questions(folder, name):
    art = open(os.path.join(folder, "article.txt"), encoding="utf-8").read()
    qs = [json.loads(l) for l in open(os.path.join(folder, name), encoding="utf-8") if l.strip()]
    return art, qs


def question_errors(q, art, keys, types):
    """What is wrong with one question: missing keys, an unknown type, evidence not verbatim in the
    article or not holding an accepted answer, an unanswerable one with evidence or without a trap."""
    if not keys <= set(q):
        return [f"{q.get('id')}: missing keys {keys - set(q)}"]
    errs = []
    if q["type"] not in types:
        errs.append(f"{q['id']}: unknown type {q['type']}")
    if q["answerable"]:
        evs = [q["evidence"]] + q.get("evidence_all", [])
        for e in evs:
            if not e or e not in art:
                errs.append(f"{q['id']}: evidence not verbatim in article: {e[:70]!r}")
            if "\n" in e:
                errs.append(f"{q['id']}: evidence spans a line break")
        if not q["answer_any"] or not any(x.lower() in " ".join(evs).lower() for x in q["answer_any"]):
            errs.append(f"{q['id']}: no answer_any string inside the evidence")
        if "evidence_all" in q and q["evidence"] != q["evidence_all"][0]:
            errs.append(f"{q['id']}: evidence != evidence_all[0]")
        if q["type"] in ("multi", "twostep") and len(q.get("evidence_all", [])) < 2:
            errs.append(f"{q['id']}: {q['type']} needs evidence_all with 2+ strings")
        if q["type"] == "unanswerable":
            errs.append(f"{q['id']}: answerable but typed unanswerable")
    else:
        if q["answer_any"] or q["evidence"]:
            errs.append(f"{q['id']}: unanswerable with answer_any/evidence")
        if q["type"] != "unanswerable":
            errs.append(f"{q['id']}: unanswerable typed {q['type']}")
        if q.get("trap") not in TRAPS:
            errs.append(f"{q['id']}: unanswerable needs trap in {sorted(TRAPS)}")
    return errs


def duplicate_ids(qs):
    ids = [q.get("id") for q in qs]
    return ["duplicate ids"] if len(set(ids)) != len(ids) else []


def main(folder):
    art, qs = read_questions(folder, "questions.jsonl")
    meta = json.load(open(os.path.join(folder, "meta.json"), encoding="utf-8"))
    errs = [f"meta.json lacks {key}" for key in ("title", "genre", "written_by", "how", "facts") if key not in meta]
    errs += duplicate_ids(qs)
    keys = {"id", "question", "answerable", "answer_any", "evidence", "type"}
    for q in qs:
        errs += question_errors(q, art, keys, TYPES)
    n_ans = sum(bool(q.get("answerable")) for q in qs)
    n_un = len(qs) - n_ans
    if n_ans < 40:
        errs.append(f"{n_ans} answerable (want >= 40)")
    if n_un < 12:
        errs.append(f"{n_un} unanswerable (want >= 12)")
    n_trap = sum(1 for q in qs if not q.get("answerable") and q.get("trap") in ("slot-missing", "near-miss"))
    if n_trap < 6:
        errs.append(f"{n_trap} slot-missing/near-miss traps (want >= 6)")
    if not 5000 <= len(art) <= 30000:
        errs.append(f"article length {len(art)} outside 5000-30000")
    print(collections.Counter(q.get("type") for q in qs))
    print("chars", len(art))
    print("ERRORS:" if errs else "VALID", *errs, sep="\n")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
