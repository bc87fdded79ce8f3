"""A PDF's pages as Markdown-like text, read with pdfium (pypdfium2): compiled, 500 pages in seconds, each word's box,
size and font, which pypdf cannot give (bench/pdf_readers.md). The rules need only words with boxes, kept simple:
- lines: words at one height, cut where a gap is wider than ~an em (a column gutter, a table cell);
- running headers/footers: pieces of lines in the top or bottom tenth of the page whose text, digits aside, is on
  half the pages (2 at least), and lone page numbers there ("3", "Page 3 of 5", "3/5", "- 3 -"), are removed;
- two columns: where lines fall either side of one gutter, left column first; a line across it keeps its place;
- headings: a size clearly above the body's (commonest by characters) is "#", "##"... by size rank; a bold short
  line standing alone ranks below those; a heading never joins the paragraph after it;
- paragraphs end at a wider gap, a short line ending a sentence, a bullet or a font change; lines join with a
  space, and "exam-" + "ple" (lowercase either side of the hyphen) is "example", unless the document writes the
  word with its hyphen elsewhere ("well-known"); a row of several cells is a Markdown table row.
"""
from __future__ import annotations

import ctypes
import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from statistics import median
from struct import unpack_from
from typing import NamedTuple

from rag.ingest.isolation import ReadLimits, Refused

BAND = 0.1  # the share of a page's height, top and bottom, where running headers and footers are looked for
CELL_GAP = 1.2  # a gap wider than this many ems cuts a line (column gutter, table cell)
HEADING = 1.15  # a size this many times the body's is a heading
PAGE_NUMBER = re.compile(r"(?i)(page|p\.|seite)?\s*[-–—]?\s*(\d{1,5}|[ivxlc]{1,6})\s*"
                         r"((/|of|von)\s*\d{1,5})?\s*[-–—]?")
BULLET = re.compile(r"[•◦▪▫‣⁃●○■□·*–\-\uf0b7\uf0a7]\s+")
NUMBERED = re.compile(r"\d{1,2}[.)]\s")
BOLD_NAME = re.compile(r"(?i)bold|black|heavy|semibold|demi|-medi|cmbx|sfbx")
HYPHENS = "\x02\ufffe\u00ad"  # pdfium writes a hyphen that ends a line as \x02 or \ufffe


class Word(NamedTuple):
    """A word, or a piece of a visual line (words side by side)."""
    text: str
    x0: float
    x1: float
    top: float  # points from the top of the page
    bottom: float
    size: float  # the font size on the page, its matrix applied
    bold: bool
    key: int = -1  # a word's place in the content stream, +1 from the word before it in the same run of text (-1:
    # unknown); a piece's row on the page


class Page(NamedTuple):
    height: float
    words: list[Word]


@dataclass(frozen=True)
class PdfText:
    pages: tuple[str, ...]  # each page's text: "#" headings, paragraphs apart by a blank line, "- " items, tables
    removed_lines: int  # running header, footer and page-number pieces removed


def pdf_text(data: bytes, limits: ReadLimits) -> PdfText:
    """The text of each page, giving up past the page count or the character budget, as pdf_page_texts does."""
    import pypdfium2 as pdfium  # loaded with the first PDF

    document = pdfium.PdfDocument(data)
    try:
        if len(document) > limits.pages:
            raise Refused(f"has {len(document):,} pages, more than the {limits.pages:,} this reads")
        budget, pages = limits.chars(len(data)), []
        for index in range(len(document)):
            page = document[index]
            pages.append(pdfium_words(page))
            page.close()
            budget -= sum(len(w.text) + 1 for w in pages[-1].words)
            if budget < 0:
                raise Refused(f"expands to more than {limits.chars(len(data)):,} characters of text")
        return layout(pages)
    finally:
        document.close()


