"""Theme labels a biologist would write, and the same rule for "why related" terms.

**The rule.** A term may label a theme only if

1. at least :data:`MIN_COVERAGE` (30%) of the theme's papers use it, and
2. it is at least :data:`MIN_LIFT` (3×) more common inside the theme than outside (share of the theme's
   papers using it ÷ share of the other papers using it; a term no other paper uses passes), and
3. it reads as a name: no abstract boilerplate ("results", "patients", "study") or generic biology ("cells",
   "expression", "induced"); no word that can only be a verb or an adverb ("queried", "reversed",
   "receiving", "enhance"); a single word must be able to be a noun (or be a symbol or a word the lexicon does
   not know, which in this literature is a domain term: "anoikis", "EMT", unless it ends in "-ed"); a phrase
   must end in one. A term is shown as the longer name it sits in when most of its uses are that name ("growth
   factor", "quality of life": boilerplate words may appear inside such a name, generic biology may not).
   Parts of speech come from LemmInflect's English lexicon (``lemminflect.getAllLemmas``).

A broad theme in which no term meets rules 1–2 is labelled by the same rule at 20% and 2× (its ``label_rule`` is
``"broad"`` instead of ``"strict"``); a theme in which no term meets even that says so.

Qualifying terms are ranked by coverage × log(lift) × (1 + their mean TF-IDF weight in the theme), then
deduplicated: a phrase takes the place of the words it contains when it covers most of their papers
("anoikis resistance", not "anoikis" beside it), a part of a hyphenated symbol is not shown beside
the symbol ("hif" beside "hif-1alpha"), and an abbreviation is not shown beside its long form ("CAFs" and
"cancer-associated fibroblasts": pairs found in the theme's own abstracts by the Schwartz–Hearst algorithm,
``abbreviations`` on PyPI). Terms are shown in the theme's most common spelling, words lower-case and symbols
as written ("IL-6", "STAT3", "CAFs").

"Why related" terms (shared terms of a hit) follow the same rule with the hit as the "theme": it uses the term
(coverage 100%), so at most a third of the other papers may use it (lift ≥ 3), and it must read as a name.
"""

from __future__ import annotations

import gzip
import importlib.util
import logging
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..tokenizer import BOILERPLATE, STOPWORDS, common_spellings, display, index_terms, plain_case, segments, stem

if TYPE_CHECKING:
    from scipy import sparse

MIN_COVERAGE = 0.30
MIN_LIFT = 3.0
#: The rule for a broad theme in which no term meets the strict one (reported as the label's tier).
BROAD_COVERAGE = 0.20
BROAD_LIFT = 2.0
#: Largest lift counted in the ranking (a term no other paper uses would otherwise rank infinitely high).
LIFT_CAP = 64.0
#: Generic biology that names no theme on its own (it still counts for clustering and ranking).
GENERIC_WORDS = frozenset(
    """
    cell cells human humans expression expressed activity activities activation activated regulation regulated
    regulates regulate induced induce induces promote promotes promoted promoting inhibit inhibits inhibited
    function functions role roles process processes type types level effect change changes anti non pro vivo vitro
    case cases subject subjects participant participants individual individuals population populations sample
    samples number numbers rate rates ratio ratios range score scores percent percentage proportion total
    single multiple local normal common different various specific similar independent overall additional
    day days week weeks month months hour hours minute minutes time times period periods duration follow-up
    correlation correlations adjustment adjusted association record records detection assessment measurement
    measurements value values mean median difference differences characteristics feature features
    """.split()
)
_SKIP_WORDS = STOPWORDS | BOILERPLATE | GENERIC_WORDS
_SKIP_STEMS = frozenset(stem(word) for word in _SKIP_WORDS)
_GENERIC_ONLY = STOPWORDS | GENERIC_WORDS
_GENERIC_STEMS = frozenset(stem(word) for word in _GENERIC_ONLY)
#: Share of a term's uses that must be one longer phrase for the phrase to be shown instead; its longest length;
#: the words that may link a phrase ("quality of life"); characters of each text read for phrases.
PHRASE_SHARE = 0.6
PHRASE_MIN_USES = 3
#: A phrase replaces a chosen word it contains when it covers at least this share of the word's coverage.
PHRASE_REPLACES = 0.6
MAX_PHRASE_WORDS = 4
LINK_WORDS = frozenset({"of"})
PHRASE_TEXT_CHARS = 4000
PHRASE_USES = 500
#: Texts read for abbreviation pairs, characters of each, and brackets of each (bound the work on hostile input).
ABBREVIATION_TEXTS = 30
ABBREVIATION_CHARS = 4000
ABBREVIATION_BRACKETS = 25

