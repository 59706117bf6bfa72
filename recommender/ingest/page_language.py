"""Which language a piece of page text is in: English, another language, or cannot tell.

Bilingual pages (SciELO, Springer, CyberLeninka) carry the abstract and the title twice; the English one is
kept. The test is cheap on purpose: the share of Latin letters and a count of function words.
"""

from __future__ import annotations

import re

from .fields import latin_ratio

_ENGLISH = frozenset("the of and in to a with for by on is are from as at an that this was were which".split())
_OTHER_FUNCTION_WORDS = frozenset(
    "de la el en y del los las con por para una un que se le les des et du dans sur der die das und mit von zu "
    "den ein eine im beim bei zur zum für über auf da do dos das em para com uma não il di e per che".split()
)
_FUNCTION_WORD = re.compile(r"(?<![\w\-.])[^\W\d_]+(?![\w\-.])")


def is_english(text: str) -> bool:
    """Mostly Latin letters, and more English function words than Spanish/Portuguese/French/German/Italian
    (a short title with none of either counts as English)."""
    return language(text) == "en"


def is_foreign(text: str) -> bool:
    """Another script, or more function words of another European language than of English."""
    return language(text) == "other"


def language(text: str) -> str:
    if latin_ratio(text) < 0.8:
        return "other"
    # Lower-case words standing alone: "IL" of "IL-6" or "e" of "e.g." is no Italian.
    words = [word for word in _FUNCTION_WORD.findall(text[:3000]) if word.islower()]
    english = sum(word in _ENGLISH for word in words)
    other = sum(word in _OTHER_FUNCTION_WORDS for word in words)
    return "en" if english > other or english == other == 0 else "other" if other > english else "unknown"
