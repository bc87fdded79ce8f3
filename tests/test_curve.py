"""Reading a threshold curve at a given rate of false refusals (made-up curves)."""
from __future__ import annotations

import argparse
import json

import pytest

from rag.evaluation.curve import Readings, at_false_refusals, envelope, main, readings, table, thresholds


def point(accuracy: float, false_refusal: float, refusals: float) -> dict:
    return {"answer_acc": accuracy, "false_refusal": false_refusal, "refusal_unanswerable": refusals}


CURVE = {0.3: point(0.90, 0.04, 0.50), 0.4: point(0.85, 0.08, 0.60), 0.5: point(0.80, 0.12, 0.70)}


@pytest.mark.parametrize("rate, expected", [
    (0.08, 1.45),  # a threshold of the curve sits there
    (0.06, 1.425),  # halfway between two thresholds
    (0.04, 1.40),  # the low end
    (0.12, 1.50),  # the high end
    (0.02, None),  # no threshold refuses so few
    (0.20, None),  # nor so many
])
def test_the_curve_is_read_at_a_rate_of_false_refusals(rate, expected):
    assert at_false_refusals(CURVE, rate) == expected


@pytest.mark.parametrize("extra, expected", [
    ({0.45: point(0.85, 0.08, 0.65)}, 1.5),  # better, after the threshold it ties with
    ({0.35: point(0.85, 0.08, 0.65)}, 1.5),  # better, before it
    ({0.45: point(0.85, 0.081, 0.40)}, 1.45),  # worse, at nearly the same false refusals: beaten, left out
])
def test_a_threshold_another_beats_does_not_count(extra, expected):
    assert at_false_refusals(CURVE | extra, 0.08) == expected


def test_a_beaten_threshold_between_two_others_is_not_read():
    curve = CURVE | {0.45: point(0.85, 0.081, 0.40)}  # more false refusals than 0.4, and worse
    assert envelope(curve) == [(0.04, 1.40), (0.08, 1.45), (0.12, 1.50)]
    assert at_false_refusals(curve, 0.10) == 1.475  # read between 0.4 and 0.5, not through the beaten one


def test_thresholds_without_a_figure_are_left_out():
    curve = CURVE | {0.6: {"answer_acc": 0.7, "false_refusal": 0.2, "refusal_unanswerable": None}}
    assert at_false_refusals(curve, 0.12) == 1.5
    assert table(curve).splitlines()[-1] == "| 0.60 | 0.700 | 0.200 | n/a | n/a |"


def test_the_table_has_a_row_per_threshold_in_order():
    lines = table({0.5: CURVE[0.5], 0.3: CURVE[0.3]}).splitlines()
    assert lines[2] == "| 0.30 | 0.900 | 0.040 | 0.500 | 1.400 |"
    assert lines[3].startswith("| 0.50 |") and len(lines) == 4


def test_a_folder_without_a_suite_is_one_clear_sentence(tmp_path, capsys):
    assert main(["--suite", str(tmp_path)]) == 1
    assert "holds no folder with article.txt" in capsys.readouterr().err


@pytest.mark.parametrize("text, expected", [
    ("0.3,0.2", (0.2, 0.3)),  # in order
    ("0.4, 0.4,", (0.4,)),  # once each
])
def test_thresholds_are_read_from_a_list(text, expected):
    assert thresholds(text) == expected


@pytest.mark.parametrize("text", ["", "0.2,high", "0.2,1.5"])
def test_thresholds_out_of_range_or_not_numbers_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        thresholds(text)


HIGHER = {t: point(r["answer_acc"] + 0.02, r["false_refusal"], r["refusal_unanswerable"]) for t, r in CURVE.items()}


@pytest.mark.parametrize("shipped_at, candidate_at, expected", [
    # the same threshold: each point is read on the other curve at its own false refusals
    (0.4, 0.4, Readings(1.45, 1.47, 1.47, 1.45, 0.08, 0.08)),
    # the candidate at a stricter threshold: its point is read further along the shipped curve
    (0.4, 0.5, Readings(1.45, 1.47, 1.52, 1.5, 0.08, 0.12)),
])
def test_a_gate_reads_each_point_on_the_other_curve(shipped_at, candidate_at, expected):
    assert readings(CURVE, HIGHER, shipped_at, candidate_at) == expected


def test_a_point_outside_the_other_curve_reads_none():
    assert readings(CURVE, {0.5: CURVE[0.5]}, 0.3, 0.5).candidate_there is None


def test_compare_without_the_thresholds_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        main(["--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])


def test_compare_reads_two_saved_curves(tmp_path, capsys):
    for name, curve in (("shipped", CURVE), ("candidate", HIGHER)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"curve": {str(t): r for t, r in curve.items()}}))
    assert main(["--compare", str(tmp_path / "shipped.json"), str(tmp_path / "candidate.json"),
                 "--shipped-at", "0.4", "--candidate-at", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["shipped_there"] == 1.5


def test_compare_of_a_file_that_is_not_a_curve_is_one_clear_sentence(tmp_path, capsys):
    (tmp_path / "a.json").write_text("[1, 2]")
    assert main(["--compare", str(tmp_path / "a.json"), str(tmp_path / "a.json"),
                 "--shipped-at", "0.4", "--candidate-at", "0.4"]) == 1
    assert "is not a curve written by" in capsys.readouterr().err
