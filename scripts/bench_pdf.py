"""PDF ingest: speed on 100 generated PDFs, and how pypdf compares with pdfminer.six on the same files.

The PDFs are the test layouts of tests/pdf_pages.py (one-column, two-column, preprint, boxed; made-up articles),
printed by Debian's chromium, 100 of them (the five articles × four layouts, five times over with the article
numbered, so no two files are alike). Measured in one run:

- ``recommender ingest``'s reader (pypdf) on all 100: seconds, and how many have the right title, abstract
  start and end;
- the same text rules fed by pdfminer.six's layout text instead (when pdfminer.six is installed; it is not a
  dependency): right abstracts and seconds, to compare the two libraries' text on identical files.

    .venv/bin/python scripts/bench_pdf.py [--count 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pdf_pages import ARTICLES, LAYOUTS, Article, article_html, pdf_printer

from recommender.ingest import read_paths
from recommender.ingest.text_page import parse_text_page
from recommender.paper import Paper


def right(article: Article, title: str | None, abstract: str | None) -> tuple[bool, bool]:
    label, text = article.abstract[0]
    start = f"{label}: {text[:40]}" if label else text[:40]
    abstract = abstract or ""
    good_abstract = abstract.startswith(start) and abstract.endswith(article.abstract[-1][1][-40:])
    return (title or "").rstrip(".") == article.title, good_abstract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made: list[tuple[Article, Path]] = []
        with pdf_printer() as print_pdf:
            for number in range(args.count):
                base = ARTICLES[number % len(ARTICLES)]
                article = replace(base, title=f"{base.title} (study {number})" if number >= 20 else base.title)
                layout = LAYOUTS[(number // len(ARTICLES)) % len(LAYOUTS)]
                made.append((article, print_pdf(article_html(article, layout), folder / f"{number:03d}.pdf")))
        start = time.perf_counter()
        papers = [item for _, _, item in read_paths([path for _, path in made])]
        seconds = time.perf_counter() - start
        titles = abstracts = 0
        for (article, _), paper in zip(made, papers, strict=True):
            if isinstance(paper, Paper):
                good_title, good_abstract = right(article, paper.title, paper.abstract)
                titles += good_title
                abstracts += good_abstract
        print(f"pypdf (the reader): {len(made)} PDFs in {seconds:.1f} s ({seconds / len(made) * 1000:.0f} ms each); "
              f"title right {titles}, abstract right {abstracts}")  # fmt: skip
        try:
            from pdfminer.high_level import extract_text
        except ImportError:
            print("pdfminer.six: not installed (pip install pdfminer.six to compare)")
            return
        start = time.perf_counter()
        good = 0
        for article, path in made:
            fields = parse_text_page(extract_text(str(path), maxpages=3))
            good += right(article, None, fields.abstract)[1]
        seconds = time.perf_counter() - start
        print(f"pdfminer.six text through the same rules: {seconds:.1f} s; abstract right {good} of {len(made)}")


if __name__ == "__main__":
    main()
