"""``recommender demo``: a first run in one command, on the bundled synthetic corpus.

It goes through the same façade calls as ``ingest``, ``build``, ``related`` and ``themes`` and prints their
answers the way those commands do, so what a newcomer sees is what the real commands show.
"""

from __future__ import annotations

import sys
from importlib import resources

import click

from .common import service_of
from .queries import print_hits
from .themes import print_themes

DEMO_INDEX = "demo"


@click.command()
@click.option("--index", "index", default=DEMO_INDEX, show_default=True, metavar="NAME", help="index to (re)build")
@click.pass_context
def demo(ctx: click.Context, index: str) -> None:
    """Build an index from the bundled synthetic demo corpus, then show related papers and themes."""
    service = service_of(ctx, index, None)
    corpus = resources.files("recommender") / "demo" / "corpus.jsonl"
    with resources.as_file(corpus) as path:
        report = service.ingest([path])
    click.echo(f"Ingested {report.read} synthetic demo papers into index '{index}'.")
    manifest = service.build()
    click.echo(f"Built version {manifest.build_id} with {manifest.model} ({manifest.dimension}-d).\n")
    first = report.papers[0]["id"]
    paper = service.show(first)
    click.echo(f"Papers related to {first}: {paper.title}")
    print_hits(service.related(first, 5), as_json=False)
    click.echo("")
    print_themes(service.themes())
    sys.stdout.flush()


#: This module's commands, registered on the root group by the package.
COMMANDS = (demo,)
