"""A question, analysed once: its clean text, the conversation it leans on, what retrieval searches for,
and what the answer must hold (its kind, names, years, key terms).

    analyse(question, history) -> Query
"""
from __future__ import annotations

import dataclasses
import re

from rag.answering import bridge
from rag.answering.language import is_english
from rag.errors import QuestionError
from rag.ingest.document import sentences_in
from rag.text import lexicon
from rag.text.patterns import DATE, DAY, MONTH, QUANTITY, TOKEN, YEAR
from rag.text.terms import STOPWORDS, bare, normalize, terms, words
from rag.types import Query, QuestionKind

MAX_QUESTION_CHARS = 2000
MAX_HISTORY = 2  # earlier questions a follow-up can lean on (context_for reads the last two)
MAX_HISTORY_ITEMS = 200  # what a request may send at all
# a letter or digit of any script, or any other character past ASCII (an emoji gets the answer a question
# in another language gets: English only)
WORDLIKE = re.compile(r"[^\W_]|[^\x00-\x7f]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
QUESTION_START = re.compile(rf"\W*({'|'.join(sorted(lexicon.QUESTION_WORDS))})\b", re.I)
PERSONAL = re.compile(rf"\b({lexicon.PERSONAL_PRONOUNS})\b", re.I)
DEMONSTRATIVE = re.compile(rf"\b({lexicon.DEMONSTRATIVES})\b", re.I)
CONTINUATION = re.compile(rf"^\s*({lexicon.CONTINUATIONS})\b", re.I)


def clean_question(question: object, max_chars: int = MAX_QUESTION_CHARS) -> str:
    """The question as text, or a QuestionError the user can act on."""
    if not isinstance(question, str):
        raise QuestionError("The question must be text.")
    if len(question) > 4 * max_chars:  # refused before any pattern runs over it
        raise QuestionError(f"The question is too long ({len(question):,} characters); please keep it under "
                            f"{max_chars:,}.")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON can carry
        raise QuestionError("The question holds characters that are not valid text.") from None
    text = re.sub(r"\s+", " ", CONTROL.sub(" ", question)).strip()
    if not WORDLIKE.search(text):  # "", "?", "...": nothing to search for, and no topic to follow
        raise QuestionError("Please type a question.")
    if len(text) > max_chars:
        raise QuestionError(f"The question is too long ({len(text):,} characters); please keep it under "
                            f"{max_chars:,}.")
    return text


def clean_history(history: object, most: int = MAX_HISTORY) -> list[str]:
    """Earlier questions, each cleaned and bounded like a question; only the last `most` are kept,
    since a follow-up leans on the last two at most."""
    if history is None:
        return []
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise QuestionError("history must be a list of earlier questions.")
    if len(history) > MAX_HISTORY_ITEMS:
        raise QuestionError(f"history holds {len(history):,} questions; send at most {MAX_HISTORY_ITEMS}.")
    out = []
    for item in history[-most:]:
        if len(item) <= MAX_QUESTION_CHARS and not WORDLIKE.search(item):  # a "?" alone: no topic
            continue  # (an over-long one is still refused as too long)
        try:
            out.append(clean_question(item))
        except QuestionError as exc:
            raise QuestionError(f"An earlier question in history is not usable: {exc}") from None
    return out


def analyse(question: object, history: list[str] | None = None, two_step: bool = True) -> Query:
    """`history`: earlier questions. They supply the topic (names, and years or terms the new question
    lacks) but never the answer type, and the new question's own terms and years win, so "and what did
    he do in 1972?" looks for 1972, not for the previous answer. With `two_step`, a question that names
    its subject by a description carries the description as a question of its own (`Query.described`),
    so that both are embedded and searched in one round; a summary's "the X that ..." is one of its
    points, not a description."""
    text = clean_question(question)
    context = context_for(text, clean_history(history))
    own_years = years_in(text)
    years = own_years or years_in(context)
    names = question_names(context) + question_names(text) if context else question_names(text)
    kind = QuestionKind(answer_kind(text))
    parts = bridge.split(text) if two_step and kind != QuestionKind.SUMMARY else None
    described = None if parts is None else \
        dataclasses.replace(analyse(parts.description, two_step=False), context=text)
    return Query(text, context, search_text(text, context), kind, frozenset(years), tuple(dict.fromkeys(names)),
                 tuple(terms(text)), tuple(terms(context)), asked_units(text), is_english(text), described=described)


def search_text(question: str, context: str = "") -> str:
    """What retrieval sees: case, quotes, dashes and stray punctuation folded, so "WHO led ...???" and
    "who led ..." search alike; the turns a follow-up leans on come first."""
    text = re.sub(r"[^\w\s'$%.,&/?-]", " ", normalize(f"{context} {question}"))
    # Whitespace is folded first so that no pattern below starts with an unbounded run: a run of
    # spaces before a failing match would make the search quadratic in the run's length.
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r" ?\?[ ?]*", "? ", text)  # "???" -> "?"
    text = re.sub(r" +", " ", text).strip(" .,")
    if QUESTION_START.match(question) and not text.endswith("?"):
        text += "?"  # the model reads "who led x" best as the question it is
    return text


