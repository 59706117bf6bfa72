"""Ingest throughput per input format, on generated records, beside a bare-parsing baseline.

For each format (JSONL, CSV, PubMed XML, MEDLINE, RIS, BibTeX) the script writes N generated records
(synthetic text, made up here), then measures
(1) a bare parse of the same file (the baseline: ``json.loads`` per line, ``csv`` rows, lxml ``iterparse``,
    splitting on record separators),
(2) our reader (``read_paths``: detection, parsing, field mapping, normalisation, ids) and its peak Python
    memory (tracemalloc) — flat for the streaming formats whatever N is,
(3) a full ``Recommender.ingest`` into a fresh SQLite store (reader + duplicate check + one transaction).
It prints records/second for each, the reader's cost relative to the baseline, and the file size.

    .venv/bin/python scripts/bench_ingest.py --records 100000 --formats jsonl,pubmed_xml
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from recommender.ingest import read_paths
from recommender.service import Recommender
from recommender.settings import Settings

WORDS = (
    "anoikis resistance metastasis fibroblast IL-6 STAT3 signalling hypoxia HIF-1alpha glycolysis tumour "
    "cells detached matrix survival kinase inhibitor therapy exhaustion PD-1 CD8+ lactate angiogenesis"
).split()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "id": f"gen-{i}",
            "title": sentence(rng, 10),
            "abstract": " ".join(sentence(rng, 18) for _ in range(10)),
            "doi": f"10.5555/gen.{i}",
            "year": 1990 + i % 35,
            "journal": "Generated Journal",
            "authors": ["Ann Smith", "Bo Chen"],
        }
        for i in range(n)
    ]


def write_jsonl(path: Path, items: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item) + "\n")


def write_csv(path: Path, items: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(items[0]))
        writer.writeheader()
        for item in items:
            writer.writerow({**item, "authors": "; ".join(item["authors"])})


def write_pubmed_xml(path: Path, items: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0"?>\n<PubmedArticleSet>\n')
        for i, item in enumerate(items):
            handle.write(
                f"<PubmedArticle><MedlineCitation><PMID>{i + 1}</PMID><Article><Journal><JournalIssue><PubDate>"
                f"<Year>{item['year']}</Year></PubDate></JournalIssue><Title>{item['journal']}</Title></Journal>"
                f"<ArticleTitle>{escape(item['title'])}</ArticleTitle><Abstract><AbstractText>"
                f"{escape(item['abstract'])}</AbstractText></Abstract><AuthorList><Author><LastName>Smith</LastName>"
                f"<ForeName>Ann</ForeName></Author></AuthorList></Article></MedlineCitation><PubmedData>"
                f'<ArticleIdList><ArticleId IdType="doi">{item["doi"]}</ArticleId></ArticleIdList></PubmedData>'
                "</PubmedArticle>\n"
            )
        handle.write("</PubmedArticleSet>\n")


def write_medline(path: Path, items: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i, item in enumerate(items):
            handle.write(
                f"PMID- {i + 1}\nTI  - {item['title']}\nAB  - {item['abstract']}\nFAU - Smith, Ann\n"
                f"DP  - {item['year']}\nJT  - {item['journal']}\nLID - {item['doi']} [doi]\n\n"
            )


def write_ris(path: Path, items: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(
                f"TY  - JOUR\nTI  - {item['title']}\nAB  - {item['abstract']}\nAU  - Smith, Ann\n"
                f"PY  - {item['year']}\nJO  - {item['journal']}\nDO  - {item['doi']}\nER  - \n\n"
            )


def write_bibtex(path: Path, items: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i, item in enumerate(items):
            handle.write(
                f"@article{{key{i},\n  title = {{{item['title']}}},\n  abstract = {{{item['abstract']}}},\n"
                f"  author = {{Smith, Ann}},\n  year = {{{item['year']}}},\n  journal = {{{item['journal']}}},\n"
                f"  doi = {{{item['doi']}}}\n}}\n\n"
            )


WRITERS: dict[str, tuple[str, Callable[[Path, list[dict]], None]]] = {
    "jsonl": ("corpus.jsonl", write_jsonl),
    "csv": ("corpus.csv", write_csv),
    "pubmed_xml": ("pubmed.xml", write_pubmed_xml),
    "medline": ("export.nbib", write_medline),
    "ris": ("library.ris", write_ris),
    "bibtex": ("library.bib", write_bibtex),
}


def baseline(kind: str, path: Path) -> int:
    """Records counted by the plainest possible parse of the same file."""
    if kind == "pubmed_xml":
        count = 0
        for _, element in etree.iterparse(str(path), tag="PubmedArticle"):
            count += 1
            element.clear()
        return count
    with path.open(encoding="utf-8", newline="") as handle:
        if kind == "jsonl":
            return sum(1 for line in handle if json.loads(line))
        if kind == "csv":
            return sum(1 for _ in csv.DictReader(handle))
        marker = {"medline": "PMID- ", "ris": "TY  - ", "bibtex": "@article{"}[kind]
        return sum(1 for line in handle if line.startswith(marker))


def reader_memory(path: Path) -> tuple[int, int]:
    """Records read by our reader, and the peak traced Python memory while reading (a separate, slower pass)."""
    tracemalloc.start()
    count = sum(1 for _ in read_paths([path]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return count, peak


def timed(action: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    count = action()
    return count, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--formats", default=",".join(WRITERS), help="comma-separated subset of the formats")
    parser.add_argument("--no-store", action="store_true", help="skip the full ingest into SQLite")
    args = parser.parse_args()
    items = records(args.records)
    print(f"{args.records:,} generated records per format")
    print(
        f"{'format':<11} {'MB':>6} {'baseline rec/s':>15} {'reader rec/s':>13} {'reader/baseline':>16} "
        f"{'reader peak MB':>15} {'ingest rec/s':>13}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in args.formats.split(","):
            name, writer = WRITERS[kind]
            path = folder / name
            writer(path, items)
            n_base, t_base = timed(lambda path=path, kind=kind: baseline(kind, path))
            n_read, t_read = timed(lambda path=path: sum(1 for _ in read_paths([path])))
            _, peak = reader_memory(path)
            ingest_rate = "-"
            if not args.no_store:
                service = Recommender(Settings(index_dir=folder / "indexes", index_name=kind, show_progress=False))
                n_ingest, t_ingest = timed(lambda path=path, service=service: service.ingest([path]).read)
                assert n_ingest == args.records, (kind, n_ingest)
                ingest_rate = f"{n_ingest / t_ingest:,.0f}"
            assert n_base == n_read == args.records, (kind, n_base, n_read)
            print(
                f"{kind:<11} {path.stat().st_size / 1e6:>6.1f} {n_base / t_base:>15,.0f} {n_read / t_read:>13,.0f} "
                f"{t_read / t_base:>15.1f}x {peak / 1e6:>15.1f} {ingest_rate:>13}",
                flush=True,
            )


if __name__ == "__main__":
    main()
