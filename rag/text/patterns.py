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

# A quantity with its unit, by kind: what "how far", "how long", "what did it cost" ask for. A number is
# digits, a number word, or "a"/"an" ("within a week"); ranges and decimals are covered by their last number.
# Tables name their units in the header, which a row's text carries ("(Stage | Distance (km) | ...)").
# Runs of digits are bounded ({0,30}): a search tries every start, so the last 31 characters of a longer
# number still match, and a page of digits costs linear time, not quadratic.
_NUMBER = rf"(?:\d[\d,.]{{0,30}}|(?:one|{lexicon.NUMBER_WORDS}|a|an|half\s+an?)\b)"
_AFTER = (rf"{_NUMBER}(?:\s*|-)(?:(?:{lexicon.NUMBER_WORDS}|and a half|calendar|working|business|school|clear|full|"
          r"consecutive|more|additional|further|extra|light)[\s-]+)?")
_LENGTH = (r"mm|cm|m|km|µm|nm|metres?|meters?|kilometres?|kilometers?|millimetres?|centimetres?|micrometres?|"
           r"miles?|mi|ft|feet|foot|inch(?:es)?|yards?|yds?|nautical|years?|words|pages|characters")
_CURRENCY = (r"pounds?|dollars?|euros?|pence|p|cents?|yen|yuan|renminbi|francs?|marks?|crowns?|pesos?|guilders?|"
             r"florins?|ducats?|shillings?|guineas?|sesterces|denarii|drachmas?|lire|lira|dinars?|dirhams?|rand|"
             r"reais|zloty|forint|koruna|kroner|kronor|krona|roubles?|rubles?|rupees?|crores?|lakhs?|sequins?|"
             r"usd|eur|gbp|chf")
UNITS = {
    "time": re.compile(rf"{_AFTER}(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|nights?|weeks?|"
                       r"fortnights?|months?|years?|yrs?|decades?|centur(?:y|ies)|ms)\b|\b\d{1,2}:\d{2}\b", re.I),
    "length": re.compile(rf"{_AFTER}(?:{_LENGTH})\b|\((?:[^()]*\s)?(?:km|m|mm|cm|miles|ft|metres)\)", re.I),
    "mass": re.compile(rf"{_AFTER}(?:mg|g|kg|µg|mcg|grams?|kilograms?|milligrams?|tonnes?|tons?|lbs?|"
                       r"pounds?|ounces?|oz|stone|solar mass(?:es)?)\b|\((?:[^()]*\s)?(?:kg|g|t|tonnes)\)", re.I),
    "money": re.compile(rf"[£$€¥₹]|\d[\d,.]{{0,30}}\s*(?:(?:million|billion|thousand|m|bn|k)\s+)?(?:{_CURRENCY})\b"
                        r"|\b(?:free|no charge|free of charge|a sequin|apiece)\b", re.I),
    "percent": re.compile(r"\d\s*(?:%|per\s*cent|percent)|\b(?:half|\d+\s+in\s+\d+|(?:one|two|three|four|a)[\s-]"
                          r"(?:half|third|quarter|fifth|sixth|tenth)s?)\b", re.I),
    "temperature": re.compile(r"\d\s*(?:°|º|degrees?|deg|kelvin)|\bkelvin\b|°", re.I),
    "speed": re.compile(rf"{_AFTER}(?:km/h|kph|mph|m/s|knots?|kn|rpm|revolutions|mach)\b|\bmach\s+\d"
                        rf"|{_AFTER}(?:{_LENGTH})\s*(?:/|per|an?|each)\s*(?:s|h|sec|second|minute|hour|day|week|"
                        r"month|year)\b", re.I),
    "area": re.compile(rf"{_AFTER}(?:km2|km²|m2|m²|square|sq|hectares?|ha|acres?)\b|km²|m²", re.I),
    "volume": re.compile(rf"{_AFTER}(?:ml|l|litres?|liters?|millilitres?|cl|gallons?|pints?|cubic|m3|m³|"
                         r"cc|fl)\b|\((?:[^()]*\s)?(?:l|litres|ml)\)", re.I),
    "frequency": re.compile(r"\b(?:every|each|per|daily|weekly|monthly|yearly|annually|hourly|nightly|"
                            r"fortnightly|quarterly|once|twice|times)\b|\ba\s+(?:day|week|month|year)\b", re.I),
    "clock": re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*(?:a\.?m\b\.?|p\.?m\b\.?)|\b(?:noon|midday|"
                        r"midnight|o'clock)\b", re.I),
    "phone": re.compile(r"\+?\d[\d ()-]{6,24}\d|\b(?:extension|ext\.?|dial|ring|press)\s*\d+", re.I),
}