# ---------------------------------------------------------------- follow-ups

def leans_on_history(question: str) -> bool:
    """True when the question cannot stand alone: it points back, or starts as a continuation."""
    if CONTINUATION.search(question) or PERSONAL.search(question):
        return True
    if len(terms(question)) <= 1 and not question_names(question):
        return True  # "Since when?", "At what price?": too short to carry a topic of its own
    # "Why did the Elbonians invade Graustark at that time?" still names its topic.
    return bool(DEMONSTRATIVE.search(question)) and not question_names(question)


def context_for(question: str, history: list[str] | None) -> str:
    """The earlier question(s) to search with, or "" for a self-contained question."""
    if not history or not leans_on_history(question):
        return ""
    # The last turn that named its own topic; if it was itself a follow-up, its predecessor too.
    context = [history[-1]]
    if len(history) > 1 and leans_on_history(history[-1]):
        context.insert(0, history[-2])
    return " ".join(context)


# ---------------------------------------------------------------- what the answer must hold

def answer_kind(text: str) -> str:
    """What the answer must hold: "count" a quantity, "year" a year, "date" a day, "when" some time,
    "who" / "where" a name, "why" a cause, "how" a mechanism, "summary" several points. Specific phrases
    first; otherwise the question's opening wh-word decides, so the "when" of "How was the envoy received
    when he arrived?" is not a question about time."""
    q = normalize(text)
    # "When the river freezes, which boats stay in port?": a leading clause does not set the kind.
    clause = re.match(r"\s*(?:when|while|after|before|if|once|since|as)\b[^,?]*,\s*(.+)", q)
    if clause and re.match(r"(what|which|who|whom|whose|where|when|why|how)\b", clause.group(1)):
        q = clause.group(1)
    if re.search(r"\bhow (many|much|long|large|big|far|old|tall|high|deep|heavy|fast)\b|\bwhat (?:was |is |were )?"
                 r"(?:the )?(number|amount|percentage|population|size|cost|price|length|total|distance|"
                 r"temperature|speed|weight|area)\b|\bat what (rate|speed|temperature)\b", q):
        return "count"
    if re.search(r"\b(what|which) year\b", q):
        return "year"
    if re.search(r"\b(what|which) (date|day)\b|\bexact date\b", q):
        return "date"
    if re.search(r"\b(which|what) (leader|general|person|man|woman|official|president|commander|scientist|"
                 r"chemist|engineer|operator|director|company|firm|manufacturer|maker|publisher|architect|designer|"
                 r"builder|contractor|author|writer|composer|artist|painter|team|club|organi[sz]ation|agency|party|"
                 r"university|hospital|brand|king|queen|emperor|ruler|minister|mayor|captain|coach|player|surgeon|"
                 r"professor|physicist|biologist|mathematician|inventor|explorer|newspaper|journal|magazine|"
                 r"dynasty|tribe)\b", q):
        return "who"
    if re.search(r"\b(which|what) (city|country|place|region|province|town|river|island|county|street|village|"
                 r"station|airport|stadium|continent|mountain|lake|district|museum|empire|kingdom)\b|\bwhich state\b", q):
        return "where"
    if lexicon.SUMMARY.search(q):
        return "summary"
    opening = re.match(r"\W*(?:(?:and|but|so|then|also)\s+)?(?:\w+\s+){0,2}?(when|who|whom|whose|where|why|how)\b", q)
    if opening:
        word = opening.group(1)
        return {"whom": "who", "whose": "who"}.get(word, word)
    if re.search(r"\b(what|which) (caused|led to|made)\b|\bwhat (was|were) the (cause|reason)s?\b", q):
        return "why"
    return "other"


