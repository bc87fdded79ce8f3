"""Is a question in English? The embedding model and the verifier read English only, so a question in
another language gets a notice instead of a confident answer to words the model cannot read.

The language is told by lingua (a statistical language identifier, low-accuracy mode: 16 languages,
about 35 MB, well under a millisecond a question), not by word lists. Names and numbers are left out
first: they say nothing of the language a question is written in, and a short question full of names
("Who is Olek Varga?") otherwise reads as Polish. Another language must also win clearly, and the
words left must not be mostly English function words ("When did Van der Berg die?").
"""
from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass

from rag.terms import STOPWORDS

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
LANGUAGES = ("ENGLISH", "FRENCH", "GERMAN", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH", "POLISH", "SWEDISH",
             "DANISH", "FINNISH", "CZECH", "ROMANIAN", "TURKISH", "INDONESIAN", "TAGALOG")


@dataclass(frozen=True)
class LanguageCheck:
    """When a question counts as another language: knobs, set on made-up questions, never on evaluation ones."""
    min_words: int = 3  # fewer common words than this: too little to tell, so English
    min_confidence: float = 0.5  # the other language's share of lingua's confidence
    max_english: float = 0.2  # English's share, at most
    max_english_function_words: float = 0.5  # above this share of English function words it is English

    def is_english(self, text: str) -> bool:
        letters = [c for c in text if c.isalpha()]
        if not letters:
            return True
        if sum(1 for c in letters if "LATIN" in unicodedata.name(c, "")) < 0.5 * len(letters):
            return False  # another script: nothing the model reads
        if "¿" in text or "¡" in text:
            return False  # Spanish punctuation, however few its words
        words = common_words(text)
        if len(words) < self.min_words:
            return True
        if sum(1 for w in words if w.lower() in STOPWORDS) >= self.max_english_function_words * len(words):
            return True
        values = detector().compute_language_confidence_values(" ".join(words))
        top = values[0]
        english = next((v.value for v in values if v.language.name == "ENGLISH"), 0.0)
        return top.language.name == "ENGLISH" or top.value < self.min_confidence or english > self.max_english


_LOADING = threading.Lock()


@functools.cache
def detector():
    """Loaded on the first question that needs it (0.1 s); `Pipeline.warm` loads it before the first one."""
    from lingua import Language, LanguageDetectorBuilder

    with _LOADING:
        return LanguageDetectorBuilder.from_languages(*[getattr(Language, name) for name in LANGUAGES]) \
            .with_low_accuracy_mode().with_preloaded_language_models().build()


def common_words(text: str) -> list[str]:
    """The words of a question without names: a capitalised word after the first, and numbers, go."""
    words = WORD.findall(text)
    return [w for i, w in enumerate(words) if i == 0 or not w[0].isupper()]


CHECK = LanguageCheck()


def is_english(text: str) -> bool:
    return CHECK.is_english(text)
