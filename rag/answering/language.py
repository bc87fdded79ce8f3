"""Is a question in English? The embedding model and the verifier read English only, so a question in
another language gets a notice instead of a confident answer to words the model cannot read.

The language is told by lingua (statistical language identification), not by word lists, in two steps:
a fast screen (low-accuracy mode, 16 languages, about 35 MB, under a millisecond) names the likeliest
language; only when that is not English, lingua's high-accuracy models for English and that one language
(loaded on first need, about 35 MB each) decide. The screen alone is wrong on short English questions
(22 of the training and validation questions read as French, Danish, Tagalog and others, some at 0.97
confidence); the pair is not.
Names and numbers are left out of what the screen reads: they say nothing of the language a question is
written in, and a short question full of names ("Who is Olek Varga?") otherwise reads as Polish.
Set on the 1,874 questions of the training and validation documents (all English: none is flagged)
and on made-up questions in ten other languages (19 of 19 told).
"""
from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass

from rag.text.terms import STOPWORDS

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
LANGUAGES = ("ENGLISH", "FRENCH", "GERMAN", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH", "POLISH", "SWEDISH",
             "DANISH", "FINNISH", "CZECH", "ROMANIAN", "TURKISH", "INDONESIAN", "TAGALOG")


@dataclass(frozen=True)
class LanguageCheck:
    """When a question counts as another language: knobs, set on training and validation questions and made-up ones."""
    min_words: int = 3  # fewer common words than this: too little to tell, so English
    min_screen: float = 0.5  # the screen's confidence in another language before the pair is asked
    min_confidence: float = 0.8  # the pair's confidence in that language (0.7: 2 English questions flagged)
    max_english_function_words: float = 0.5  # at this share of English function words it is English

    def is_english(self, question: str) -> bool:
        letters = [c for c in question if c.isalpha()]
        if not letters:
            return True
        if sum(1 for c in letters if "LATIN" in unicodedata.name(c, "")) < 0.5 * len(letters):
            return False  # another script: nothing the model reads
        if "¿" in question or "¡" in question:
            return False  # Spanish punctuation, however few its words
        words = common_words(question)
        if len(words) < self.min_words:
            return True
        if sum(1 for w in words if w.lower() in STOPWORDS) >= self.max_english_function_words * len(words):
            return True
        top = detector().compute_language_confidence_values(" ".join(words))[0]
        if top.language.name == "ENGLISH" or top.value < self.min_screen:
            return True
        # The whole question this time: German writes its nouns with capitals, and the pair is not fooled by names.
        best = pair(top.language.name).compute_language_confidence_values(" ".join(WORD.findall(question)))[0]
        return best.language.name == "ENGLISH" or best.value < self.min_confidence


_LOADING = threading.Lock()


@functools.cache
def detector():
    """The screen, loaded on the first question that needs it (0.1 s); `Pipeline.warm` loads it first."""
    from lingua import Language, LanguageDetectorBuilder  # heavy (its models): loaded on first use

    with _LOADING:
        return LanguageDetectorBuilder.from_languages(*[getattr(Language, name) for name in LANGUAGES]) \
            .with_low_accuracy_mode().with_preloaded_language_models().build()


@functools.cache
def pair(language: str):
    """English against one other language, high-accuracy models: loaded when the screen first names it."""
    from lingua import Language, LanguageDetectorBuilder  # heavy (its models): loaded on first use

    with _LOADING:
        return LanguageDetectorBuilder.from_languages(Language.ENGLISH, getattr(Language, language)).build()


def common_words(text: str) -> list[str]:
    """The words of a question without names: a capitalised word after the first, and numbers, go."""
    words = WORD.findall(text)
    return [w for i, w in enumerate(words) if i == 0 or not w[0].isupper()]


CHECK = LanguageCheck()


def is_english(text: str) -> bool:
    return CHECK.is_english(text)
