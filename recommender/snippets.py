"""The sentence of a paper that shows why it matched: the snippet under a hit, with its shared terms marked.

"Shares anoikis resistance, SERPINE1" says what two papers have in common; the sentence that carries those
terms says how the hit uses them. The sentence chosen is the one holding the most of the shared terms
(rarest counting most, as the caller ranks them), title included; the terms are marked by character spans
into that sentence (the JSON gives ``[start, end]`` pairs; the web page and the CLI highlight them).
Everything is bounded: at most :data:`MAX_TEXT_CHARS` of the paper read, sentences cut at :data:`MAX_CHARS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .tokenizer import compound_parts, stem, word_spans

#: Characters of a paper read when looking for the snippet, and the longest snippet shown.
MAX_TEXT_CHARS = 20_000
MAX_CHARS = 300
#: A sentence ends at ., ! or ? followed by space and a capital, digit or bracket (linear: no nested repeats).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


@dataclass(frozen=True)
class Snippet:
    """A sentence of the hit and the character spans of the shared terms in it."""

    text: str
    highlights: list[tuple[int, int]]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "highlights": [list(span) for span in self.highlights]}


def sentences(text: str) -> list[str]:
    """The text's sentences (title lines and abstract sentences), blank ones dropped."""
    pieces: list[str] = []
    for line in text[:MAX_TEXT_CHARS].splitlines():
        pieces.extend(part.strip() for part in _SENTENCE_END.split(line))
    return [piece for piece in pieces if piece]


class Reading:
    """A hit's text read for its shared terms: the sentences worth tokenizing, with their words (spans and
    index keys), and each key's first spelling — what explanations show ("CAFs", "PD-L1") and what the
    snippet marks.

    Tokenizing every sentence of every hit would cost more than the search itself, so with ``keys`` (the
    shared terms' words) a cheap substring test ranks the sentences first: the one that seems to hold most
    keys is read, the first one holding any (the paper's first spellings), and the one that seems to hold most
    of the keys both lack. A hit is read in a fraction of a millisecond; without ``keys`` every sentence is
    read.
    """

    def __init__(self, text: str, keys: set[str] | None = None) -> None:
        self.sentences: list[tuple[str, list[tuple[int, int, set[str]]]]] = []
        self.forms: dict[str, str] = {}
        self._keys = keys
        pieces = sentences(text)
        if keys is None:
            for sentence in pieces:
                self._read(sentence)
            return
        held = [(sentence, _held_keys(sentence, keys)) for sentence in pieces]
        held = [(sentence, found) for sentence, found in held if found]
        if not held:
            return
        best = max(range(len(held)), key=lambda i: (len(held[i][1]), -i))
        # The first sentence holding a key gives the paper's first spelling of it (a title's "anoikis
        # resistance", before a later "resist anoikis"); read first, so its spellings win.
        chosen = {0, best}
        # One more sentence for the spellings of keys neither holds: the one holding most of them (the earliest
        # on ties). Keys in none of these sentences are shown as the query writes them.
        unseen = keys - held[best][1] - held[0][1]
        if unseen:
            extra = max(range(len(held)), key=lambda i: (len(unseen & held[i][1]), -i))
            if unseen & held[extra][1]:
                chosen.add(extra)
        for i in sorted(chosen):
            self._read(held[i][0])

    def _read(self, sentence: str) -> None:
        """Tokenize one sentence: its words' spans and keys, and the first spelling of each wanted key."""
        keys = self._keys
        words = []
        for start, end, surfaces in word_spans(sentence):
            found = set()
            for surface in surfaces:
                key = stem(surface)
                found.add(key)
                if keys is None or key in keys:
                    self.forms.setdefault(key, surface)
                    self.forms.setdefault(surface.lower(), surface)
                for part in compound_parts(surface) if "-" in surface else ():
                    part_key = stem(part)
                    if keys is None or part_key in keys:
                        self.forms.setdefault(part_key, part)
            words.append((start, end, found))
        self.sentences.append((sentence, words))

    def snippet(self, terms: Sequence[str]) -> Snippet | None:
        """The sentence carrying most of ``terms`` (index terms, rarest first; a phrase as two stems), with
        their words marked; ``None`` when no sentence holds any of them."""
        if not terms:
            return None
        weights = {term: len(terms) - i for i, term in enumerate(terms)}
        keys = {word for term in terms for word in term.split()}
        best: tuple[float, str, list[tuple[int, int]]] | None = None
        for sentence, words in self.sentences:
            spans = [(start, end) for start, end, found in words if found & keys]
            if not spans:
                continue
            found = set().union(*(found for _, _, found in words))
            score = sum(weight for term, weight in weights.items() if set(term.split()) <= found)
            if best is None or score > best[0]:
                best = (score, sentence, spans)
        return None if best is None else _clipped(best[1], best[2])


def _held_keys(sentence: str, keys: set[str]) -> set[str]:
    """The keys a sentence seems to hold, by a substring test before any tokenizing: a word's stem is (almost
    always) a prefix of the word, a symbol's key its letters without hyphens. Text with Greek letters or other
    non-ASCII characters is taken to hold them all (it is read to find out)."""
    if not sentence.isascii():
        return set(keys)
    plain = sentence.lower().replace("-", "")
    return {key for key in keys if key in plain}


def best_snippet(text: str, terms: Sequence[str]) -> Snippet | None:
    """The sentence of ``text`` carrying most of ``terms``, marked (see :meth:`Reading.snippet`)."""
    return Reading(text, {word for term in terms for word in term.split()}).snippet(terms) if terms else None


def _clipped(sentence: str, spans: list[tuple[int, int]]) -> Snippet:
    """A long sentence cut to :data:`MAX_CHARS` around its first mark, with an ellipsis where cut."""
    if len(sentence) <= MAX_CHARS:
        return Snippet(sentence, spans)
    start = max(0, min(spans[0][0] - MAX_CHARS // 3, len(sentence) - MAX_CHARS))
    end = start + MAX_CHARS
    prefix = "…" if start else ""
    text = prefix + sentence[start:end] + ("…" if end < len(sentence) else "")
    shift = len(prefix) - start
    kept = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return Snippet(text, kept)
