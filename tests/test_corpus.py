"""The corpus README's table lists every labelled document once, under the split its folder is in: the
table is where a reader finds what the models were trained on and judged by."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
SPLITS = ["train", "validation", "test", "incoming/train", "incoming/validation"]


def table_rows() -> list[tuple[str, str]]:
    """(split, document) of each row of the README's document table."""
    return re.findall(r"^\| ([\w/]+) \| `([^`]+)` \|", (CORPUS / "README.md").read_text(encoding="utf-8"), re.M)


@pytest.mark.parametrize("split", SPLITS)
def test_the_readme_table_lists_each_document_of_a_split_once(split):
    listed = sorted(name for where, name in table_rows() if where == split)
    assert listed == sorted(p.name for p in (CORPUS / split).iterdir() if p.is_dir())
