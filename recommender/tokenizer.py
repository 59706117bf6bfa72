"""A tokenizer for biomedical text that keeps gene, protein and pathway symbols as biologists write them.

General tokenizers split ``IL-6`` into ``il`` and ``6`` and drop ``TGF-β``; biologists search by exactly those
symbols. Here a token is a run of letters/digits with internal hyphens (``IL-6``, ``JAK-STAT3``,
``cancer-associated``); slashes separate tokens (``IL-6/STAT3`` → ``IL-6``, ``STAT3``), and a slash or range
that abbreviates a family expands (``BRCA1/2`` → BRCA1, BRCA2; ``MMP-2/-9``; ``IL-1α/β``; ``miR-200a/b``;
``TLR7–9`` with an en dash). A prefix in front of a symbol is split off (``anti-PD-1`` → ``PD-1``).

A symbol (a token with a digit or two capitals) is matched by one key whatever its spelling: lower case,
Greek letters as their Latin initial, ``interleukin``/``interferon`` as ``IL``/``IFN``, hyphens removed — so
``PD-L1`` = ``PDL1``, ``IL-6`` = ``IL6`` = ``interleukin-6``, ``TGF-β`` = ``TGF-beta`` = ``TGFB`` and
``NF-κB`` = ``NF-kB``. Its parts are indexed only when they are meaningful on their own: a symbol before a
modifier word (``STAT3-dependent`` → STAT3, dependent) and the members of a pathway written with hyphens
(``JAK-STAT3`` → JAK, STAT3), never fragments such as ``pd``, ``l1``, ``tgf`` or ``k48``. Hyphenated
words yield their word parts, so ``cancer-associated`` still matches ``cancer associated``.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from itertools import pairwise

import Stemmer

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
#: Greek letter names that abbreviate to their initial inside a symbol key (TGF-beta = TGFB, NF-kappaB = NF-kB).
#: Short names (eta, mu, pi, xi...) are left alone: they occur inside ordinary symbols (PI3K, MUC1).
_SYMBOL_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "kappa", "lambda", "sigma", "theta", "omega", "zeta")
_SYMBOL_GREEK_RE = re.compile("|".join(_SYMBOL_GREEK))
#: Long names with a regular symbol: interleukin-6 = IL-6, interferon-gamma = IFN-gamma.
LONG_NAMES = {"interleukin": "il", "interferon": "ifn"}
_NAME_WORDS = tuple(LONG_NAMES)
_LONG_NAME_SPACED = re.compile(r"\b(interleukin|interferon)[ ]?(\d{1,3}[a-z]?|alpha|beta|gamma)\b", re.IGNORECASE)
#: A token, with slash tails that abbreviate a family ("BRCA1/2", "MMP-2/-9", "IL-1alpha/beta", "miR-200a/b").
#: Every repetition consumes a separator, so matching stays linear in the text.
_TOKEN = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*(?:/-?(?:alpha|beta|gamma|delta|kappa|\d+[a-z]?|[a-z])(?![^\W_]))*\+?")
#: A range of family members, written with an en dash as ranges are typeset ("TLR2–4", "CXCL1–3"). A hyphen
#: is not a range: NKX2-5 and MT1-MMP are genes.
_RANGE = re.compile(r"\b([A-Za-z][A-Za-z0-9]*?[A-Za-z])(\d{1,3})\u2013(\d{1,3})\b")
#: Prefixes split off the symbol they modify (anti-PD-1 is about PD-1).
_PREFIXES = ("anti", "pro", "non", "pre", "post", "pan")
_LOWER = "abcdefghijklmnopqrstuvwxyz"


def _glasgow_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words (the Glasgow IR group's list), read from its source file without
    importing scikit-learn: that import costs 2-3 s, and every CLI call tokenizes (a query, a paper)."""
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        try:
            source = open(f"{folder}/feature_extraction/_stop_words.py", encoding="utf-8").read()  # noqa: SIM115
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "frozenset" and node.args:
                    return frozenset(ast.literal_eval(node.args[0]))
        except (OSError, SyntaxError, ValueError):
            break
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # the file moved: the slow, sure way

    return frozenset(ENGLISH_STOP_WORDS)


