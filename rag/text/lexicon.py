"""Every word list the answering stage uses, in one place, each with why it exists.

The lists describe English questions and encyclopedia-style prose in general; none names anything of
one document. Stop words for indexing live with the tokenizer (`rag.text.terms.STOPWORDS`).
"""
from __future__ import annotations

import re

# Words that open a question (or its clause): never names, never the topic.
QUESTION_WORDS = frozenset("""
what when who whom whose which where why how did does do was were is are in on at and tell can could
according has have had name list give describe explain
""".split())

# Capitalised words that are titles or generic, not names: their absence from a document says little.
TITLES = frozenset("""
chairman president premier general comrade leader marshal secretary mr mrs ms dr minister prime party
war the i sir lord king queen emperor saint st professor prof doctor
""".split())

# "American", "Vietnamese", "British": adjectives a document may express otherwise ("the United States").
# Seven letters or more, so that first names with the same endings ("Brian", "Duncan") stay names.
DEMONYM = re.compile(r"^\w{4,}(ian|ean|can|ese|ish)$")

MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
          "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")

NUMBER_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                "hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|several")

# Words that point back at something said before (follow-up questions): a person always, a thing
# unless the question names one; and openings that continue the conversation.
PERSONAL_PRONOUNS = r"he|she|they|them|him|his|her|hers|their|theirs|the latter|the former"
DEMONSTRATIVES = r"it|its|this|that|these|those|there|then|the same"
CONTINUATIONS = r"and|but|also|so|what about|how about|and what|then"

# Opposites a near-miss question swaps in: the text gives one, the question asks for the other.
# Stems (rag.text.terms.stem) on both sides; each pair is listed once and read both ways.
OPPOSITES = (
    ("highest", "lowest"), ("largest", "smallest"), ("most", "least"), ("first", "last"),
    ("open", "close"), ("start", "end"), ("begin", "end"), ("increas", "decreas"), ("rise", "fall"),
    ("maximum", "minimum"), ("longest", "shortest"), ("oldest", "youngest"), ("earliest", "latest"),
    ("born", "die"), ("win", "lose"), ("enter", "leav"), ("arriv", "depart"), ("releas", "arrest"),
    ("gain", "lose"), ("strongest", "weakest"), ("north", "south"), ("east", "west"), ("befor", "after"),
    ("deepest", "shallowest"), ("heaviest", "lightest"), ("hottest", "coldest"), ("fastest", "slowest"),
    ("richest", "poorest"), ("best", "worst"), ("nearest", "farthest"), ("widest", "narrowest"),
)

# Sentences that give a cause or a mechanism: what a "why" or "how" question asks for.
CAUSAL = re.compile(
    r"\b(because|due to|owing to|as a result|result(?:ed|ing)? (?:in|from)|caus(?:e|ed|es|ing)|led to|lead to|"
    r"leads to|so that|in order to|since|therefore|thus|hence|reason|why|driv(?:e|en|es) by|trigger(?:ed|s)?|"
    r"provok(?:e|ed)|prompt(?:ed|s)|when|after|by (?:\w+ing)|through|which (?:allow|enable|produc|mean)\w*|"
    r"allow(?:s|ed|ing)?|enabl(?:e|es|ed|ing)|convert\w*|produc\w*)\b", re.I)

# Questions that want several points, not one fact; among them those about a whole document or section
# ("What is the Zenda guide chiefly about?", "In short, what does the Strelsau fee cover?"), which one sentence rarely
# answers (chosen under rule 27, shipped by rule 28, bench/results.md: on the 56 validation documents, with
# summaries quoting up to three points a passage, summary accuracy 0.679 -> 0.703 in the probe).
SUMMARY = re.compile(r"\b(main|major|key|principal|chief) (causes?|reasons?|points?|factors?|effects?|"
                     r"consequences?|stages?|steps?|events?|phases?)\b|\bsummari[sz]e\b|\boverview\b|"
                     r"\bhow did .* (change|develop|improve|evolve|worsen|deteriorate)\b"
                     r"|\b(?:mainly|mostly|chiefly|generally|broadly|basically) about\b"
                     r"|\bwhat (?:is|was) (?:this|the) [\w -]{0,30}? about\b|\bin (?:brief|short|a nutshell)\b(?!-)"
                     r"|\bbriefly\b|\b(?:purpose|gist) of (?:this|the)\b|\bsum (?:it|this|up)\b", re.I)

