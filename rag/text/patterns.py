"""Patterns for the years, dates, quantities and names a question asks for and a sentence holds."""
from __future__ import annotations

import re

from rag.text import lexicon

YEAR = re.compile(r"\b(1\d{3}|20\d{2})(s?)\b")
MONTH = re.compile(lexicon.MONTHS)
DATE = re.compile(rf"\b(?:\d{{1,2}}\s+(?:{lexicon.MONTHS})|(?:{lexicon.MONTHS})\.?\s+\d{{1,4}}|1\d{{3}}s?|20\d{{2}}s?"
                  rf"|[\d.,]+\s*(?:(?:{lexicon.NUMBER_WORDS})\s+)?years?\s+ago|\d{{1,2}}(?:st|nd|rd|th)\s+century"
                  rf"|(?:{lexicon.NUMBER_WORDS}|\d+)\s+(?:days?|weeks?|months?|years?|hours?)\s+(?:later|after|before|earlier))\b",
                  re.I)
DAY = re.compile(rf"\b\d{{1,2}}\s+(?:{lexicon.MONTHS})\b|\b(?:{lexicon.MONTHS})\.?\s+\d{{1,2}}\b(?!\d)", re.I)
QUANTITY = re.compile(rf"(?:(?<![\w-])\$?\b\d[\d,.]*\b(?!\s*(?:{lexicon.MONTHS})\b)|\b(?:{lexicon.NUMBER_WORDS})\b)",
                      re.I)
TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
NAME_RUN = re.compile(r"(?:[A-Z][\w'’-]*\s+){0,3}[A-Z][\w'’-]*")  # "Mikhail Gorbachev", "Sun Yat-sen"