STOPWORDS: frozenset[str] = _glasgow_stop_words() | {
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
    """NFKC-normalise, expand en-dash ranges, unify dash variants, spell out Greek letters and hyphenate
    "interleukin 6"."""
    text = unicodedata.normalize("NFKC", text)
    if "\u2013" in text:
        text = _RANGE.sub(_expand_range, text)
    text = _DASHES.sub("-", text)
    text = _GREEK_RE.sub(lambda match: _GREEK[match.group(0).lower()], text.replace("Β", "β"))
    return _LONG_NAME_SPACED.sub(r"\1-\2", text)


def surface_tokens(text: str) -> list[str]:
    """Tokens in their original casing (for display), without stop-word removal or compound parts; family
    abbreviations expanded and prefixes split off symbols."""
    out: list[str] = []
    for token in _TOKEN.findall(normalize(text)):
        if "-" in token or "/" in token or token.endswith("+"):
            out.extend(expand(token))
        else:
            out.append(token)
    return out


def word_spans(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """Each token of the text as written (start, end) with the words it stands for, for marking terms in
    the original text. ASCII text normalises to the same length, so it is normalised once; otherwise (Greek
    letters, ligatures) each token is normalised on its own, so the offsets stay the text's."""
    for start, end, token in token_spans(text):
        yield start, end, expand(token) if is_compound(token) else [token]


def token_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Each token of the text (start, end, normalised token) before expansion (:func:`word_spans`): what
    a caller looking for a few words tests cheaply, expanding only compounds (:func:`is_compound`)."""
    if text.isascii():
        for match in _TOKEN.finditer(normalize(text)):
            yield match.start(), match.end(), match.group(0)
        return
    for match in _TOKEN.finditer(text):
        yield match.start(), match.end(), normalize(match.group(0))


def is_compound(token: str) -> bool:
    """Whether a token stands for other words than itself (hyphens, slash tails, a trailing "+"):
    :func:`expand` is needed."""
    return "-" in token or "/" in token or token.endswith("+")


def is_symbol(surface: str) -> bool:
    """A gene, protein or other symbol: a digit or two capitals (IL-6, TRIM32, NSCLC, miR-21), or a long name
    with a regular symbol (interleukin-6, interferon-gamma)."""
    if any(ch.isdigit() for ch in surface) or sum(ch.isupper() for ch in surface) >= 2:
        return True
    head = surface.split("-", 1)[0].lower()
    return head in LONG_NAMES and "-" in surface


def expand(token: str) -> list[str]:
    """One matched token as the words it stands for: "BRCA1/2" → BRCA1, BRCA2; "anti-PD-1" → PD-1; a trailing
    "+" (CD8+) dropped."""
    token = token.rstrip("+").strip(".")
    if "-" not in token and "/" not in token:
        return [token] if token else []
    first, *tails = token.split("/")
    words = [first]
    for tail in tails:
        words.append(_sibling(first, tail.lstrip("-")) or tail)
    return [word for word in map(_unprefixed, words) if word]


def _sibling(first: str, tail: str) -> str | None:
    """The family member a slash tail abbreviates, sharing ``first``'s stem: "BRCA1" + "2" → BRCA2, "MMP-2" +
    "9" → MMP-9, "miR-199a-5p" + "3p" → miR-199a-3p, "miR-200a" + "b" → miR-200b, "IL-1alpha" + "beta" →
    IL-1beta. ``None`` when the tail abbreviates nothing ("phase 1/2")."""
    if tail[:1].isdigit():
        body = first.rstrip(_LOWER) if tail[-1].isalpha() else first
        base = body.rstrip("0123456789")
        return base + tail if base != body and any(ch.isalpha() for ch in base) else None
    if len(tail) == 1:
        return first[:-1] + tail if len(first) >= 2 and first[-2].isdigit() and first[-1].isalpha() else None
    for name in _SYMBOL_GREEK:
        if first.endswith(name) and len(first) > len(name):
            return first[: -len(name)] + tail
    return None


def _expand_range(match: re.Match[str]) -> str:
    """ "TLR2–4" → "TLR2/TLR3/TLR4" (family members side by side); other number pairs left as written."""
    base, low, high = match.group(1), int(match.group(2)), int(match.group(3))
    if sum(ch.isupper() for ch in base) < 2 or not low < high <= low + 9:
        return match.group(0)
    return "/".join(f"{base}{number}" for number in range(low, high + 1))


def _unprefixed(word: str) -> str:
    """ "anti-PD-1" → "PD-1": a prefix is split off when what follows is a symbol."""
    prefix, dash, rest = word.partition("-")
    if dash and prefix.lower() in _PREFIXES and is_symbol(rest):
        return rest
    return word


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
            out.extend(
                stem(part) if stemmed else part.lower() for part in compound_parts(surface) if part.lower() not in stop
            )
    return out


def compound_parts(surface: str) -> list[str]:
    """The meaningful parts of a hyphenated token, indexed beside the whole.

    Word compounds give their words of three letters or more (``cancer-associated`` → cancer, associated;
    ``T-cell`` → cell). A symbol gives the words that modify it and itself (``STAT3-dependent`` → STAT3,
    dependent; ``IL-6-induced`` → IL-6, induced), and a pathway written with hyphens gives its members when
    each is a symbol on its own (``JAK-STAT3``, ``BRAF-V600E``, ``PI3K-AKT-mTOR``). Fragments are never
    parts: ``PD-L1``, ``TGF-beta``, ``NF-kappaB``, ``HIF-1alpha``, ``SARS-CoV-2`` stay whole, ``K48-linked``
    gives only "linked".
    """
    pieces = surface.split("-")
    if not is_symbol(surface):
        return [piece for piece in pieces if len(piece) >= 3 and piece.isalpha()]
    modifiers: list[str] = []
    while len(pieces) > 1 and _is_modifier(pieces[-1]):
        modifiers.insert(0, pieces.pop())
    while len(pieces) > 1 and _is_modifier(pieces[0]):
        modifiers.append(pieces.pop(0))
    out: list[str] = []
    if len(pieces) > 1 and all(_is_member(piece) for piece in pieces):
        out.extend(pieces)
    elif modifiers and (len(pieces) > 1 or _is_member(pieces[0]) or _is_protein(pieces[0])):
        out.append("-".join(pieces))
    return out + modifiers


def _is_modifier(piece: str) -> bool:
    """A lower-case word attached to a symbol ("dependent", "induced", "positive"), not a Greek letter."""
    return len(piece) >= 3 and piece.isalpha() and piece.islower() and piece not in _SYMBOL_GREEK + _NAME_WORDS


def _is_member(piece: str) -> bool:
    """A piece that is a symbol on its own: three characters or more, two letters or more, starting with a
    letter, not a Greek letter (STAT3, JAK, V600E; not PD, L1, K48, 1alpha, beta)."""
    return (
        len(piece) >= 3
        and piece[0].isalpha()
        and sum(ch.isalpha() for ch in piece) >= 2
        and not piece.lower().startswith(_SYMBOL_GREEK)
        and (is_symbol(piece) or piece.isupper())
    )


def _is_protein(piece: str) -> bool:
    """p53, p21, p16: a lower-case p and a number names a protein (a capital and a number, K48, a residue)."""
    return len(piece) >= 2 and piece[0] == "p" and piece[1:].isdigit()


@lru_cache(maxsize=1 << 18)
def stem(surface: str) -> str:
    """The matching key of a word: its Snowball (Porter 2) stem, except for symbols and acronyms.

    Stemming merges "fibroblasts/fibroblast" and "signalling/signaling" ("signal"), which BM25 needs; but a
    token with two capitals or a digit is a gene, protein or acronym (IL-6, TRIM32, AIDS, NSCLC) and is kept
    whole, losing only a plural "s" after capitals ("CAFs" → "caf"). Cached: explaining a hit stems the
    same few thousand words again and again.
    """
    lower = surface.lower()
    if is_symbol(surface):
        return symbol_key(surface)
    stemmer = _stemmer()
    return "-".join(stemmer.stemWord(piece) for piece in lower.split("-"))


@lru_cache(maxsize=1 << 16)
def symbol_key(surface: str) -> str:
    """The spelling-free key of a symbol: lower case, a plural "s" after capitals dropped (CAFs = CAF),
    interleukin/interferon as il/ifn, Greek letter names as their initial, hyphens removed (PD-L1 = PDL1,
    IL-6 = IL6 = interleukin-6, TGF-beta = TGFB, NF-kappaB = NF-kB)."""
    capitals = sum(ch.isupper() for ch in surface)
    key = surface[:-1] if capitals >= 2 and surface.endswith("s") and surface[-2:-1].isupper() else surface
    key = key.lower()
    head, dash, rest = key.partition("-")
    if dash and head in LONG_NAMES:
        key = LONG_NAMES[head] + "-" + rest
    key = _SYMBOL_GREEK_RE.sub(lambda match: match.group(0)[0], key)
    return key.replace("-", "")


def _stemmer() -> Stemmer.Stemmer:
    """One Snowball stemmer per thread (PyStemmer objects are not thread-safe)."""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = _LOCAL.stemmer = Stemmer.Stemmer("english")
    return stemmer


def segments(text: str) -> list[list[str]]:
    """Surface tokens grouped into runs not broken by punctuation (brackets, commas, full stops...).

    Words are adjacent for bigrams only within a run: "fibroblasts (CAFs)" gives no bigram, while
    "IL-6/STAT3 signalling" gives "IL-6 STAT3" and "STAT3 signalling".
    """
    text = normalize(text)
    runs: list[list[str]] = [[]]
    end = 0
    for match in _TOKEN.finditer(text):
        gap = text[end : match.start()]
        if gap.strip(" \t/") and runs[-1]:
            runs.append([])
        token = match.group(0)
        if "-" in token or "/" in token or token.endswith("+"):
            runs[-1].extend(expand(token))
        else:
            runs[-1].append(token)
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


def display(term: str, forms: Mapping[str, str]) -> str:
    """An index term (word or bigram) as written in the text (a bigram word by word: forms hold words)."""
    return " ".join(forms.get(word, word) for word in term.split()) if " " in term else forms.get(term, term)


def _is_noise(token: str) -> bool:
    """Single characters and bare numbers carry no topical signal on their own."""
    return len(token) < 2 or token.replace(".", "").isdigit()


#: Recorded in manifests: a lexical index built with another tokenizer version must be rebuilt.
TOKENIZER_VERSION = "bio-4"
#: Boilerplate as index terms (stemmed), for leaving it out of key terms and explanations.
BOILERPLATE_TERMS: frozenset[str] = frozenset(stem(word) for word in BOILERPLATE)
