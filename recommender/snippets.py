"""The sentence of a paper that shows why it matched: the snippet under a hit, with its shared terms marked.

"Shares anoikis resistance, SERPINE1" says what two papers have in common; the sentence that carries those
terms says how the hit uses them. The sentence chosen is the one holding the most of the shared terms
(rarest counting most, as the caller ranks them), title included; the terms are marked by character spans
into that sentence (the JSON gives ``[start, end]`` pairs; the web page and the CLI highlight them).
Everything is bounded: at most :data:`MAX_TEXT_CHARS` of the paper read, sentences cut at :data:`MAX_CHARS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .tokenizer import LONG_NAMES, compound_parts, expand, is_compound, spellings, stem, token_spans

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
        probes = [(key, *_probes(key)) for key in keys]
        held = [(sentence, _held_keys(sentence, probes)) for sentence in pieces]
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
        """Tokenize one sentence: its words' spans and keys, and the first spelling of each wanted key.

        With ``keys``, a word's found keys are only the wanted ones and words holding none are not kept (the
        snippet marks and scores wanted keys only), and a plain word is tested by its stem alone: most words
        of a sentence are not wanted, and this test is what a hit's reading mostly costs.
        """
        keys = self._keys
        forms = self.forms
        words = []
        for start, end, token in token_spans(sentence):
            if keys is not None and not is_compound(token):
                key = stem(token)
                if key in keys:
                    forms.setdefault(key, token)
                    forms.setdefault(token.lower(), token)
                    words.append((start, end, {key}))
                continue
            found = set()
            for surface in expand(token) if is_compound(token) else [token]:
                key = stem(surface)
                if keys is None or key in keys:
                    found.add(key)
                    forms.setdefault(key, surface)
                    forms.setdefault(surface.lower(), surface)
                if "-" in surface:
                    for part in compound_parts(surface):
                        part_key = stem(part)
                        if keys is None or part_key in keys:
                            forms.setdefault(part_key, part)
            if found or keys is None:
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


class Forms(Mapping[str, str]):
    """A hit's spellings, then the query's for terms the hit's sentences do not show (the query's are read
    only when asked: :class:`Spellings`). A ChainMap does the same at several times the cost per lookup, and
    an explanation looks up every word of every shared term."""

    def __init__(self, own: dict[str, str], fallback: Mapping[str, str]) -> None:
        self._own = own
        self._fallback = fallback

    def __getitem__(self, key: str) -> str:
        found = self._own.get(key)
        return self._fallback[key] if found is None else found

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]  # one signature for the overloads
        found = self._own.get(key)
        if found is not None:
            return found
        try:
            return self._fallback[key]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._fallback), **dict.fromkeys(self._own)})

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Spellings(Mapping[str, str]):
    """The query text's first spelling of each index term (:func:`~recommender.tokenizer.spellings`), read
    key by key and only when a hit's own sentences do not show a term.

    Reading a whole abstract for its spellings cost a millisecond per related query, and nearly every query
    needs a few; a key is looked for in the sentences that seem to hold it (the substring test of
    :class:`Reading`), each sentence tokenized once, in order, so the first spelling wins. A key no such
    sentence shows falls back to the whole text.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._plain: list[tuple[str, str | None]] | None = None
        self._read: dict[int, dict[str, str]] = {}
        self._whole: dict[str, str] | None = None

    def __getitem__(self, key: str) -> str:
        if self._whole is not None:
            return self._whole[key]
        if self._plain is None:
            self._plain = [(piece, _plain(piece)) for piece in sentences(self.text)]
        probes = _probes(key)
        for i, (sentence, plain) in enumerate(self._plain):
            forms = self._read.get(i)
            if forms is None:
                if plain is not None and not any(probe in plain for probe in probes):
                    continue
                forms = self._read[i] = spellings(sentence)
            if key in forms:
                return forms[key]
        return self._all()[key]

    def _all(self) -> dict[str, str]:
        """Every spelling of the whole text (read once, when a key is in no probed sentence or all are asked)."""
        if self._whole is None:
            self._whole = spellings(self.text) if self.text else {}
        return self._whole

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _held_keys(sentence: str, probes: list[tuple[str, ...]]) -> set[str]:
    """The keys a sentence seems to hold, by a substring test before any tokenizing: ``probes`` are each
    key followed by its :func:`_probes`. Text with Greek letters or other non-ASCII characters is taken to
    hold them all (it is read to find out)."""
    plain = _plain(sentence)
    if plain is None:
        return {key for key, *_ in probes}
    # The first probe decides for almost every key; a second (a long name) is tried only when it fails.
    return {key for key, first, *rest in probes if first in plain or any(probe in plain for probe in rest)}


@lru_cache(maxsize=1 << 14)
def _probes(key: str) -> tuple[str, ...]:
    """Substrings one of which a sentence holding ``key`` holds (lower case, hyphens removed): a word's stem
    is a prefix of the word but for a last letter a stem may change ("splice" in "splicing", "therapi" in
    "therapy"), a symbol's key its letters, or the long name of an abbreviated one ("il1" in
    "interleukin-1")."""
    probe = key[:-1] if len(key) >= 4 and key[-1] in "eil" else key
    names = tuple(name for name, short in LONG_NAMES.items() if key.startswith(short))
    return (probe, *names)


def _plain(sentence: str) -> str | None:
    """What keys are looked for in (lower case, no hyphens); ``None`` for text with non-ASCII characters,
    which a substring test cannot judge (Greek letters, ligatures: it is read)."""
    return sentence.lower().replace("-", "") if sentence.isascii() else None


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
