"""The PDFs bench/pdf_readers.py reads, generated with fpdf2 (and one written by hand as pdfTeX writes one), and
what a perfect reader returns for each: a 4-page handbook with running headers and footers, headings, hyphenation,
a list, a table and a two-column page; a justified two-column paper; a dense 500-page document."""
from __future__ import annotations

import os
import random

HEADER, DATE, URL = "Skerrow Point Lighthouse Trust", "Revised 14 March 2026", "skerrow-light.example.org/handbook"
# "=|" ends a line with a hyphen that joins the word; "-|" a hyphen that stays; "|" a plain line break.
PAGES = [
    [("h1", "Keeper's Handbook of Skerrow Point"), ("h2", "The lamp room"),
     ("p", "Every evening the keeper climbs the hundred and twelve steps to the lamp room and winds the clock=|"
           "work that turns the lens. The brass must be polished before sunset, and the wick trimmed so the|"
           "flame burns without smoke. A well-known rule of the Trust is that no keeper leaves the lamp un=|"
           "attended during the first hour of light."),
     ("bold", "Before the first watch"),
     ("p", "Check the paraffin reservoir, the spare mantles and the fog bell rope. Write the barometer read=|"
           "ing and the wind direction in the log, then light the lamp from the small brass lighter kept on|"
           "the north shelf."),
     ("list", ["Polish the lens with the chamois cloth, never with paper.",
               "Wind the clockwork until the weight reaches the top of its|shaft; count the turns aloud.",
               "Record the time of lighting in the watch book."])],
    [("h2", "Fault codes of the lens drive"),
     ("p", "The drive panel shows a code when the lens stops. Most faults clear after the keeper rewinds the|"
           "weight; the others need the engineer from the mainland, who comes on the supply boat."),
     ("table", [["Code", "Meaning", "Remedy"], ["L01", "Weight at the bottom", "Rewind the clockwork"],
                ["L04", "Lens bearing dry", "Add two drops of whale oil"],
                ["L09", "Mantle broken", "Fit a spare mantle"]]),
     ("p", "After any fault the keeper writes the code, the time and the remedy in the log, so the engineer|"
           "can see how often the lens drive fails and order parts before the winter storms. The North-|"
           "Sea edition of the parts list is kept in the drawer."),
],
    [("h2", "Storm procedure"),
     ("cols",
      [("p", "When the barometer falls below nine hun=|dred and eighty the keeper closes the|storm "
             "shutters on the seaward side and|brings the lifebelts inside. The fog bell|is rung every "
             "thirty seconds while the|visibility stays below one mile."),
       ("p", "If the lamp fails during a storm, light|the reserve lamp in the gallery and sig=|nal the "
             "harbour master with the red|flare kept in the tin box by the door.")],
      [("p", "Once the storm has passed, the keeper|walks around the gallery and looks for|cracked panes, "
             "loose railings and salt|on the lens. Salt is washed off with|fresh water from the rain tank, "
             "never|with sea water."),
       ("p", "Damage is reported to the Trust by|radio before noon, with the time the|storm began and ended "
             "and the lowest|barometer reading of the night.")])],
    [("h2", "Visitors and the logbook"),
     ("p", "The logbook is the property of the Trust. It is kept in the watch room and never leaves the island;|"
           "when a volume is full the keeper seals it with wax and sends it ashore on the supply boat, where the|"
           "archivist files it with the others, a well-|known habit of the island.")],
]

def truth() -> list[str]:
    """What a perfect reader returns for PAGES, as rag/ingest/pdf.py promises it."""
    def text(kind, value, *right) -> list[str]:
        if kind in ("h1", "h2", "bold"):
            return [{"h1": "#", "h2": "##", "bold": "###"}[kind] + " " + value]
        if kind == "table":
            rows = [f"| {' | '.join(row)} |" for row in value]
            return ["\n".join(rows[:1] + ["|" + "---|" * len(value[0])] + rows[1:])]
        if kind == "cols":
            return [t for b in value + right[0] for t in text(*b)]
        items = [value] if kind == "p" else ["- " + item for item in value]
        return [item.replace("=|", "").replace("-|", "-").replace("|", " ") for item in items]
    return ["\n\n".join(t for b in page for t in text(*b)) for page in PAGES]