logging.getLogger("abbreviations").setLevel(logging.ERROR)


@lru_cache(maxsize=1 << 16)
def _parts_of_speech(word: str) -> frozenset[str]:
    """The parts of speech LemmInflect's lexicon gives a lower-case word (empty when it does not know it), as
    ``lemminflect.getAllLemmas`` gives them (its lexicon, then its overrides).

    Looked up by bisection in the lexicon's sorted lines, without importing lemminflect (0.15 s) or building
    a dictionary of its 80,000 lines (0.1 s more): a cold ``recommender related`` explains its hits with a
    few dozen lookups."""
    lower = word.lower()
    lines, overrides = _lexicon()
    row = bisect_left(lines, lower, key=_lexicon_word)
    tags: set[str] = set()
    while row < len(lines) and _lexicon_word(lines[row]) == lower:  # "word,category,lemma/lemma"
        category = lines[row].split(",", 2)[1].upper()
        tags.add("AUX" if category == "MODAL" else category)
        row += 1
    return frozenset(tags | overrides.get(lower, set()))


def _lexicon_word(line: str) -> str:
    return line.partition(",")[0]


@lru_cache(maxsize=1)
def _lexicon() -> tuple[list[str], dict[str, set[str]]]:
    """LemmInflect's lexicon lines (sorted by word, as shipped: a test checks it) and its overrides (word →
    parts of speech), read from the package's resource files."""
    spec = importlib.util.find_spec("lemminflect")
    if spec is None or spec.origin is None:
        raise ImportError("lemminflect is not installed")
    resources = Path(spec.origin).parent / "resources"
    lines = gzip.decompress((resources / "lemma_lu.csv.gz").read_bytes()).decode("utf-8").splitlines()
    overrides: dict[str, set[str]] = {}
    for line in (resources / "lemma_overrides.csv").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, category, _ = line.split(",", 2)
            overrides.setdefault(word, set()).add(category)
    return lines, overrides


def _is_symbol(word: str) -> bool:
    return any(ch.isdigit() for ch in word) or sum(ch.isupper() for ch in word) >= 2


def _word_ok(word: str, *, head: bool, generic: bool = False) -> bool:
    """A word of a label: not boilerplate (unless ``generic``: inside a longer name such as "growth factor"),
    never generic biology, not verb- or adverb-only; a head word must be able to be a noun."""
    lower = word.lower()
    if lower in STOPWORDS or len(lower) < 2:
        return False
    skip = _GENERIC_ONLY if generic else _SKIP_WORDS
    skip_stems = _GENERIC_STEMS if generic else _SKIP_STEMS
    if lower in skip or stem(word) in skip_stems:
        return False
    if _is_symbol(word):
        return True
    tags: set[str] = set()
    for piece in lower.split("-"):
        tags |= _parts_of_speech(piece)
    if not tags:  # a word the lexicon does not know: a domain term ("anoikis", "glycolytic"), unless it is
        return not (head and lower.endswith("ed"))  # a verb form the lexicon lacks ("upregulated")
    if tags <= {"VERB", "AUX", "ADV"}:
        return False
    return not head or bool(tags & {"NOUN", "PROPN"})


@lru_cache(maxsize=1 << 16)
def reads_as_name(term: str, *, extended: bool = False) -> bool:
    """Rule 3: a term as shown (one word or a phrase of up to :data:`MAX_PHRASE_WORDS`) reads as a name; a
    link word ("of") may join a phrase's words ("quality of life"). An ``extended`` phrase (a label term shown
    as the longer name it sits in) may contain generic words ("epidermal growth factor")."""
    words = term.split()
    if not words or len(words) > MAX_PHRASE_WORDS:
        return False
    last = len(words) - 1
    return all(
        (0 < i < last and word.lower() in LINK_WORDS) or _word_ok(word, head=i == last, generic=extended)
        for i, word in enumerate(words)
    )


