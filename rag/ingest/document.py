"""Raw source text -> sections of sentences, each with its exact span in the raw file.

The source file is never modified. Instead of producing a cleaned copy and a
character map, citation debris is *masked* (replaced by spaces of the same
length), so every offset in the masked text is also an offset in the raw text.
A sentence's clean text is its masked span with whitespace collapsed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ingest.lines import line_units
from rag.types import Sentence

# Back matter: sections under these headings are left out when they close the document (and reported);
# the same heading in the middle of a text ("## Notes" in a guide) is indexed like any other.
BACK_MATTER = {
    "see also", "references", "notes", "further reading", "external links",
    "bibliography", "sources", "citations", "footnotes",
}

# Wikipedia citation debris: [1], [a], [1]: 55, [2]\n: 26, [citation needed\n], ...
CITATION = re.compile(
    r"\[\s*(?:\d{1,4}|[a-z]|[a-z ]{3,40}?needed|note \d+|nb \d+)\s*\]"
    r"(?:\s*:\s*\d+(?:\s*[–-]\s*\d+)?)?",
    re.IGNORECASE,
)
LONE_DEBRIS_LINE = re.compile(r"^[ \t]*[\].]?[ \t]*$", re.MULTILINE)
MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
# "7.4 Replacing the gasket": a numbered heading of a manual or report, read in any file; one level
# ("7. Unplug the machine") is left alone, since it is as often a numbered step.
NUMBERED_HEADING = re.compile(r"^\d{1,3}(?:\.\d{1,3})+\.?\s+\S")

# Words a heading never ends with: the scrape leaves cut-off sentence starts
# such as "In 1976, Mao died, and in 1978, the" on a line of their own.
DANGLING_WORDS = {
    "a", "an", "the", "of", "and", "or", "to", "in", "on", "at", "by", "for",
    "with", "from", "as", "that", "which", "who", "was", "were", "is", "are",
}
LEADING_PREPOSITIONS = {"in", "on", "at", "by", "after", "before", "during", "since", "from", "until"}
# Abbreviations after which a period does not end a sentence.
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "gen", "col", "lt", "sgt", "capt", "maj",
    "adm", "gov", "sen", "rep", "pres", "prof", "rev", "jr", "sr", "inc",
    "ltd", "co", "corp", "vs", "no", "vol", "pp", "p", "fig", "mt", "ft",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "ca", "approx", "est", "dept", "univ", "e.g", "i.e", "etc",
}
LIST_NUMBER = re.compile(r"\s*\d{1,3}[.)]")  # "2. Press the button": a step's number, not a sentence
# Linear in any input: a match starts only at the first mark of a run and never gives back what it took
# (the run "?????..." of a hostile question or a dot leader would otherwise be tried from every mark).
SENTENCE_END = re.compile(r"(?<![.!?])[.!?]++[\"'”’»)\]]*+(?=\s++[\"'“‘«(\[]?[A-Z0-9])")


@dataclass
class Section:
    title: str
    sentences: list[Sentence]
    skipped: bool = False  # trailing back matter: not indexed, but reported

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.sentences)


def mask_debris(raw: str) -> str:
    """Blank out citation debris, keeping every character offset."""
    masked = CITATION.sub(lambda m: " " * len(m.group()), raw)
    return LONE_DEBRIS_LINE.sub(lambda m: " " * len(m.group()), masked)


def clean(fragment: str) -> str:
    """Collapse whitespace (masking leaves runs of spaces, e.g. before a period)."""
    text = re.sub(r"\s+", " ", fragment).strip()
    return re.sub(r" ([.,;:!?])", r"\1", text)


# A "sentence" longer than this is cut (one of the 2,108 corpus documents has one; none of train/, validation/
# or test/ does): one unit of 14,000 characters could be neither found by its words nor quoted.
MAX_SENTENCE_CHARS = 1000


def split_sentences(masked: str, start: int, end: int) -> list[Sentence]:
    """Split masked[start:end] into sentences, never at abbreviations, initials or decimals."""
    sentences: list[Sentence] = []
    cursor = start
    for match in SENTENCE_END.finditer(masked, start, end):
        if _is_abbreviation(masked, match.start()) or LIST_NUMBER.fullmatch(masked, cursor, match.end()):
            continue
        _append(sentences, masked, cursor, match.end())
        cursor = match.end()
    _append(sentences, masked, cursor, end)
    return sentences


def sentences_in(text: str) -> list[str]:
    """The sentences of a short text (a question, a passage), split as the index splits a document."""
    return [s.text for s in split_sentences(text, 0, len(text))]


def _is_abbreviation(masked: str, period: int) -> bool:
    if masked[period] != ".":
        return False
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", masked[max(0, period - 12):period])
    if not word:
        return False
    token = word.group(1).lower()
    last = token.rsplit(".", 1)[-1]
    # "U.S." / "J." (initials) / "Gen." / "e.g."
    return len(last) == 1 or token in ABBREVIATIONS or last in ABBREVIATIONS


def _append(out: list[Sentence], masked: str, start: int, end: int) -> None:
    fragment = masked[start:end]
    stripped = fragment.strip()
    if not re.search(r"[^\W_]", stripped):
        return
    lead = len(fragment) - len(fragment.lstrip())
    s, e = start + lead, start + lead + len(stripped)
    while e - s > MAX_SENTENCE_CHARS:  # text with no full stops (a transcript, a list): cut where it pauses
        cut = s + _pause_before(masked[s:s + MAX_SENTENCE_CHARS + 1], MAX_SENTENCE_CHARS)
        piece = masked[s:cut].strip()
        if re.search(r"[^\W_]", piece):
            first = s + len(masked[s:cut]) - len(masked[s:cut].lstrip())
            out.append(Sentence(first, first + len(piece), clean(piece)))
        s = cut + len(masked[cut:e]) - len(masked[cut:e].lstrip())
    if re.search(r"[^\W_]", masked[s:e]):
        out.append(Sentence(s, e, clean(masked[s:e])))


def _pause_before(text: str, longest: int) -> int:
    """Where to cut a run of text longer than `longest`: after the last comma, semicolon or colon in its
    second half, else at the last space, else at `longest` itself."""
    pauses = [m.end() for m in re.finditer(r"[,;:]\s", text[:longest + 1]) if m.end() > longest // 2]
    if pauses:
        return pauses[-1]
    space = text.rfind(" ", 1, longest + 1)
    return space if space > 0 else longest


def _blocks(text: str) -> list[tuple[int, int]]:
    """Spans of paragraphs: runs of non-blank lines."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S(?:.|\n(?![ \t]*\n))*", text)]


