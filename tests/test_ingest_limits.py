"""Ingest stays linear in time and bounded in memory on hostile input (the attacks of the security review).

Every attack runs in a child Python process with a timeout, so code that backtracks exponentially fails the
test by timing out instead of hanging the suite, and memory is measured in a process of its own.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PRELUDE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def run_child(code: str, timeout: float) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    script = _PRELUDE.format(root=str(ROOT)) + textwrap.dedent(code)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"took more than {timeout} s")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- regex backtracking


def test_an_author_followed_by_many_footnote_numbers_parses_at_once():
    # A run of digits was split in every possible way: 29 digits took 45 s, and each one more doubled it.
    result = run_child(
        """
        from recommender.ingest.text_page import parse_author_line, parse_text_page
        started = time.perf_counter()
        names = parse_author_line("Maria Ruiz" + "1" * 40 + " x")
        parse_author_line("Maria Ruiz" + " 12" * 40 + " x")
        parse_text_page("Title of the paper here\\n" + "Maria Ruiz" + " 12" * 40 + " x\\n" + "Word. " * 80)
        print(json.dumps({"seconds": time.perf_counter() - started, "names": names}))
        """,
        timeout=10,
    )
    assert result["seconds"] < 2
    assert result["names"] is None  # one name and a stray word: not an author list


def test_footnote_numbers_are_still_removed_from_author_names():
    from recommender.ingest.text_page import parse_author_line

    assert parse_author_line("Ana Ruiz 1 2, Bo Chen 3 and Cy Diaz 4") == ["Ana Ruiz", "Bo Chen", "Cy Diaz"]
    assert parse_author_line("Ana Ruiz1,2*, Bo Chen† et al.") == ["Ana Ruiz", "Bo Chen"]


def test_a_60kb_volume_issue_line_is_read_at_once():
    # "\\S+\\s*," retried the year scan at every comma: 8.8 s for 60 KB.
    result = run_child(
        """
        from recommender.ingest.text_page import VOLUME_ISSUE, parse_text_page
        line = "Vol 1, issue " + "1," * 30000
        started = time.perf_counter()
        VOLUME_ISSUE.match(line)
        VOLUME_ISSUE.match("Vol 1, issue 2, " + " " * 60000 + "x")
        parse_text_page("Journal of Things\\n" + line + "\\n" + "Word. " * 80)
        print(json.dumps({"seconds": time.perf_counter() - started}))
        """,
        timeout=15,
    )
    assert result["seconds"] < 2


def test_volume_issue_lines_still_give_the_year():
    from recommender.ingest.text_page import VOLUME_ISSUE, parse_text_page

    assert VOLUME_ISSUE.match("Volume 12, Issue 3, March 2021, Pages 1-9")["date"].endswith("2021")
    abstract = "We measured things in patients and found effects that matter. " * 4
    page = parse_text_page(f"Cell Reports\nVolume 12, Issue 3, 2021, 110\n\nAbstract\n{abstract}")
    assert page.year == 2021


# Hostile lines: each is a long run of a piece the page patterns are built from.
HOSTILE = {
    "digits after a name": lambda n: "Maria Ruiz" + "1" * n + " x",
    "issue numbers": lambda n: "Vol 1, issue " + "1," * (n // 2),
    "spaces in a volume line": lambda n: "Vol 1, issue 2, " + " " * n + "x",
    "volume digits": lambda n: "Journal of Medicine vol 1" + "1" * n,
    "commas": lambda n: "Smith" + ", " * (n // 2) + "x",
    "et al": lambda n: "Ab et al. " * (n // 10) + "x",
    "dots": lambda n: "A." * (n // 2) + "x",
    "digits": lambda n: "1" * n,
    "DOI-ish": lambda n: "doi: 10.1234/" * (n // 13),
    "DOI punctuation": lambda n: "10.1234/x" + ")" * n,
    "markup": lambda n: "<p " * (n // 3),
    "footnote marks": lambda n: "Ana Ruiz" + "1 *" * (n // 3) + "x, Bo Chen",
    "dates": lambda n: "Journal, " + "2020 jan 1 " * (n // 11),
    "published": lambda n: "published " * (n // 10) + "x",
}


@pytest.mark.parametrize("sizes", [(450, 1800), (6000, 24000)], ids=["under the line cap", "over the line cap"])
def test_reading_a_page_grows_linearly_with_hostile_lines(sizes):
    """Parse time at 4x the size grows < 12x (quadratic would be 16x, exponential never ends)."""
    result = run_child(
        f"""
        from recommender.ingest.page import parse_page
        from recommender.paper import normalize_doi
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from test_ingest_limits import HOSTILE

        def cost(make, size):
            line = make(size)
            page = "A title for the hostile page\\n" + "\\n".join([line] * 5) + "\\n" + "Word. " * 60
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                parse_page(page)
                normalize_doi(line)
                best = min(best, time.perf_counter() - started)
            return best

        small, large = {sizes}
        ratios = {{}}
        for name, make in HOSTILE.items():
            low, high = cost(make, small), cost(make, large)
            ratios[name] = [low, high, high / max(low, 2e-4)]
        print(json.dumps(ratios))
        """,
        timeout=60,
    )
    slow = {name: value for name, value in result.items() if value[2] >= 12 and value[1] > 0.005}
    assert not slow, slow


def test_an_html_page_with_a_long_run_of_spaces_is_read_at_once():
    result = run_child(
        """
        from recommender.ingest.page import parse_page
        html = "<html><body><p>Title</p><div>" + " " * 400000 + "x</div>" + "<p>\\n" * 3000 + "</body></html>"
        started = time.perf_counter()
        parse_page(html)
        print(json.dumps({"seconds": time.perf_counter() - started}))
        """,
        timeout=30,
    )
    assert result["seconds"] < 5


# ----------------------------------------------------------------------------- bounded inputs


def _multi_member_gzip(path: Path, head: bytes, chunk: bytes, repeats: int, tail: bytes = b"") -> Path:
    """A gzip file that decompresses to ``head + chunk * repeats + tail``, built from one compressed chunk."""
    member = gzip.compress(chunk)
    with path.open("wb") as out:
        out.write(gzip.compress(head))
        for _ in range(repeats):
            out.write(member)
        out.write(gzip.compress(tail))
    return path


_READ_ALL = """
from recommender.ingest import Rejected, read_paths
from recommender.ingest import detect
{setup}
before = rss_mb()
count, reasons = 0, []
for _, position, item in read_paths([{path!r}]):
    count += 1
    if isinstance(item, Rejected) and item.reason != "no abstract" and len(reasons) < 20:
        reasons.append(item.reason)