def pdfium_words(page) -> Page:
    """Words with boxes, size and boldness (about three calls into pdfium a word, not one a character), turned so
    the page's main text direction reads left to right (a landscape page, a page rotated in a viewer); text at
    another angle (a margin stamp, a label on a chart) is left out."""
    import pypdfium2.raw as raw  # loaded with the first PDF

    textpage = page.get_textpage()
    handle, count = textpage.raw, textpage.count_chars()
    text = textpage.get_text_range() if count else ""
    if len(text) != count:  # characters outside the BMP: one index each, two UTF-16 units in the text
        text = "".join(chr(raw.FPDFText_GetUnicode(handle, i) or 32) for i in range(count))
    box, matrix, name, flags = raw.FS_RECTF(), raw.FS_MATRIX(), ctypes.create_string_buffer(128), ctypes.c_int()
    styles, found, turns, order, previous = {}, [], Counter(), 0, b""
    for match in re.finditer(rf"[^\s{HYPHENS}]+[{HYPHENS}]?", text):
        first, last = match.span()
        obj = bytes(raw.FPDFText_GetTextObject(handle, first))  # one font and matrix a text object: its style's key
        order, previous = order + (1 if obj == previous else 2), obj  # a new text object: not the next word (a cell)
        if obj not in styles or not obj.strip(b"\0"):
            raw.FPDFText_GetMatrix(handle, first, matrix)
            raw.FPDFText_GetFontInfo(handle, first, name, 128, flags)
            angle, scale = math.degrees(math.atan2(matrix.b, matrix.a)), abs(matrix.a * matrix.d - matrix.b * matrix.c)
            bold = BOLD_NAME.search(name.value.decode("latin-1")) or flags.value & 0x40000 \
                or raw.FPDFText_GetFontWeight(handle, first) >= 600
            styles[obj] = (round(angle / 90) % 4 if abs(angle - 90 * round(angle / 90)) <= 10 else -1,  # -1: slanted
                           raw.FPDFText_GetFontSize(handle, first) * scale ** 0.5, bool(bold))
        turn, size, bold = styles[obj]
        if turn < 0:
            continue
        raw.FPDFText_GetLooseCharBox(handle, first, box)
        x0, y1, x1, y0 = unpack_from("4f", box)  # left, top, right, bottom
        raw.FPDFText_GetLooseCharBox(handle, last - 1, box)
        a, b, c, d = unpack_from("4f", box)
        word = match.group()[:-1] + "-" if match.group()[-1] in HYPHENS else match.group()
        turns[turn] += len(word)
        found.append((turn, word, min(x0, a), min(y0, d), max(x1, c), max(y1, b), size or y1 - y0, bold, order))
    textpage.close()
    left, bottom, right, top = page.get_bbox()
    turn = max(turns, key=turns.get, default=0)
    upright = [lambda x, y: (x - left, top - y), lambda x, y: (y - bottom, x - left),  # page space -> reading space
               lambda x, y: (right - x, y - bottom), lambda x, y: (top - y, right - x)][turn]
    words = []
    for t, word, x0, y0, x1, y1, size, bold, order in found:
        if t == turn:
            (a, b), (c, d) = upright(x0, y0), upright(x1, y1)
            words.append(Word(word, min(a, c), max(a, c), min(b, d), max(b, d), size, bold, order))
    return Page(top - bottom if turn % 2 == 0 else right - left, words)