def term_shares(presence: sparse.spmatrix, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per theme and term: the share of the theme's papers using it, the share of the other papers using it,
    and the lift (their ratio; infinite when no other paper uses it)."""
    from scipy import sparse  # theme fits only: explaining a hit never needs it

    presence = sparse.csr_matrix(presence, dtype=np.float64)
    n = presence.shape[0]
    assigned = np.flatnonzero(labels >= 0)
    membership = sparse.csr_matrix((np.ones(len(assigned)), (labels[assigned], assigned)), shape=(k, n))
    inside_counts = (membership @ presence).toarray()
    total = np.asarray(presence.sum(axis=0)).ravel()
    sizes = np.bincount(labels[assigned], minlength=k).astype(np.float64)[:, None]
    inside = inside_counts / np.maximum(sizes, 1.0)
    outside = (total[None, :] - inside_counts) / np.maximum(n - sizes, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(outside > 0, inside / np.where(outside > 0, outside, 1.0), np.inf)
    return inside, outside, lift


def theme_terms(
    presence: sparse.spmatrix,
    vocabulary: Sequence[str],
    labels: np.ndarray,
    k: int,
    texts_by_theme: Sequence[Sequence[str]],
    n_terms: int = 8,
    weights: sparse.spmatrix | None = None,
) -> list[tuple[list[str], str | None]]:
    """Each theme's label terms as shown, best first, and the tier of the rule they meet: ``"strict"``
    (:data:`MIN_COVERAGE`, :data:`MIN_LIFT`), ``"broad"`` (a broad theme where no term meets it:
    :data:`BROAD_COVERAGE`, :data:`BROAD_LIFT`) or ``None`` (no term meets either).

    ``texts_by_theme`` are each theme's most representative texts: they give the spellings and the
    abbreviation pairs. ``weights`` (papers × terms, TF-IDF) break ties between equally spread terms in
    favour of the ones the theme's papers use most."""
    if k == 0 or presence.shape[1] == 0:
        return [([], None) for _ in range(k)]
    inside, _outside, lift = term_shares(presence, labels, k)
    strength = _mean_weight(weights, labels, k) if weights is not None else np.zeros_like(inside)
    usable = np.array([not _SKIP_STEMS.intersection(term.split()) and bool(term) for term in vocabulary])
    result: list[tuple[list[str], str | None]] = []
    for theme in range(k):
        texts = list(texts_by_theme[theme])
        chosen: list[str] = []
        tier: str | None = None
        for name, coverage, least_lift in (("strict", MIN_COVERAGE, MIN_LIFT), ("broad", BROAD_COVERAGE, BROAD_LIFT)):
            qualifies = usable & (inside[theme] >= coverage) & (lift[theme] >= least_lift)
            chosen = _choose(np.flatnonzero(qualifies), inside[theme], lift[theme], strength[theme], vocabulary, texts)
            if chosen:
                tier = name
                break
        result.append((chosen[:n_terms], tier))
    return result


def _mean_weight(weights: sparse.spmatrix, labels: np.ndarray, k: int) -> np.ndarray:
    """Per theme and term: the mean TF-IDF weight over the theme's papers."""
    from scipy import sparse

    weights = sparse.csr_matrix(weights, dtype=np.float64)
    assigned = np.flatnonzero(labels >= 0)
    membership = sparse.csr_matrix((np.ones(len(assigned)), (labels[assigned], assigned)), shape=(k, weights.shape[0]))
    sizes = np.bincount(labels[assigned], minlength=k).astype(np.float64)[:, None]
    return (membership @ weights).toarray() / np.maximum(sizes, 1.0)


def _choose(
    candidates: np.ndarray,
    coverage: np.ndarray,
    lift: np.ndarray,
    strength: np.ndarray,
    vocabulary: Sequence[str],
    texts: list[str],
    n_terms: int = 8,
) -> list[str]:
    """The qualifying terms ranked (coverage × log lift × (1 + mean TF-IDF weight)), read as names,
    deduplicated and shown as the phrases they sit in."""
    if not len(candidates):
        return []
    score = coverage[candidates] * np.log(np.minimum(lift[candidates], LIFT_CAP)) * (1.0 + strength[candidates])
    order = candidates[np.lexsort((candidates, -score))][: n_terms * 6]
    forms = common_spellings(texts)
    ranked = [(str(vocabulary[i]), display(str(vocabulary[i]), forms), float(coverage[i])) for i in order]
    ranked = [item for item in ranked if reads_as_name(item[1])]
    chosen = _deduplicate(ranked, abbreviation_pairs(texts))[: n_terms * 2]
    index = phrase_runs(texts)
    return _unique([longest_phrase(shown, index) for shown in chosen])


@dataclass
class PhraseIndex:
    """The runs of words (not broken by punctuation) of some texts, their stems, and where each stem stands."""

    runs: list[tuple[int, list[str], list[str]]]
    positions: dict[str, list[tuple[int, int]]]
    n_texts: int


def phrase_runs(texts: Sequence[str]) -> PhraseIndex:
    """Index ``texts`` for :func:`longest_phrase` (each text read up to :data:`PHRASE_TEXT_CHARS`)."""
    runs = [
        (number, run, [stem(word) for word in run])
        for number, text in enumerate(texts)
        for run in segments(text[:PHRASE_TEXT_CHARS])
    ]
    positions: dict[str, list[tuple[int, int]]] = {}
    for index, (_, _, stems) in enumerate(runs):
        for start, key in enumerate(stems):
            positions.setdefault(key, []).append((index, start))
    return PhraseIndex(runs, positions, len(texts))


def longest_phrase(term: str, index: PhraseIndex, rounds: int = 3) -> str:
    """The phrase a term sits in, when at least :data:`PHRASE_SHARE` of its uses in the texts are that phrase
    and at least :data:`MIN_COVERAGE` of the texts use it ("epidermal growth" → "epidermal growth factor",
    "life" → "quality of life"); at most :data:`MAX_PHRASE_WORDS` words. At most :data:`PHRASE_USES` uses of a
    term are read (bounds the work on texts that repeat one word)."""
    for _ in range(rounds):
        words = term.split()
        size = len(words)
        keys = [stem(word) for word in words]
        extensions: Counter[tuple[str, ...]] = Counter()
        uses = 0
        users: dict[tuple[str, ...], set[int]] = {}
        for run_index, start in index.positions.get(keys[0], [])[:PHRASE_USES]:
            number, run, stems = index.runs[run_index]
            if stems[start : start + size] != keys:
                continue
            uses += 1
            for extension in _contexts(run, start, size):
                extension = tuple(plain_case(word) for word in extension)
                extensions[extension] += 1
                users.setdefault(extension, set()).add(number)
        if not uses or not extensions:
            break
        phrase, count = max(extensions.items(), key=lambda item: (item[1], item[0]))
        longer = " ".join(plain_case(word) for word in phrase)
        if (
            count < max(PHRASE_MIN_USES, PHRASE_SHARE * uses)
            or len(phrase) > MAX_PHRASE_WORDS
            or len(users[phrase]) < MIN_COVERAGE * index.n_texts
            or not reads_as_name(longer, extended=True)
        ):
            break
        term = longer
    return term


def _contexts(run: Sequence[str], start: int, size: int) -> list[tuple[str, ...]]:
    """The one-word-longer phrases around a use: a word before or after, or "X of" before ("quality of")."""
    found = []
    end = start + size
    term = tuple(run[start:end])
    if end < len(run) and run[end].lower() not in STOPWORDS:
        found.append((*term, run[end]))
    if start > 0 and run[start - 1].lower() not in STOPWORDS:
        found.append((run[start - 1], *term))
    if start > 1 and run[start - 1].lower() in LINK_WORDS and run[start - 2].lower() not in STOPWORDS:
        found.append((run[start - 2], run[start - 1], *term))
    return found


def _unique(terms: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    unique: list[str] = []
    for term in terms:
        lower = term.lower()
        if lower not in seen and not any(lower in other.lower().split(" ") for other in unique if " " in other):
            seen.add(lower)
            unique.append(term)
    return unique


def abbreviation_pairs(texts: Iterable[str]) -> list[tuple[str, frozenset[str]]]:
    """(short form's index term, long form's index terms) for each "long form (SHORT)" the texts define."""
    from abbreviations import schwartz_hearst

    pairs: dict[str, frozenset[str]] = {}
    for text in list(texts)[:ABBREVIATION_TEXTS]:
        text = _first_brackets(text[:ABBREVIATION_CHARS], ABBREVIATION_BRACKETS)
        try:
            found = schwartz_hearst.extract_abbreviation_definition_pairs(doc_text=text)
        except (ValueError, IndexError, TypeError):  # the library's own parsing on odd text
            continue
        for short, long in found.items():
            key = stem(short)
            pairs.setdefault(key, frozenset(index_terms(long)))
    return list(pairs.items())


def _first_brackets(text: str, most: int) -> str:
    """``text`` up to its ``most``-th opening bracket: the library's work grows with brackets × length."""
    position = -1
    for _ in range(most):
        position = text.find("(", position + 1)
        if position < 0:
            return text
    return text[:position]


def _deduplicate(ranked: list[tuple[str, str, float]], pairs: list[tuple[str, frozenset[str]]]) -> list[str]:
    """Ranked (index term, shown, coverage) without repeats of one idea; see the module docstring. A phrase
    takes the place of a word it contains only when it covers most of that word's papers
    (:data:`PHRASE_REPLACES`); otherwise the word already says it."""
    chosen: list[tuple[str, str, float]] = []
    for term, shown, coverage in ranked:
        if any(other == term or _contains(other, term) or _abbreviates(term, other, pairs) for other, _, _ in chosen):
            continue
        inside = [i for i, (other, _, _) in enumerate(chosen) if _contains(term, other)]
        if inside and all(coverage >= PHRASE_REPLACES * chosen[i][2] for i in inside):
            chosen[inside[0]] = (term, shown, coverage)  # at the place of the first word it contains
            chosen = [item for i, item in enumerate(chosen) if i not in inside[1:]]
        elif not inside:
            chosen.append((term, shown, coverage))
    seen: set[str] = set()
    unique = []
    for _, shown, _ in chosen:
        if shown.lower() not in seen:
            seen.add(shown.lower())
            unique.append(shown)
    return unique


def _contains(phrase: str, term: str) -> bool:
    """Whether ``term`` is a word of ``phrase`` or a part of one of its hyphenated words."""
    if phrase == term:
        return False
    words = phrase.split()
    parts = {part for word in words for part in word.split("-") if "-" in word}
    return (len(words) > 1 and term in words) or (" " not in term and term in parts)


def _abbreviates(term: str, other: str, pairs: list[tuple[str, frozenset[str]]]) -> bool:
    """Whether one term is an abbreviation the texts define and the other its long form (or a word of it)."""
    return any((term == short and other in long) or (other == short and term in long) for short, long in pairs)


def make_label(terms: Sequence[str], size: int = 3) -> str:
    """A short label: the top terms, joined; a theme with no term within the rule says so."""
    return ", ".join(terms[:size]) if terms else "(no distinctive term)"


def explains(term: str, document_frequency: int, n_documents: int) -> bool:
    """Whether a term a hit shares with its query may explain why they are related: the label rule with the
    hit as the "theme" (it uses the term: coverage 100%), so at most a third of the other papers may use it
    (lift ≥ 3), and the term must read as a name."""
    return can_explain(document_frequency, n_documents) and reads_as_name(term)


def can_explain(document_frequency: int, n_documents: int) -> bool:
    """The share half of :func:`explains`: at most a third of the other papers use the term (lift ≥ 3)."""
    return (document_frequency - 1) * MIN_LIFT <= n_documents - 1


def shown_as_written(term: str) -> str:
    """A term in consistent case: words lower-case, symbols as written."""
    return " ".join(plain_case(word) for word in term.split())


def rank_score(coverage: float, lift: float) -> float:
    """The ranking of qualifying terms (exposed for reports and tests)."""
    return coverage * math.log(min(lift, LIFT_CAP))
