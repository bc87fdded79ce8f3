"""Larger corpora made from the article, for the scale benchmark.

Plain copies would flatter the index: identical chunks hash alike and are embedded once. Each copy
therefore gets its own section titles, its years shifted, the people it names exchanged for others
of the article, and the sentences of every paragraph in another order. The text stays the article's
own vocabulary and style; how many texts really had to be embedded is reported with each build.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from rag.ingest.document import parse

NAMES = ["Mao", "Stalin", "Khrushchev", "Gorbachev", "Deng Xiaoping", "Kim Il Sung", "Nixon", "Li Peng",
         "Wan Li", "Andropov", "Chernenko", "Sükhbaatar", "Xu Shuzheng", "Wang Jiaxiang", "Zahir Shah"]
NAME = re.compile("|".join(re.escape(n) for n in sorted(NAMES, key=len, reverse=True)))
YEAR = re.compile(r"\b(1[89]\d\d|20[0-4]\d)\b")


def variant(raw: str, copy: int) -> str:
    """One copy of the article, as a Markdown document with distinct headings and varied sentences."""
    rng = random.Random(copy)
    names = NAMES[:]
    rng.shuffle(names)
    swap = dict(zip(NAMES, names))
    shift = copy % 97
    lines = []
    for section in parse(raw):
        lines.append(f"## {section.title} (record {copy + 1})\n")
        sentences = [s.text for s in section.sentences]
        rng.shuffle(sentences)
        text = " ".join(sentences)
        text = NAME.sub(lambda m: swap[m.group()], text)
        text = YEAR.sub(lambda m: str(int(m.group()) + shift), text)
        lines.append(text + "\n")
    return "\n".join(lines)


def write_corpus(article: Path, copies: int, out: Path) -> Path:
    """`copies` times the article, as one Markdown file."""
    raw = article.read_text(encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(f"# Sino-Soviet relations, {copies} records\n\n")
        for copy in range(copies):
            f.write(variant(raw, copy) if copy else raw_as_markdown(raw))
            f.write("\n")
    return out


def raw_as_markdown(raw: str) -> str:
    """Copy 0 is the article itself (its sections as Markdown headings), so its questions still apply."""
    return "\n".join(f"## {s.title}\n\n{' '.join(x.text for x in s.sentences)}\n" for s in parse(raw))