def draw(pages: list = PAGES, big: bool = False) -> bytes:
    """The handbook with fpdf2: each line its own text command, the two columns interleaved row by row. `big`: the
    page filled with text and a noise image on it (~40 kB, incompressible)."""
    from fpdf import FPDF  # the bench extra: only to write the sample PDFs

    doc = FPDF(unit="pt", format="A4")
    doc.core_fonts_encoding = "windows-1252"  # "•" and "·" in the core fonts
    doc.set_auto_page_break(False)
    for number, page in enumerate(pages, 1):
        doc.add_page()
        doc.set_font("helvetica", "", 8)
        doc.text(56, 40, HEADER), doc.text(520, 40, f"{number}/{len(pages)}")
        doc.text(56, 812, f"{DATE} · {URL}"), doc.text(490, 812, f"Page {number} of {len(pages)}")
        ops, y = [], 80.0
        for block in page:
            y = place(block, 56, y, ops)
        while big and y < 690:
            y = place((PAGES[3][1], PAGES[1][1])[len(ops) % 2], 56, y, ops)
        if big:
            from PIL import Image  # the bench extra: only for the scanned sample
            doc.image(Image.frombytes("RGB", (128, 100), os.urandom(128 * 100 * 3)), 440, 60, 100, 78)
        for y, x, size, style, line in sorted(ops, key=lambda o: (o[0], o[1])):
            doc.set_font("helvetica", style, size)
            doc.text(x, y, line)
    return bytes(doc.output())


def place(block, x: float, y: float, ops: list) -> float:
    """Adds (y, x, size, style, text) for each line of a block; returns the y below it."""
    kind, value = block[0], block[1]
    if kind == "cols":
        bottoms = []
        for side, blocks in enumerate(block[1:]):
            bottoms.append(y)
            for b in blocks:
                bottoms[-1] = place(b, x + 245 * side, bottoms[-1], ops)
        return max(bottoms)
    if kind in ("h1", "h2", "bold"):
        size = {"h1": 22, "h2": 15, "bold": 10.5}[kind]
        ops.append((y + size, x, size, "B", value))
        return y + size + 14
    if kind == "table":
        for row in value:
            ops += [(y + 10.5, x + left, 10.5, "B" if row is value[0] else "", c) for c, left in zip(row, (0, 70, 230))]
            y += 18
        return y + 9
    for item in [value] if kind == "p" else value:
        ops += [(y + 10.5, x, 10.5, "", "•")] if kind == "list" else []
        for line in item.replace("=|", "-|").split("|"):
            ops.append((y + 10.5, x + 14 * (kind == "list"), 10.5, "", line))
            y += 14
    return y + 9


def draw_dense(pages: int = 500) -> bytes:
    """A worst case for speed: 85 lines of 22 words a page in 7.5 pt type (~10,000 characters a page)."""

    from fpdf import FPDF  # the bench extra: only to write the sample PDFs

    pick, doc = random.Random(3).choice, FPDF(unit="pt", format="A4")
    words = " ".join(" ".join(b[1] for b in page if b[0] == "p") for page in PAGES).replace("|", " ").split()
    for number in range(1, pages + 1):
        doc.add_page()
        doc.set_font("helvetica", "", 7.5)
        doc.text(56, 30, HEADER), doc.text(520, 30, str(number))
        for i in range(85):
            doc.text(40, 50 + i * 9, " ".join(pick(words) for _ in range(22)))
    return bytes(doc.output())


