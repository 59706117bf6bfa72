"""Getting papers into an index's store: ``ingest`` (files, folders, globs) and ``fetch-pubmed`` (NCBI).

Both end in the same ingest report, printed here; indexing what was stored is ``build`` (:mod:`.builds`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import NothingIngestedError
from ..ingest.fields import SYNONYMS
from .common import index_option, json_option, print_json, service_of

if TYPE_CHECKING:
    from ..service import IngestReport


def _parse_columns(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        field, equals, column = value.partition("=")
        if not equals or not column or field not in SYNONYMS:
            raise click.BadParameter(f"expected FIELD=COLUMN with FIELD one of {', '.join(SYNONYMS)}, got {value!r}")
        mapping[field] = column
    return mapping


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--column",
    "columns",
    multiple=True,
    callback=_parse_columns,
    metavar="FIELD=COLUMN",
    help="take FIELD from this CSV/TSV column or JSON key, e.g. --column abstract=Summary (repeatable)",
)
@index_option
@json_option
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[str, ...],
    columns: dict[str, str],
    index: str | None,
    model: str | None,
    as_json: bool,
) -> None:
    """Read papers from PATHS (files, folders or globs) into the index's paper store.

    Formats are recognised from content: PubMed XML (also gzipped), MEDLINE/nbib, RIS, BibTeX, CSV/TSV,
    JSON/JSONL, and single page documents (plain text or HTML copied from journal, PubMed or aggregator
    pages). Bad records are reported and skipped; the exit status is non-zero only when nothing usable was
    read, and then nothing is written.
    """
    service = service_of(ctx, index, model)
    try:
        report = service.ingest(paths, columns=columns)
    except NothingIngestedError as error:
        if as_json and error.details is not None:
            print_json(error.details)
        else:  # the error carries the report as JSON (what the HTTP API answers)
            details = error.details or {}
            _print_rejections(details.get("rejected", []), details.get("rejected_count", 0))
        raise
    if as_json:
        print_json(report.to_dict())
    else:
        _print_ingest(report)


def _print_ingest(report: IngestReport) -> None:
    """A summary; each paper's line only with --verbose (an ingest of 1,000 papers is not 1,000 lines)."""
    click.echo(
        f"Read {report.read} papers into index '{report.index}': {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.merged} merged; {report.rejected_count} rejected. "
        f"The store now holds {report.total} papers."
    )
    if click.get_current_context().find_root().params.get("verbose"):
        for paper in report.papers:
            where = f" ({paper['position']})" if paper["position"] else ""
            click.echo(f"  {paper['outcome']:<9} {paper['id']}  <- {paper['source']}{where}")
    elif report.papers:
        click.echo("  (`recommender -v ingest ...` lists each paper; --json gives them all)")
    _print_rejections(report.rejected, report.rejected_count)
    if report.added or report.updated or report.merged:
        click.echo("Run `recommender build` to index the new papers.", err=True)


def _print_rejections(rejected: list[dict[str, Any]], count: int) -> None:
    """The listed rejected records and their reasons, then how many more (of ``count``) were rejected, on
    stderr."""
    for item in rejected:
        where = f" ({item['position']})" if item.get("position") else ""
        click.echo(f"  rejected  {item['source']}{where}: {item['reason']}", err=True)
    unlisted = count - len(rejected)
    if unlisted > 0:
        click.echo(f"  ... and {unlisted:,} more rejected records (not listed)", err=True)


@click.command("fetch-pubmed")
@click.argument("query")
@click.option("--max", "max_results", type=click.IntRange(1), default=1000, show_default=True, help="records to fetch")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="folder for the downloaded XML (default: ./pubmed/<query>)",
)
@click.option(
    "--api-key",
    envvar="NCBI_API_KEY",
    default=None,
    help="NCBI API key (10 requests/s instead of 3). Env: NCBI_API_KEY.",
)
@click.option(
    "--email", envvar="NCBI_EMAIL", default=None, help="your e-mail, sent to NCBI as they ask. Env: NCBI_EMAIL."
)
@click.option("--base-url", envvar="RECOMMENDER_EUTILS_URL", default=None, hidden=True)
@click.option(
    "--ingest/--no-ingest", "ingest_files", default=True, show_default=True, help="ingest the files after download"
)
@index_option
@json_option
@click.pass_context
def fetch_pubmed_command(
    ctx: click.Context,
    query: str,
    max_results: int,
    out_dir: Path | None,
    api_key: str | None,
    email: str | None,
    base_url: str | None,
    ingest_files: bool,
    index: str | None,
    model: str | None,
    as_json: bool,
) -> None:
    """Download the PubMed records matching QUERY with NCBI E-utilities and ingest them.

    Needs internet access. Respects NCBI's rate limits (3 requests/s, 10 with an API key) and retries
    transient failures. NCBI serves at most the first 10,000 records of a search.
    """
    folder = out_dir or Path("pubmed") / (re.sub(r"[^A-Za-z0-9]+", "-", query).strip("-")[:60] or "query")
    service = service_of(ctx, index, model)
    result, report = service.fetch_pubmed(
        query,
        folder,
        max_results=max_results,
        api_key=api_key,
        email=email,
        base_url=base_url,
        ingest_files=ingest_files,
    )
    summary = {
        "query": result.query,
        "count": result.count,
        "fetched": result.fetched,
        "files": [str(path) for path in result.files],
        "ingest": report.to_dict() if report else None,
    }
    if as_json:
        print_json(summary)
        return
    click.echo(f"PubMed has {result.count} records for {query!r}; fetched {result.fetched} into {folder}/.")
    if report is not None:
        _print_ingest(report)


#: This module's commands, registered on the root group by the package.
COMMANDS = (ingest, fetch_pubmed_command)