print(json.dumps({{"count": count, "reasons": reasons, "growth_mb": rss_mb() - before}}))
"""


def _read_all(path: Path, setup: str = "", timeout: float = 30) -> dict:
    return run_child(_READ_ALL.format(path=str(path), setup=setup), timeout=timeout)


def test_a_gzip_bomb_of_empty_records_stops_at_the_decompression_limit(tmp_path):
    # 5,242,880 lines of "{}" in 15 KB: with the limit lowered to 1 MB the reader stops after 1 MB of them.
    path = _multi_member_gzip(tmp_path / "bomb.jsonl.gz", b"", b"{}\n" * 1048576, 5)
    assert path.stat().st_size < 100_000
    result = _read_all(path, setup="detect.MAX_DECOMPRESSED_BYTES = 1024 * 1024")
    assert result["reasons"] == [
        "gzip file decompresses to more than 1 MB (the limit for one file); split it into smaller files"
    ]
    assert result["count"] < 400_000
    assert result["growth_mb"] < 200


def test_a_gzip_bomb_of_one_endless_line_is_rejected_at_the_default_limit(tmp_path):
    first = b'{"title": "T", "abstract": "An abstract long enough to be one."}\n{"abstract": "'
    path = _multi_member_gzip(tmp_path / "line.jsonl.gz", first, b" " * 4 * 1024 * 1024, 70)
    result = _read_all(path, timeout=60)
    assert result["reasons"] == [
        "line longer than 64 MB",
        "gzip file decompresses to more than 256 MB (the limit for one file); split it into smaller files",
    ]
    assert result["growth_mb"] < 200


def test_a_json_array_of_a_gigabyte_of_spaces_is_rejected_without_reading_it(tmp_path):
    # "[" and 1 GB of spaces in a 1 MB gzip: the sniffer used to read and parse all of it (2 GB). A document
    # over 20 MB is streamed item by item now, and blanks count towards the 20 MB an item may take.
    path = _multi_member_gzip(tmp_path / "spaces.json.gz", b"[", b" " * 1024 * 1024, 1024, b"]")
    assert path.stat().st_size < 2_000_000
    result = _read_all(path)
    assert result["reasons"] == ["JSON record (item 1) larger than 20 MB; 0 records read before it"]
    assert result["growth_mb"] < 200


def test_a_small_json_document_is_still_read(tmp_path):
    from recommender.ingest import Rejected, read_paths

    abstract = "An abstract that is long enough to be one. " * 3
    path = tmp_path / "papers.json"
    path.write_text(json.dumps([{"title": "T", "abstract": abstract}, {"title": "U", "abstract": abstract + "x"}]))
    items = [item for _, _, item in read_paths([path])]
    assert len(items) == 2 and not any(isinstance(item, Rejected) for item in items)


def test_a_30mb_abstract_is_rejected_naming_the_field(tmp_path):
    record = {"title": "Big", "abstract": "word " * 6_000_000}
    good = {"title": "Small", "abstract": "A normal abstract of a normal paper, long enough to count."}
    path = tmp_path / "big.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(record) + "\n" + json.dumps(good) + "\n").encode(), 6))
    assert path.stat().st_size < 200_000
    result = run_child(
        f"""
        from recommender.ingest import Rejected, read_paths
        items = [item for _, _, item in read_paths([{str(path)!r}])]
        print(json.dumps([item.reason if isinstance(item, Rejected) else item.title for item in items]))
        """,
        timeout=30,
    )
    assert result == ["abstract too long: 29,999,999 characters (at most 100,000)", "Small"]


def test_field_limits_name_the_field(tmp_path):
    from recommender.ingest.records import RawRecord, Rejected, to_paper

    abstract = "A normal abstract."
    title = to_paper(RawRecord({"title": "t" * 2001, "abstract": abstract}), "x")
    assert isinstance(title, Rejected) and title.reason == "title too long: 2,001 characters (at most 2,000)"
    author = to_paper(RawRecord({"abstract": abstract, "authors": ["a" * 1001]}), "x")
    assert isinstance(author, Rejected) and author.reason.startswith("authors item too long")
    assert not isinstance(to_paper(RawRecord({"title": "t" * 2000, "abstract": "a" * 100_000}), "x"), Rejected)


@pytest.mark.parametrize("depth", [60, 400, 3000])
def test_bibtex_latex_nested_past_the_stack_is_kept_as_text(tmp_path, depth):
    """pylatexenc recurses per group: deep nesting (hypothesis found one) must not crash the reader."""
    from recommender.ingest import Rejected, read_paths

    title = "\\emph" + "{" * depth + "Anoikis resistance" + "}" * depth
    path = tmp_path / "deep.bib"
    path.write_text(f"@article{{k, title = {{{title}}}, abstract = {{Detached cells resist anoikis.}}}}\n")
    [(_, _, paper)] = list(read_paths([path]))
    assert not isinstance(paper, Rejected) and "Anoikis resistance" in paper.title
