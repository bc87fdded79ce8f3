"""Check one folder's follow-up questions.

    python3 validate_followups.py FOLDER

FOLDER holds article.txt and followups.jsonl.
"""
import collections
import json
import os
import sys

D = sys.argv[1]
art = open(os.path.join(D, "article.txt"), encoding="utf-8").read()
qs = [json.loads(l) for l in open(os.path.join(D, "followups.jsonl"), encoding="utf-8") if l.strip()]
errs = []
ids = [q.get("id") for q in qs]
if len(set(ids)) != len(ids):
    errs.append("duplicate ids")
keys = {"id", "history", "question", "answerable", "answer_any", "evidence", "type"}
types = {"followup", "switch", "unanswerable"}
traps = {"slot-missing", "near-miss", "unknown-entity", "out-of-scope", "false-premise"}
for q in qs:
    if not keys <= set(q):
        errs.append(f"{q.get('id')}: missing keys {keys - set(q)}")
        continue
    h = q["history"]
    if not isinstance(h, list) or not 1 <= len(h) <= 2 or not all(isinstance(x, str) and x.strip() for x in h):
        errs.append(f"{q['id']}: history must be a list of 1 or 2 earlier questions")
    if q["type"] not in types:
        errs.append(f"{q['id']}: unknown type {q['type']}")
    if q["answerable"]:
        e = q["evidence"]
        if not e or e not in art:
            errs.append(f"{q['id']}: evidence not verbatim in article: {e[:70]!r}")
        if "\n" in e:
            errs.append(f"{q['id']}: evidence spans a line break")
        if not q["answer_any"] or not any(x.lower() in e.lower() for x in q["answer_any"]):
            errs.append(f"{q['id']}: no answer_any string inside the evidence")
        if q["type"] == "unanswerable":
            errs.append(f"{q['id']}: answerable but typed unanswerable")
    else:
        if q["answer_any"] or q["evidence"]:
            errs.append(f"{q['id']}: unanswerable with answer_any/evidence")
        if q["type"] != "unanswerable":
            errs.append(f"{q['id']}: unanswerable typed {q['type']}")
        if q.get("trap") not in traps:
            errs.append(f"{q['id']}: unanswerable needs trap in {sorted(traps)}")
c = collections.Counter(q.get("type") for q in qs)
if c["followup"] < 8:
    errs.append(f"{c['followup']} followup (want >= 8)")
if c["switch"] < 2:
    errs.append(f"{c['switch']} switch (want >= 2)")
if c["unanswerable"] < 4:
    errs.append(f"{c['unanswerable']} unanswerable (want >= 4)")
print(c)
print("ERRORS:" if errs else "VALID", *errs, sep="\n")
sys.exit(1 if errs else 0)
