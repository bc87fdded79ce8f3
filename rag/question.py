"""What a question asks for: its answer type, the years and names it mentions, its key terms."""
from __future__ import annotations

import re
from dataclasses import dataclass

from rag.terms import STOPWORDS, normalize, terms, words

YEAR = re.compile(r"\b(1\d{3}|20\d{2})(s?)\b")
MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
          "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
DATE = re.compile(rf"\b(?:\d{{1,2}}\s+(?:{MONTHS})|(?:{MONTHS})\.?\s+\d{{1,4}}|1\d{{3}}s?|20\d{{2}}s?)\b", re.I)
NUMBER_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                "hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|several")
QUANTITY = re.compile(rf"(?:\$?\b\d[\d,.]*\b(?!\s*(?:{MONTHS})\b)|\b(?:{NUMBER_WORDS})\b)", re.I)
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
    q = normalize(text)
    if re.search(r"\bhow (many|much|long|large|big|far|old)\b|\bwhat (?:was |is |were )?(?:the )?"
                 r"(number|amount|percentage|population|size|cost|price|length|total)\b", q):
        return "count"
    if re.search(r"\bwhen\b|\bwhat (year|date|month|day|time)\b|\bwhich (year|date|month)\b", q):
        return "when"
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (leader|general|person|man|woman|official)\b", q):
        return "who"
    if re.search(r"\bwhere\b|\bwhich (city|country|place|region|province)\b", q):
        return "where"
    if re.search(r"\bwhy\b|\bfor what reason\b", q):
        return "why"
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


def quantities(text: str) -> set[str]:
    """Numbers and number words, years excepted: "in 1969" answers no "how many"."""
    found = {m.group().lower().strip("$.,") for m in QUANTITY.finditer(text)}
    return {q for q in found if not YEAR.fullmatch(q)}


def has_new_name(sentence: str, question: Question) -> bool:
    """A capitalised word after the first that the question does not already mention."""
    asked = set(question.names) | set(words(question.text))
    for token in re.findall(r"[^\W\d_][\w'’-]*", sentence)[1:]:
        if token[:1].isupper() and token.lower() not in asked and token.lower() not in STOPWORDS:
            return True
    return False
