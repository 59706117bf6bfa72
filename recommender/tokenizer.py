"""A tokenizer for biomedical text that keeps gene, protein and pathway symbols intact.

General tokenizers split ``IL-6`` into ``il`` and ``6`` and drop ``TGF-β``; biologists search by exactly those
symbols. Here a token is a run of letters/digits with internal hyphens (``IL-6``, ``JAK-STAT3``,
``cancer-associated``); slashes separate tokens (``IL-6/STAT3`` → ``il-6``, ``stat3``); Greek letters are
spelled out so ``TGF-β`` and ``TGF-beta`` match. Hyphenated compounds also yield their parts when every part
is a real word, so ``cancer-associated`` still matches ``cancer associated``.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise

import Stemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "ο": "omicron", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}  # fmt: skip
_GREEK_RE = re.compile("[" + "".join(_GREEK) + "]")
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2212]")
# A word: letters/digits, optionally joined by single hyphens or dots between alphanumerics (e.g. "IL-6",
# "p.R175H"), with an optional trailing "+" as in "CD8+" dropped later.
_LOCAL = threading.local()
_TOKEN = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*\+?")

STOPWORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS) | {
    "et", "al", "vs", "ie", "eg", "de", "la", "le", "der", "und",
}  # fmt: skip
# Words every abstract uses whatever its topic. They stay searchable, but never serve as a paper's key
# terms, a theme's label or an explanation of relatedness.
BOILERPLATE: frozenset[str] = frozenset(
    """
    abstract addition additionally aim aims analyses analysis analyzed approach associated background based
    clinical compared conclusion conclusions confirmed control controls critical crucial data demonstrate
    demonstrated demonstrates effect effects evaluate evaluated evidence examined factor factors finding
    findings found further furthermore group groups high higher however identified important importantly improve
    improved including increase increased indicate indicated investigate investigated involved key level levels
    low lower mechanism mechanisms mediated method methods model models moreover new notably novel objective
    observed outcome outcomes patient patients performed potential present previously purpose recent recently
    reduced related report reported respectively response result results revealed role showed shown significant
    significantly studies study suggest suggesting suggests summary taken together total treated use used using
    whereas year years
    """.split()
)


def normalize(text: str) -> str:
    """NFKC-normalise, unify dash variants and spell out Greek letters."""
    text = unicodedata.normalize("NFKC", text)
    text = _DASHES.sub("-", text)
    return _GREEK_RE.sub(lambda match: _GREEK[match.group(0).lower()], text.replace("Β", "β"))


def surface_tokens(text: str) -> list[str]:
    """Tokens in their original casing (for display), without stop-word removal or compound parts."""
    return [token.rstrip("+").strip(".") for token in _TOKEN.findall(normalize(text))]


def tokenize(
    text: str, *, stopwords: Iterable[str] | frozenset[str] = STOPWORDS, parts: bool = True, stemmed: bool = False
) -> list[str]:
    """Lower-cased tokens for lexical matching; compound parts are appended after each compound.

    With ``stemmed``, words are reduced to their Snowball stems (see :func:`stem`).
    """
    stop = stopwords if isinstance(stopwords, frozenset | set) else frozenset(stopwords)
    out: list[str] = []
    for surface in surface_tokens(text):
        token = surface.lower()
        if not token or token in stop or _is_noise(token):
            continue
        out.append(stem(surface) if stemmed else token)
        if parts and "-" in token:
            pieces = token.split("-")
            if all(len(piece) > 1 and any(ch.isalpha() for ch in piece) for piece in pieces):
                out.extend(stem(piece) if stemmed else piece for piece in pieces if piece not in stop)
    return out


@lru_cache(maxsize=1 << 18)
def stem(surface: str) -> str:
    """The matching key of a word: its Snowball (Porter 2) stem, except for symbols and acronyms.

    Stemming merges "fibroblasts/fibroblast" and "signalling/signaling" ("signal"), which BM25 needs; but a
    token with two capitals or a digit is a gene, protein or acronym (IL-6, TRIM32, AIDS, NSCLC) and is kept
    whole, losing only a plural "s" after capitals ("CAFs" → "caf").
    """
    lower = surface.lower()
    capitals = sum(ch.isupper() for ch in surface)
    if capitals >= 2 or any(ch.isdigit() for ch in surface):
        return lower[:-1] if capitals >= 2 and surface.endswith("s") and surface[-2:-1].isupper() else lower
    stemmer = _stemmer()
    return "-".join(stemmer.stemWord(piece) for piece in lower.split("-"))


def _stemmer() -> Stemmer.Stemmer:
    """One Snowball stemmer per thread (PyStemmer objects are not thread-safe)."""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = _LOCAL.stemmer = Stemmer.Stemmer("english")
    return stemmer


def segments(text: str) -> list[list[str]]:
    """Surface tokens grouped into runs not broken by punctuation (brackets, commas, full stops...).

    Words are adjacent for bigrams only within a run: "fibroblasts (CAFs)" gives no bigram, while
    "IL-6/STAT3 signalling" gives "il-6 stat3" and "stat3 signalling".
    """
    text = normalize(text)
    runs: list[list[str]] = [[]]
    end = 0
    for match in _TOKEN.finditer(text):
        gap = text[end : match.start()]
        if gap.strip(" \t/") and runs[-1]:
            runs.append([])
        runs[-1].append(match.group(0).rstrip("+").strip("."))
        end = match.end()
    return [run for run in runs if run]


def bigrams(text: str, stopwords: frozenset[str] = STOPWORDS, *, stemmed: bool = False) -> list[str]:
    """Adjacent pairs of content words ("anoikis resistance"), lower-cased (or stemmed), joined by a space."""
    pairs: list[str] = []
    for run in segments(text):
        for first, second in pairwise(run):
            a, b = first.lower(), second.lower()
            if not (a in stopwords or b in stopwords or _is_noise(a) or _is_noise(b)):
                pairs.append(f"{stem(first)} {stem(second)}" if stemmed else f"{a} {b}")
    return pairs


def index_terms(text: str) -> list[str]:
    """What the lexical index stores for a text: stemmed words (with compound parts) and adjacent-word
    bigrams, the same for documents and queries.

    Bigrams make shared phrases ("anoikis resistance", "il-6 stat3") count for more than the same words
    scattered, which matters most when comparing two whole abstracts.
    """
    return tokenize(text, stemmed=True) + bigrams(text, stemmed=True)


def spellings(text: str) -> dict[str, str]:
    """Each index term's first spelling in the text (``caf`` → ``CAFs``), for explanations."""
    forms: dict[str, str] = {}
    for surface in surface_tokens(text):
        forms.setdefault(stem(surface), surface)
        forms.setdefault(surface.lower(), surface)
        if "-" in surface:  # compound parts are indexed too ("epithelial" from "epithelial-mesenchymal")
            for part in surface.split("-"):
                if part:
                    forms.setdefault(stem(part), part)
    return forms


