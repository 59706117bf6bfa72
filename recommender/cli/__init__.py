"""The ``recommender`` command line: one click group, each command a thin call into the façade.

This module makes the root group (its global options and error handling) and registers the commands, which
live by group in the modules beside it: :mod:`.corpus` (ingest, fetch-pubmed), :mod:`.builds` (build,
embed-ray, versions, rollback, status, models), :mod:`.queries` (related, search, recommend, show, export),
:mod:`.themes`, :mod:`.collection`, :mod:`.evaluate`, :mod:`.serve` and :mod:`.demo`; what they share is in
:mod:`.common` and :mod:`.remote_answers`. ``recommender.cli:main`` is the console script.

Errors of the package are printed as ``Error: message`` on stderr with exit status 1; usage errors are
click's (status 2). ``--json`` output goes to stdout alone, so it can be piped; progress bars and notes go
to stderr. Importing the package stays light (no numpy, FAISS, model or service): each command imports
what it needs when it runs, so ``recommender --help`` and queries answered by a server start fast.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from ..errors import RecommenderError
from ..settings import FUSION_METHODS, PAPER_WEIGHT_CLINICAL, PAPER_WEIGHT_MOLECULAR
from . import builds, collection, corpus, demo, evaluate, queries, serve, themes

__all__ = ["main"]


class _Group(click.Group):
    """Turns package errors into a one-line message and exit status 1 instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RecommenderError as error:
            click.echo(f"Error: {error.message}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="folder holding the indexes (default: ./indexes). Env: RECOMMENDER_INDEX_DIR.",
)
@click.option(
    "--fusion",
    type=click.Choice(FUSION_METHODS),
    default=None,
    help="hybrid score fusion (default zscore). Env: RECOMMENDER_FUSION.",
)
@click.option(
    "--text-weight", type=click.FloatRange(0, 1), default=None, help="lexical share for text queries (default 0.4)"
)
@click.option(
    "--paper-weight",
    type=click.FloatRange(0, 1),
    default=None,
    help=f"lexical share for paper queries (default: {PAPER_WEIGHT_CLINICAL:g} to {PAPER_WEIGHT_MOLECULAR:g} by how "
    "molecular the corpus is)",
)
@click.option("-v", "--verbose", is_flag=True, help="log progress details to stderr")
@click.version_option(package_name="recommender")
def main(
    index_dir: Path | None, fusion: str | None, text_weight: float | None, paper_weight: float | None, verbose: bool
) -> None:
    """Find related biomedical papers and map a literature into themes."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


for _module in (corpus, builds, queries, themes, collection, evaluate, serve, demo):
    for _command in _module.COMMANDS:
        main.add_command(_command)