def layout(pages: list[Page]) -> PdfText:
    """Each page's words -> its text; running lines, heading sizes and hyphenated words are judged on the document."""
    pieces = [line_pieces(page.words) for page in pages]
    sizes, seen = Counter(), Counter()
    for found, page in zip(pieces, pages):
        for p in found:
            sizes[p.size] += len(p.text)
        seen.update({normal(p.text) for p in found if in_band(p, page.height)})
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    running = {text for text, n in seen.items() if n >= max(2, (len(pages) + 1) // 2)}
    kept = [[p for p in found if not (in_band(p, page.height) and (normal(p.text) in running or PAGE_NUMBER.fullmatch(
        p.text.strip())))] for found, page in zip(pieces, pages)]
    large = sorted({p.size for page in kept for p in page if p.size >= body * HEADING and len(p.text) <= 200})
    levels = {size: min(rank, 6) for rank, size in enumerate(reversed(large), 1)}
    levels[0.0] = min(len(large) + 1, 6)  # a bold heading in the body's size
    compounds = {w.lower() for page in kept for p in page for w in re.findall(r"\w+-\w+", p.text)}
    rows = [page_rows(found) for found in kept]
    steps = [step for page in rows for step in line_steps(page, body)]
    spacing = median(steps) if steps else None  # one step is evidence enough: a paragraph joined by mistake
    # keeps its sentences whole, a sentence cut at a wrapped line does not
    return PdfText(tuple(page_text(page, levels, body, compounds, spacing) for page in rows),
                   sum(map(len, pieces)) - sum(map(len, kept)))


def line_pieces(words: list[Word]) -> list[Word]:
    """Words at one height make a row, cut where the gap is wide, or moderate between words that are not neighbours
    in the content stream (two columns written one after the other, the gutter narrow; table cells drawn apart)."""
    rows: list[tuple[float, float, list[Word]]] = []
    for word in sorted(words, key=lambda w: w.top + w.bottom):
        middle, height = (word.top + word.bottom) / 2, word.bottom - word.top
        if rows and abs(middle - rows[-1][0]) <= 0.4 * max(min(height, rows[-1][1]), 1.0):
            rows[-1][2].append(word)
        else:
            rows.append((middle, height, [word]))
    pieces = []
    for number, (_, _, row) in enumerate(rows):
        row.sort(key=lambda w: w.x0)
        start = 0
        for i in range(1, len(row) + 1):
            if i < len(row):
                gap, em = row[i].x0 - row[i - 1].x1, max(row[i].size, row[i - 1].size, 1.0)
                apart = row[i].key != row[i - 1].key + 1 and min(row[i].key, row[i - 1].key) >= 0
                if gap <= CELL_GAP * em and not (apart and gap > 0.8 * em):
                    continue
            pieces.append(piece(row[start:i], number))
            start = i
    return pieces


def piece(words: list[Word], row: int) -> Word:
    sizes = Counter()
    for w in words:
        sizes[round(w.size * 2) / 2] += len(w.text)
    return Word(" ".join(w.text for w in words), words[0].x0, max(w.x1 for w in words), min(w.top for w in words),
                max(w.bottom for w in words), sizes.most_common(1)[0][0], all(w.bold for w in words), row)


def in_band(piece: Word, height: float) -> bool:
    return piece.bottom <= BAND * height or piece.top >= (1 - BAND) * height


def normal(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def reading_order(pieces: list[Word]) -> list[list[Word]]:
    """Rows top to bottom; where the page has two columns, each stretch of them left column first."""
    def rows(found: list[Word]) -> list[list[Word]]:
        by_row: dict[int, list[Word]] = {}
        for p in sorted(found, key=lambda p: p.x0):
            by_row.setdefault(p.key, []).append(p)
        return [by_row[r] for r in sorted(by_row)]

    gutter = find_gutter(pieces)
    if gutter is None:
        return rows(pieces)
    out, left, right = [], [], []
    for row in rows(pieces) + [[]]:
        if not row or any(p.x0 < gutter < p.x1 for p in row):
            out += rows(left) + rows(right) + ([row] if row else [])
            left, right = [], []
        else:
            left += [p for p in row if p.x1 <= gutter]
            right += [p for p in row if p.x0 >= gutter]
    return out


def find_gutter(pieces: list[Word]) -> float | None:
    """The x of a gutter that few lines cross, near the middle, with column-wide lines on both sides."""
    if len(pieces) < 6:
        return None
    left, right = min(p.x0 for p in pieces), max(p.x1 for p in pieces)
    width = right - left
    if sum(p.x1 - p.x0 > 0.6 * width for p in pieces) > len(pieces) / 2:
        return None  # one column: most lines run across the middle
    starts, ends = sorted(p.x0 for p in pieces), sorted(p.x1 for p in pieces)
    crossing, x = min(((bisect_left(starts, x) - bisect_right(ends, x), x) for x in sorted({p.x1 + 0.5 for p in pieces})
                       if left + 0.3 * width < x < left + 0.7 * width), default=(len(pieces), 0.0))  # lines across x
    sides = [[p.x1 - p.x0 for p in pieces if p.x1 <= x], [p.x1 - p.x0 for p in pieces if p.x0 >= x]]
    if crossing > max(2, 0.15 * len(pieces)) or min(map(len, sides)) < 3:
        return None
    if median(sides[0]) < 0.5 * (x - left) or median(sides[1]) < 0.5 * (right - x):
        return None  # short cells either side: a table, not columns of text
    return x


def page_rows(pieces: list[Word]) -> list[list[Word]]:
    """A page's rows in reading order, a bullet joined to its item's text and a lone row of cells made a line."""
    rows = [[merged(r[:2])] + r[2:] if len(r) > 1 and BULLET.fullmatch(r[0].text + " ") else r
            for r in reading_order(pieces)]  # a bullet set apart from its item's text
    return [[merged(r)] if len(r) > 1 and all(len(n) == 1 for n in rows[max(i - 1, 0):i] + rows[i + 1:i + 2]) else r
            for i, r in enumerate(rows)]  # a lone row of cells: a line with wide gaps, not a table


def line_steps(rows: list[list[Word]], body: float) -> list[float]:
    """The distances from one body-text line to the next: their median is the line spacing."""
    return [b[0].bottom - a[0].bottom for a, b in zip(rows, rows[1:]) if len(a) == len(b) == 1
            and a[0].size == b[0].size == body and 0 < b[0].bottom - a[0].bottom < 2.5 * body]


def page_text(rows: list[list[Word]], levels: dict[float, int], body: float, compounds: set[str],
              spacing: float | None = None) -> str:
    """Rows in reading order -> paragraphs and tables -> blocks apart by a blank line. The line spacing is
    the page's own where it has three steps or more, else `spacing` (the document's): a page of two
    wide-spaced lines would otherwise read each line as a paragraph."""
    deltas = line_steps(rows, body)
    lead = median(deltas) if len(deltas) >= 3 else spacing or 1.2 * body
    groups: list[list[list[Word]]] = []
    for row in rows:
        last = groups[-1] if groups else None
        if last and len(row) > 1 and len(last[-1]) > 1:
            last.append(row)
        elif last and len(row) == len(last[-1]) == 1 and continues(last[0][0], last[-1][0], row[0], lead, body):
            last.append(row)
        else:
            groups.append([row])
    return "\n\n".join(table(g) if len(g[0]) > 1 else paragraph([r[0] for r in g], levels, body, compounds)
                       for g in groups)


def merged(row: list[Word]) -> Word:
    """The pieces of a row as one line."""
    return max(row, key=lambda p: len(p.text))._replace(text=" ".join(p.text for p in row), x0=row[0].x0,
                                                        x1=max(p.x1 for p in row))


def kind(piece: Word, body: float) -> tuple[float, bool]:
    return (piece.size if piece.size >= body * HEADING else 0.0), piece.bold


def continues(first: Word, prev: Word, line: Word, lead: float, body: float) -> bool:
    """Whether `line` goes on with the paragraph that `prev` ends (`first` began it)."""
    if kind(prev, body) != kind(line, body) or BULLET.match(line.text) or NUMBERED.match(line.text):
        return False
    if (BULLET.match(first.text) or NUMBERED.match(first.text)) and line.x0 <= first.x0 + 1:
        return False  # back at the bullet's margin: the item has ended
    delta = line.bottom - prev.bottom
    if delta <= 0 or delta > 1.25 * max(lead, 1.2 * line.size):
        return False
    ends = prev.text.rstrip()[-1:] in ".!?:"
    return not (ends and (prev.x1 < line.x1 - 0.15 * (line.x1 - line.x0) or line.x0 > prev.x0 + line.size))


def join(text: str, line: str, compounds: set[str]) -> str:
    """Lines of a paragraph with a space; a word hyphenated at the line's end whole again."""
    head, tail = re.search(r"(\w+)-$", text[-80:]), re.match(r"\w+", line)  # the tail: a paragraph can be long
    if head and tail and text[-2:-1].islower() and line[:1].islower():
        if f"{head.group(1)}-{tail.group(0)}".lower() not in compounds:
            return text[:-1] + line
    return text + line if head else f"{text} {line}"  # "North-" + "Sea": the hyphen stays, no space


def paragraph(lines: list[Word], levels: dict[float, int], body: float, compounds: set[str]) -> str:
    text = lines[0].text
    for line in lines[1:]:
        text = join(text, line.text, compounds)
    size, bold = kind(lines[0], body)
    if size and len(lines) <= 3:
        return f"{'#' * levels.get(size, 1)} {text}"
    if bold and len(lines) <= 2 and len(text) <= 100 and text[-1:] not in ".,;" and re.search(r"[^\W\d_]", text):
        return f"{'#' * levels[0.0]} {text}"
    bullet = BULLET.match(text)
    return f"- {text[bullet.end():]}" if bullet else text


def table(rows: list[list[Word]]) -> str:
    """A Markdown pipe table, one line a row, each cell in the column of the header cell nearest it."""
    head, lines = rows[0], []
    for row in rows:
        cells = [""] * len(head)
        for p in row:
            k = min(range(len(head)), key=lambda k: min(abs(head[k].x0 - p.x0), abs(head[k].x1 - p.x1)))
            cells[k] = f"{cells[k]} {p.text.replace('|', '/')}".strip()
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines[:1] + ["|" + "---|" * len(head)] * (len(lines) > 1) + lines[1:])
