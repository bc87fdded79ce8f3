"""Words -> comparable terms, shared by the keyword index and the answerer."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves tell me please describe explain give know let s t many much
""".split())

_stemmer = Stemmer.Stemmer("english")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_POSSESSIVE = re.compile(r"['’]s$")


def bare(token: str) -> str:
    """A token without its possessive ending, case kept ("Stalin's" -> "Stalin"): the one place names and
    words lose it, so a name is the same key wherever it is compared."""
    return _POSSESSIVE.sub("", token)


def normalize(text: str) -> str:
    """Case, accents, dashes, quotes and thousands separators folded, so queries match however typed."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,500 -> 1500
    text = text.translate(str.maketrans({"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"'}))
    return text.lower()


@lru_cache(maxsize=65_536)
def words(text: str) -> tuple[str, ...]:
    """Lower-cased words without possessive endings ("stalin's" -> "stalin"). Cached: the answerer reads
    the same sentences for every question."""
    return tuple(bare(w) for w in _WORD.findall(normalize(text).replace("’", "'")))


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


@lru_cache(maxsize=65_536)
def terms(text: str) -> tuple[str, ...]:
    """Stemmed content words: what BM25 indexes and what term overlap compares."""
    return tuple(stem(w) for w in words(text) if w not in STOPWORDS)