def _title_shaped(text: str) -> bool:
    """A short line that reads like a title, not like a cut-off sentence or a caption."""
    line = text.strip()
    words = line.split()
    if not line or "\n" in line or len(line) > 90 or len(words) > 12:
        return False
    if not (line[0].isupper() or line[0].isdigit()):
        return False
    if line[-1] in ".,:;!?(-–—\"'" or line.endswith("'s") or ". " in line:
        return False
    if words[-1].lower() in DANGLING_WORDS:
        return False
    if len(words) > 1 and words[0].lower() in LEADING_PREPOSITIONS and words[1][0].isdigit():
        return False  # "In 1926 KMT": the start of a sentence the scrape cut off
    return "(" not in line or line.endswith(")")  # captions: "Mao (2nd left) visiting ..."


def _is_heading(block: str, next_block: str | None) -> bool:
    """Title-shaped and followed by body text; back-matter titles need no body."""
    if not _title_shaped(block):
        return False
    if clean(block).lower() in BACK_MATTER:
        return True
    return next_block is not None and not _title_shaped(next_block)


def _heading_line(line: str, markdown: bool) -> str | None:
    """The title, when a line that begins a paragraph is a heading in any file: "# Title" (Markdown, or a
    plain-text file written the same way) or a numbered "7.4 Title"."""
    line = line.strip()
    md = MARKDOWN_HEADING.match(line)
    if md:
        return clean(md.group(1))
    if not markdown and NUMBERED_HEADING.match(line) and _title_shaped(line):
        return clean(line)
    return None


def _split_headings(masked: str, blocks: list[tuple[int, int]], markdown: bool) -> list[tuple[int, int, str | None]]:
    """(start, end, heading or None) per paragraph, a heading on the first line of a paragraph split off."""
    out: list[tuple[int, int, str | None]] = []
    for start, end in blocks:
        while True:
            newline = masked.find("\n", start, end)
            first_end = end if newline < 0 else newline
            title = _heading_line(masked[start:first_end], markdown)
            if title is None:
                out.append((start, end, None))
                break
            out.append((start, first_end, title))
            rest = re.search(r"\S", masked[first_end:end])
            if not rest:
                break
            start = first_end + rest.start()
    return out


def block_sentences(masked: str, start: int, end: int) -> list[Sentence]:
    """A paragraph's sentences: prose split at sentence ends; lines written as units (list items,
    "Label: value" lines, table rows) never glued together (rag.ingest.lines)."""
    units = line_units(masked, start, end)
    if units is None:
        return split_sentences(masked, start, end)
    sentences: list[Sentence] = []
    for unit in units:
        if unit.text is not None:
            sentences.append(Sentence(unit.start, unit.end, clean(unit.text)))
        else:
            sentences += split_sentences(masked, unit.start, unit.end)
    return sentences


def parse(raw: str, markdown: bool = False, lead_title: str = "Introduction") -> list[Section]:
    """Sections of sentences, citation debris removed; the trailing back matter is marked `skipped`."""
    masked = mask_debris(raw)
    blocks = _split_headings(masked, [b for b in _blocks(masked) if clean(masked[b[0]:b[1]])], markdown)
    sections: list[Section] = [Section(lead_title, [])]
    for i, (start, end, heading) in enumerate(blocks):
        block = masked[start:end]
        if heading is None and not markdown and "\n" not in block.strip():
            following = masked[blocks[i + 1][0]:blocks[i + 1][1]] if i + 1 < len(blocks) else None
            if _is_heading(block, following):
                heading = clean(block)
        if heading is not None:
            sections.append(Section(heading, []))
            continue
        sections[-1].sentences.extend(block_sentences(masked, start, end))
    sections = [s for s in sections if s.sentences or s.title.lower() in BACK_MATTER]
    for section in reversed(sections[1:]):  # only back matter that closes the document, never its opening
        if section.title.lower() not in BACK_MATTER:
            break
        section.skipped = True
    return [s for s in sections if s.sentences]
