"""Authors' names in parts: family, given, suffix, or an organisation's name kept whole.

The store keeps each author as one string ("First Last", sometimes "Last, First" or MEDLINE's "Wang B");
every export format wants the parts in its own order or fields, so the splitting rules (name particles,
suffixes, trailing initials, organisations) live here, apart from the writers of :mod:`recommender.export`
that use them.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Lower-case name particles that belong to the family name ("Jan van der Berg" → "van der Berg, Jan").
_PARTICLES = frozenset(
    "van von der den de del della dei degli di da das dos do du la le les lo ten ter te zu zur bin ibn al el".split()
)
_SUFFIXES = frozenset("Jr Jr. Sr Sr. II III IV".split())
# A name holding one of these words is an organisation, written as it is rather than turned round.
_ORGANISATION_WORDS = frozenset(
    "group consortium collaboration collaborative committee network investigators society association team "
    "initiative organization organisation institute council foundation alliance project programme program "
    "trialists agency".split()
)


class Person(NamedTuple):
    """One author's name in parts; ``family`` alone for a single-token name or an organisation."""

    family: str
    given: str = ""
    suffix: str = ""
    organisation: bool = False

    @property
    def inverted(self) -> str:
        """ "Last, First" (suffix kept with the family name, so turning it back gives the stored name)."""
        family = f"{self.family} {self.suffix}" if self.suffix else self.family
        return f"{family}, {self.given}" if self.given else family

    @property
    def initials(self) -> str:
        """MEDLINE's short form of the given names: "Jean-Paul Maria" → "JPM"."""
        return "".join(part[0].upper() for part in re.split(r"[\s\-.]+", self.given) if part[:1].isalpha())


def split_name(name: str) -> Person:
    """A stored author name ("First Last", sometimes "Last, First" or "Wang B") in family and given parts.

    Lower-case particles join the family name ("Jan van der Berg"), "Jr"/"III" are kept as a suffix, a name
    ending in up to three capitals is taken as "Family Initials" (MEDLINE's AU form), and single tokens and
    organisations are kept whole.
    """
    family, comma, given = name.partition(",")
    if comma and given.strip():
        return Person(" ".join(family.split()), " ".join(given.split()))
    tokens = name.split()
    if len(tokens) < 2:
        return Person(" ".join(tokens))
    if not _ORGANISATION_WORDS.isdisjoint(name.lower().split()):
        return Person(" ".join(tokens), organisation=True)
    suffix = ""
    if len(tokens) >= 3 and tokens[-1] in _SUFFIXES:
        suffix, tokens = tokens[-1], tokens[:-1]
    last = tokens[-1]
    if last.isalpha() and last.isupper() and len(last) <= 3:  # "Wang B", "Smith JR": initials last
        return Person(" ".join(tokens[:-1]), last, suffix)
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1] in _PARTICLES:  # a particle never starts the name
        start -= 1
    return Person(" ".join(tokens[start:]), " ".join(tokens[:start]), suffix)
