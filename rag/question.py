"""What a question asks for: its answer type, the years and names it mentions, its key terms."""
from __future__ import annotations

import re
from dataclasses import dataclass

from rag.terms import STOPWORDS, normalize, terms, words

YEAR = re.compile(r"\b(1\d{3}|20\d{2})(s?)\b")
MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
          "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
MONTH = re.compile(MONTHS)
DATE = re.compile(rf"\b(?:\d{{1,2}}\s+(?:{MONTHS})|(?:{MONTHS})\.?\s+\d{{1,4}}|1\d{{3}}s?|20\d{{2}}s?)\b", re.I)
NUMBER_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                "hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|several")
QUANTITY = re.compile(rf"(?:(?<![\w-])\$?\b\d[\d,.]*\b(?!\s*(?:{MONTHS})\b)|\b(?:{NUMBER_WORDS})\b)", re.I)
# Capitalised words that are titles or generic, not names: their absence from a document says little.
TITLES = {"chairman", "president", "premier", "general", "comrade", "leader", "marshal", "secretary",
          "mr", "mrs", "dr", "minister", "prime", "party", "war", "the", "i"}
# "American", "Soviet-era", "Vietnamese": adjectives a document may express otherwise ("the United States").
DEMONYM = re.compile(r"(ian|ean|can|ese|ish)$")
QUESTION_WORDS = {"what", "when", "who", "whom", "whose", "which", "where", "why", "how", "did", "does",
                  "do", "was", "were", "is", "are", "in", "on", "at", "and", "tell", "can", "could", "according"}


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # "when" | "count" | "who" | "where" | "why" | "other"
    years: frozenset[str]  # "1929", "1960s": exact tokens the evidence must share
    names: tuple[str, ...]  # capitalised words, lower-cased
    terms: tuple[str, ...]  # stemmed content words
    context_terms: tuple[str, ...] = ()  # words of the earlier turns a follow-up leans on: half weight

    @property
    def numbers(self) -> set[str]:
        return {m.group().lower().strip("$.,") for m in QUANTITY.finditer(self.text)}


def answer_kind(text: str) -> str:
    """What the answer must hold: "count" a quantity, "year" a year, "date" a day, "when" some time,
    "who" / "where" a name. Specific phrases first; otherwise the question's opening wh-word decides,
    so the "when" of "How was Mao received when he arrived?" is not a question about time."""
    q = normalize(text)
    if re.search(r"\bhow (many|much|long|large|big|far|old)\b|\bwhat (?:was |is |were )?(?:the )?"
                 r"(number|amount|percentage|population|size|cost|price|length|total)\b", q):
        return "count"
    if re.search(r"\b(what|which) year\b", q):
        return "year"
    if re.search(r"\b(what|which) (date|day)\b|\bexact date\b", q):
        return "date"
    if re.search(r"\b(which|what) (leader|general|person|man|woman|official|president|commander)\b", q):
        return "who"
    if re.search(r"\b(which|what) (city|country|place|region|province|town)\b", q):
        return "where"
    opening = re.match(r"\W*(?:(?:and|but|so|then|also)\s+)?(?:\w+\s+){0,2}?(when|who|whom|whose|where|why)\b", q)
    if opening:
        word = opening.group(1)
        return {"whom": "who", "whose": "who"}.get(word, word)
    return "other"


def question_names(text: str) -> tuple[str, ...]:
    """Capitalised words that are not the question's first word: names the evidence should contain."""
    tokens = re.findall(r"[^\W\d_][\w'’-]*", text)
    names = []
    for i, token in enumerate(tokens):
        word = re.sub(r"['’]s$", "", token)
        if i == 0 or not word[:1].isupper():
            continue
        for part in re.split(r"[-']", word):
            low = part.lower()
            if part[:1].isupper() and len(low) > 1 and low not in STOPWORDS and low not in QUESTION_WORDS \
                    and low not in TITLES and not DEMONYM.search(low):
                names.append(low)
    return tuple(dict.fromkeys(names))


def analyse(text: str, context: str = "") -> Question:
    """`context`: the earlier turns a follow-up leans on. They supply the topic (names, and years or
    terms the new question lacks) but never the answer type, and the new question's own terms and
    years win, so "and what did he do in 1972?" looks for 1972, not for the previous answer."""
    own_years = frozenset(m.group(1) + m.group(2) for m in YEAR.finditer(text))
    years = own_years or frozenset(m.group(1) + m.group(2) for m in YEAR.finditer(context))
    names = question_names(context) + question_names(text) if context else question_names(text)
    return Question(f"{context} {text}".strip(), answer_kind(text), years, tuple(dict.fromkeys(names)),
                    tuple(terms(text)), tuple(terms(context)))


def years_in(text: str) -> set[str]:
    return {m.group(1) + m.group(2) for m in YEAR.finditer(text)}


def years_covered(asked: frozenset[str], mentioned: set[str]) -> bool:
    """Every year the question names is mentioned; a decade ("1930s") by any year in it."""
    for year in asked:
        if year in mentioned:
            continue
        if year.endswith("s") and any(m[:3] == year[:3] for m in mentioned):
            continue
        return False
    return True


def has_date(text: str) -> bool:
    return bool(DATE.search(text))


def has_day(text: str) -> bool:
    """A date down to the day: "31 May 1924", "May 31"."""
    return bool(re.search(rf"\b\d{{1,2}}\s+(?:{MONTHS})\b|\b(?:{MONTHS})\.?\s+\d{{1,2}}\b(?!\d)", text, re.I))


def quantities(text: str) -> set[str]:
    """Numbers and number words, years excepted ("in 1969" answers no "how many"), and so are
    definite references ("the two countries" counts nothing)."""
    text = re.sub(r"\b(?:the|these|those|both|all)\s+(?:two|three|four)\b", " ", text, flags=re.I)
    found = {m.group().lower().strip("$.,") for m in QUANTITY.finditer(text)}
    return {q for q in found if not YEAR.fullmatch(q)}


TOKEN = re.compile(r"[^\W\d_][\w'’-]*")


def document_names(texts) -> frozenset[str]:
    """Words the document writes capitalised inside its sentences: its names ("Soviet", "Mao"), so
    that a sentence-initial "Soviet" counts as a name and a sentence-initial "However" does not."""
    capital: dict[str, int] = {}
    lower: dict[str, int] = {}
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            for token in TOKEN.findall(sentence)[1:]:
                key = re.sub(r"['’]s$", "", token).lower()
                counts = capital if token[:1].isupper() else lower
                counts[key] = counts.get(key, 0) + 1
    return frozenset(w for w, n in capital.items() if n > lower.get(w, 0) and w not in STOPWORDS
                     and not MONTH.fullmatch(w))


def has_new_name(sentence: str, question: Question, names: frozenset[str]) -> bool:
    """A name of the document that the question does not already mention."""
    asked = set(question.names) | set(words(question.text))
    for token in TOKEN.findall(sentence):
        low = re.sub(r"['’]s$", "", token).lower()
        if token[:1].isupper() and low in names and low not in asked:
            return True
    return False
