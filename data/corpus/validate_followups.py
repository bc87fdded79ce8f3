"""Check one folder's follow-up questions.

    python3 validate_followups.py FOLDER

FOLDER holds article.txt and followups.jsonl. Each question is checked as validate.py checks one,
plus its `history` of one or two earlier questions.
"""
import collections
import sys

from validate import duplicate_ids, question_errors, read_questions


def main(folder):
    art, qs = read_questions(folder, "followups.jsonl")
    errs = duplicate_ids(qs)
    keys = {"id", "history", "question", "answerable", "answer_any", "evidence", "type"}
    for q in qs:
        h = q.get("history")
        if not isinstance(h, list) or not 1 <= len(h) <= 2 or not all(isinstance(x, str) and x.strip() for x in h):
            errs.append(f"{q.get('id')}: history must be a list of 1 or 2 earlier questions")
        errs += question_errors(q, art, keys, {"followup", "switch", "unanswerable"})
    c = collections.Counter(q.get("type") for q in qs)
    if c["followup"] < 8:
        errs.append(f"{c['followup']} followup (want >= 8)")
    if c["switch"] < 2:
        errs.append(f"{c['switch']} switch (want >= 2)")
    if c["unanswerable"] < 4:
        errs.append(f"{c['unanswerable']} unanswerable (want >= 4)")
    print(c)
    print("ERRORS:" if errs else "VALID", *errs, sep="\n")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