SENTENCES = ["The Aurora {n} heats its boiler to {t} degrees before the first shot is pulled.",
             "Crema thickness was measured {n} times with a steel ruler and a steady hand.",
             "Beans roasted on day {d} gave a darker crema than beans roasted a week later.",
             "The steam wand hissed whenever the pressure rose above {d} bar in trial {t}.",
             "Testers preferred cup {n}, which they described as nutty, calm and slightly sweet."]
TOPICS = ["Water temperature", "Grind size", "Tamping pressure", "Milk foam", "Cleaning routine", "Bean freshness",
          "Cup warming", "Shot timing", "Boiler recovery", "Steam dryness", "Scale build-up", "Noise levels",
          "Energy use", "Tester panel", "Crema colour", "Portafilter wear"]
PAPER_HEAD, PAPER_FOOT = "Journal of Imaginary Appliances, vol. 7", "Preprint of 2 May 2026"


def paper() -> tuple[bytes, list[str], list[str]]:
    """The paper, as pdfTeX writes one (fpdf2 measures the words) -> (PDF, truth, each paragraph's start)."""
    from fpdf import FPDF  # the bench extra: only to write the sample PDFs

    metrics = FPDF(unit="pt")

    def width(text: str, size: float = 10, style: str = "") -> float:
        metrics.set_font("helvetica", style, size)
        return metrics.get_string_width(text)

    streams, want, starts, title = [], [], [], "Crema Stability in the Aurora Espresso Machine"
    for number in range(1, 5):
        ops = [f"BT /F1 8 Tf 56 806 Td ({PAPER_HEAD}) Tj ET", f"BT /F1 8 Tf 530 806 Td ({number}) Tj ET",
               f"BT /F1 8 Tf 250 30 Td ({PAPER_FOOT}) Tj ET"]
        page = [f"# {title}"] if number == 1 else []
        centre = 297 - width(title, 16, "B") / 2
        ops += [f"BT /F2 16 Tf {centre:.2f} 770 Td ({title}) Tj ET"] * len(page)
        for x in (56, 300):
            y = 740.0 if number == 1 else 770.0
            for k in range(number * 4 + (x > 56) * 2 - 4, number * 4 + (x > 56) * 2 - 2):
                text = f"{TOPICS[k]} was the subject of trial {k}. " + " ".join(
                    s.format(n=k, t=k * 7, d=k + 3) for s in SENTENCES[k % 2 * 2:][:3])
                ops.append(f"BT /F2 11 Tf {x} {y:.2f} Td ({TOPICS[k]}) Tj ET")
                page += [f"## {TOPICS[k]}", text]
                starts.append(text[:40])
                lines = [[]]
                for word in text.split():
                    if lines[-1] and width(" ".join(lines[-1] + [word])) > 232:
                        lines.append([])
                    lines[-1].append(word)
                for i, words in enumerate(lines):  # justified: the spare width spread between the words
                    spare = 232 - width("".join(words))
                    kern = f" {-100 * (spare / max(len(words) - 1, 1) if i < len(lines) - 1 else 2.78):.0f} "
                    kerned = kern.join(f"({w})" for w in words)
                    ops.append(f"BT /F1 10 Tf {x} {y - 18 - 12 * i:.2f} Td [{kerned}] TJ ET")
                y -= 18 + 12 * len(lines) + 8
        streams.append("\n".join(ops))
        want.append("\n\n".join(page))
    return raw_pdf(streams), want, starts


def raw_pdf(streams: list[str]) -> bytes:
    """A minimal PDF of these content streams (A4; F1 Helvetica, F2 Helvetica-Bold)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""] + [
        f"<< /Type /Font /Subtype /Type1 /BaseFont /{f} /Encoding /WinAnsiEncoding >>" for f in ("Helvetica",
                                                                                              "Helvetica-Bold")]
    for stream in streams:
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {len(objects)} 0 R "
                       "/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{6 + 2 * i} 0 R' for i in range(len(streams)))}] " \
                 f"/Count {len(streams)} >>"
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    return out + f"{xref}trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{len(out)}\n%%EOF\n".encode()