def common_spellings(texts: Iterable[str]) -> dict[str, str]:
    """The most common spelling of each index term, phrases included ("anoiki resist" → "anoikis resistance")
    across several texts: how a theme's label should read. Capitalised words ("Detached" at the start of a
    title) count as lower case; symbols keep their capitals."""
    counts: dict[str, Counter[str]] = {}
    for text in texts:
        for run in segments(text):
            for surface in run:
                counts.setdefault(stem(surface), Counter())[plain_case(surface)] += 1
                for part in surface.split("-") if "-" in surface else ():
                    if part:
                        counts.setdefault(stem(part), Counter())[plain_case(part)] += 1
            for first, second in pairwise(run):
                counts.setdefault(f"{stem(first)} {stem(second)}", Counter())[
                    f"{plain_case(first)} {plain_case(second)}"
                ] += 1
    return {key: counter.most_common(1)[0][0] for key, counter in counts.items()}


def plain_case(word: str) -> str:
    """A word in consistent case: lower-case unless it is a symbol or acronym ("Detached" → "detached",
    "STAT3", "CAFs", "mRNA" kept)."""
    return word.lower() if word[1:].islower() or not any(ch.isalpha() for ch in word[1:]) else word


def display(term: str, forms: dict[str, str]) -> str:
    """An index term (word or bigram) as written in the text."""
    if term in forms:
        return forms[term]
    return " ".join(forms.get(word, word) for word in term.split())


def _is_noise(token: str) -> bool:
    """Single characters and bare numbers carry no topical signal on their own."""
    return len(token) < 2 or token.replace(".", "").isdigit()


#: Recorded in manifests: a lexical index built with another tokenizer version must be rebuilt.
TOKENIZER_VERSION = "bio-3"
#: Boilerplate as index terms (stemmed), for leaving it out of key terms and explanations.
BOILERPLATE_TERMS: frozenset[str] = frozenset(stem(word) for word in BOILERPLATE)
