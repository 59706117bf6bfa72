"""Export time per format for N generated papers (synthetic text, made up here), written to a real file.

The papers look like real ones in size (a 1,300-character abstract, three authors with a particle and Greek
letters, keywords, MeSH terms, a label, a theme tag for every tenth) and include characters each format
has to escape. Prints seconds and papers/second per format, and the file size; the target is well under 5 s
for 20,000 papers in every format.

    .venv/bin/python scripts/bench_export.py --papers 20000 --formats ris,bibtex
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from recommender.export import FORMATS, export_papers, file_extension
from recommender.paper import Paper


def generated(count: int) -> list[Paper]:
    abstract = "Background: " + "Sentence about cells, tissues & 50% of {signalling} in α-synuclein models. " * 17
    return [
        Paper(
            id=f"doi:10.5555/bench.{number}",
            title=f"Generated paper {number} on α-synuclein {{aggregation}} & 50% noise -- a_b",
            abstract=abstract,
            doi=f"10.5555/bench.{number}",
            pmid=str(30_000_000 + number),
            journal="Journal of Benchmarks",
            year=2000 + number % 25,
            authors=["Jan van der Berg", "Ada Lovelace", "Σωκράτης Παπαδόπουλος"],
            keywords=["benchmark", "export", "Neoplasms, Experimental"],
            mesh_terms=["Humans", "Animals"],
            labels=[f"label {number % 7}"],
        )
        for number in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--repeat", type=int, default=3, help="runs per format; the fastest is reported")
    args = parser.parse_args()
    papers = generated(args.papers)
    tags = {paper.id: [f"Theme {number % 12}"] for number, paper in enumerate(papers) if number % 10 == 0}
    print(f"{args.papers:,} papers")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in args.formats.split(","):
            path = Path(folder) / f"export{file_extension(fmt)}"
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                with path.open("w", encoding="utf-8", newline="") as out:
                    count = export_papers(iter(papers), fmt, out, tags=tags)
                best = min(best, time.perf_counter() - start)
            size = path.stat().st_size / 1024 / 1024
            print(f"{fmt:>9}: {best:6.2f} s  ({count / best:9,.0f} papers/s, {size:6.1f} MB)")


if __name__ == "__main__":
    main()
