"""bench/gate.py: which documents a gate reads and how its readings become a verdict (made-up figures)."""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("gate", Path(__file__).resolve().parent.parent / "bench" / "gate.py")
gate = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gate)


@pytest.mark.parametrize("text, expected", [
    ("writer-385:writer-400", (385, 400)),
    ("12:12", (12, 12)),
])
def test_a_writer_range_is_read(text, expected):
    assert gate.writer_range(text) == expected


@pytest.mark.parametrize("text", ["writer-400:writer-385", "writer-385", "a:b"])
def test_a_bad_writer_range_says_how_to_write_one(text):
    with pytest.raises(argparse.ArgumentTypeError, match="writer"):
        gate.writer_range(text)


def document(root: Path, name: str, writer: str | None) -> None:
    folder = root / name
    folder.mkdir()
    (folder / "article.txt").write_text("A made-up text.", encoding="utf-8")
    if writer is not None:
        (folder / "meta.json").write_text(json.dumps({"written_by": writer}), encoding="utf-8")


def test_only_the_named_helpers_documents_are_chosen(tmp_path):
    document(tmp_path, "kiln-manual", "writer-10")
    document(tmp_path, "tide-tables", "writer-12")
    document(tmp_path, "goat-cheese", "writer-20")
    document(tmp_path, "no-meta", None)
    chosen = gate.gate_documents(tmp_path, [(10, 11), (20, 30)])
    assert [p.name for p in chosen] == ["goat-cheese", "kiln-manual"]


def reading(shipped: float, candidate_there: float | None, candidate: float, shipped_there: float | None,
            shipped_false: float = 0.09, candidate_false: float = 0.09) -> dict:
    return {"shipped": shipped, "candidate_there": candidate_there, "candidate": candidate,
            "shipped_there": shipped_there, "shipped_false_refusals": shipped_false,
            "candidate_false_refusals": candidate_false}


FOLLOWUPS_EVEN = reading(1.5, 1.5, 1.5, 1.5)


@pytest.mark.parametrize("questions, followups, expected", [
    (reading(1.50, 1.51, 1.52, 1.51), FOLLOWUPS_EVEN, {"Q": True, "F": True, "C": True}),
    (reading(1.50, 1.509, 1.52, 1.50), FOLLOWUPS_EVEN, {"Q": False, "F": True, "C": True}),  # one reading short
    (reading(1.50, None, 1.52, 1.50), FOLLOWUPS_EVEN, {"Q": False, "F": True, "C": True}),  # outside a curve
    (reading(1.50, 1.52, 1.52, 1.50), reading(1.5, 1.495, 1.5, 1.505), {"Q": True, "F": True, "C": True}),
    (reading(1.50, 1.52, 1.52, 1.50), reading(1.5, 1.494, 1.5, 1.5), {"Q": True, "F": False, "C": True}),
    (reading(1.50, 1.52, 1.52, 1.50, 0.09, 0.101), FOLLOWUPS_EVEN, {"Q": True, "F": True, "C": False}),
    (reading(1.50, 1.52, 1.52, 1.50, 0.09, 0.10), FOLLOWUPS_EVEN, {"Q": True, "F": True, "C": True}),
])
def test_the_verdict_reads_each_part_of_the_rule(questions, followups, expected):
    assert gate.verdict(questions, followups, 0.01, 0.005, 0.01) == expected