# What unit the answer's quantity must carry (rag.text.patterns.UNITS), by the question's wording: the first
# pattern that matches decides. "How long" may ask a duration or a length; "how much" alone says neither; a
# price may be a share ("12% of the price"); "how often" may be answered by a period or a rate.
ASKED_UNITS: tuple[tuple[re.Pattern, frozenset[str]], ...] = tuple(
    (re.compile(pattern, re.I), frozenset(units.split())) for pattern, units in (
        (r"\bhow (?:often|frequently)\b|\bhow many times (?:a|an|per|each|every)\b", "frequency time percent"),
        (r"\b(?:phone|telephone|contact) number\b|\bnumber (?:do|should|can|must) (?:i|you|we) (?:ring|call|dial)\b",
         "phone"),
        (r"\b(?:at )?what time\b(?! of (?:year|day|the year))|\bwhat are the (?:\w+ )?(?:opening|office|closing|"
         r"visiting) hours\b", "clock time"),
        (r"\bhow much (?:(?!notice|time|room|power|data|more|less|of\b|energy|leave|weight)\w+ ){0,6}?(?:did|does|do|"
         r"will|would|is|was|are|were)\b.*\b(?:cost|costs|pay|paid|charge|charged|spend|spent|lend|lent|donate|"
         r"donated|owe|owed|sell|sold|earn|earned)\b"
         r"|\bwhat (?:was |is |were |are |will be )?(?:the )?(?:\w+ )?(?:cost|price|fee|fees|fare|fares|fine|salary|"
         r"budget|rent|deposit|surcharge|refund)\b|\bhow expensive\b|\bwhat (?:did|does|do|will|would) .{1,60}\bcost\b",
         "money percent"),
        (r"\bhow (?:long|soon|quickly)\b|\bhow many (?:years|months|weeks|days|nights|hours|minutes|seconds|decades|"
         r"centuries)\b|\bfor what (?:period|length of time)\b|\bhow (?:far|much) (?:ahead|in advance|into|back|before)\b"
         r"|\bhow fast (?:do|does|must|should|can) (?:i|you|we|they|staff)\b", "time length"),
        (r"\bhow (?:far|tall|high|deep|wide|thick)\b|\bhow many (?:km|kilometres|kilometers|miles|metres|meters|feet)\b"
         r"|\bwhat (?:was |is |were |are )?(?:the )?(?:\w+ )?(?:distance|length|height|depth|width|span|diameter|"
         r"altitude|elevation)\b", "length"),
        (r"\bhow heavy\b|\bhow much does .* weigh\b|\bhow many (?:kg|kilograms|grams|tonnes|tons)\b", "mass"),
        (r"\bwhat (?:was |is |were |are )?(?:the )?(?:\w+ )?(?:weight|mass)\b", "mass percent"),
        (r"\bwhat (?:percentage|proportion|percent|fraction|share)\b|\bwhat (?:was |is |were |are )?the "
         r"(?:\w+ )?(?:percentage|proportion)\b|\bhow many per ?cent\b", "percent"),
        (r"\b(?:what|which) temperature\b|\bhow (?:hot|cold|warm)\b|\bwhat (?:was |is )?the (?:\w+ )?temperature\b",
         "temperature"),
        (r"\bhow fast\b|\b(?:what|which) (?:was |is )?(?:the )?(?:\w+ )?speed\b|\bat what speed\b", "speed"),
        (r"\bwhat (?:was |is )?(?:the )?(?:\w+ )?area of\b|\bhow many (?:square|hectares|acres)\b", "area"),
        (r"\bhow many (?:litres|liters|gallons|millilitres|ml)\b|\bwhat (?:was |is )?(?:the )?volume\b", "volume"),
    ))


def asked_units(question: str) -> frozenset[str]:
    """The units one of which the answer's quantity must carry ("How far is the ferry crossing?" ->
    {"length"}); empty when the question asks for no measured quantity."""
    for pattern, units in ASKED_UNITS:
        if pattern.search(question):
            return units
    return frozenset()


def question_names(text: str) -> tuple[str, ...]:
    """Capitalised words that do not open a sentence: names the evidence should contain."""
    names = []
    for sentence in sentences_in(text):
        for i, token in enumerate(TOKEN.findall(sentence)):
            word = bare(token)
            if i == 0 or not word[:1].isupper():
                continue
            for part in re.split(r"[-']", word):
                low = part.lower()
                if part[:1].isupper() and len(low) > 1 and low not in STOPWORDS and low not in lexicon.QUESTION_WORDS \
                        and low not in lexicon.TITLES and not lexicon.DEMONYM.search(low):
                    names.append(low)
    return tuple(dict.fromkeys(names))


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
    return bool(DAY.search(text))


def quantities(text: str) -> set[str]:
    """Numbers and number words, years excepted ("in 1969" answers no "how many"), and so are
    definite references ("the two countries" counts nothing)."""
    text = re.sub(r"\b(?:the|these|those|both|all)\s+(?:two|three|four)\b", " ", text, flags=re.I)
    found = {m.group().lower().strip("$.,") for m in QUANTITY.finditer(text)}
    return {q for q in found if not YEAR.fullmatch(q)}


def document_names(texts) -> frozenset[str]:
    """Words the document writes capitalised inside its sentences: its names ("Soviet", "Mao"), so
    that a sentence-initial "Soviet" counts as a name and a sentence-initial "However" does not."""
    capital: dict[str, int] = {}
    lower: dict[str, int] = {}
    for text in texts:
        for sentence in sentences_in(text):
            for token in TOKEN.findall(sentence)[1:]:
                key = bare(token).lower()
                counts = capital if token[:1].isupper() else lower
                counts[key] = counts.get(key, 0) + 1
    return frozenset(w for w, n in capital.items() if n > lower.get(w, 0) and w not in STOPWORDS
                     and not MONTH.fullmatch(w))


def has_new_name(sentence: str, query: Query, names: frozenset[str]) -> bool:
    """A name of the document that the question does not already mention."""
    asked = set(query.names) | set(words(query.text)) | set(words(query.context))
    for token in TOKEN.findall(sentence):
        low = bare(token).lower()
        if token[:1].isupper() and low in names and low not in asked:
            return True
    return False
