"""``recommender collection …``: named sets of papers (reading lists), kept with the paper store.

A thin command group over :class:`recommender.collection.Collections` (``service.collections``); recommending
from a collection is ``recommender recommend --collection NAME`` and exporting it ``recommender export
--collection NAME``.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import click

from ..collection import Change, Collection, merge_changes
from ..errors import RecommenderError
from ..paper import normalize_pmid
from .common import index_option, json_option, print_json, service_of

#: Not-found PMIDs named in the hint of how to fetch them.
_HINTED = 20
#: PMIDs asked of PubMed in one search ("1[pmid] OR 2[pmid] ..." stays a short request).
FETCH_BATCH = 200


@click.group()
def collection() -> None:
    """Named sets of papers (a reading list, "anoikis review"): create, add, remove, show, delete.

    Collections live with the paper store, so they outlive rebuilds and rollbacks. Recommend from one
    with `recommender recommend --collection NAME`; export one with `recommender export --collection NAME`.
    """


@collection.command("list")
@index_option
@json_option
@click.pass_context
def list_(ctx: click.Context, index: str | None, model: str | None, as_json: bool) -> None:
    """List the collections with their sizes."""
    infos = service_of(ctx, index, model).collections.infos()
    if as_json:
        print_json([info.to_dict() for info in infos])
        return
    if not infos:
        click.echo("No collections yet; make one with `recommender collection add NAME ID...`.")
    for info in infos:
        click.echo(f"{info.name}  ({info.size} paper{'s' if info.size != 1 else ''}, updated {info.updated})")


@collection.command()
@click.argument("name")
@click.option("--note", default="", help="a description kept with the collection")
@index_option
@json_option
@click.pass_context
def create(ctx: click.Context, name: str, note: str, index: str | None, model: str | None, as_json: bool) -> None:
    """Create an empty collection NAME (adding papers also creates it)."""
    info = service_of(ctx, index, model).collections.create(name, note)
    if as_json:
        print_json(info.to_dict())
    else:
        click.echo(f"Created collection {info.name!r}.")


@collection.command()
@click.argument("name")
@click.argument("references", nargs=-1)
@click.option(
    "--ids-file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="a file of PMIDs, DOIs or PMC ids (any separators, links too) or a saved PubMed results page; "
    "'-' reads standard input",
)
@click.option(
    "--fetch",
    is_flag=True,
    help="fetch the PMIDs not in the index from PubMed (needs internet), store them, then add them",
)
@click.option("--api-key", envvar="NCBI_API_KEY", default=None, help="NCBI API key. Env: NCBI_API_KEY.")
@click.option("--email", envvar="NCBI_EMAIL", default=None, help="your e-mail, sent to NCBI. Env: NCBI_EMAIL.")
@click.option("--base-url", envvar="RECOMMENDER_EUTILS_URL", default=None, hidden=True)
@index_option
@json_option
@click.pass_context
def add(
    ctx: click.Context,
    name: str,
    references: tuple[str, ...],
    ids_file: Path | None,
    fetch: bool,
    api_key: str | None,
    email: str | None,
    base_url: str | None,
    index: str | None,
    model: str | None,
    as_json: bool,
) -> None:
    """Add papers (ids, DOIs or PMIDs) to collection NAME, creating it if needed.

    Papers must be stored in the index; the ones not found are listed. With --fetch, PMIDs not found
    are fetched from PubMed (NCBI E-utilities, as `recommender fetch-pubmed` does) into
    ./pubmed/collection-NAME/, stored, and added (run `recommender build` to index them)."""
    if not references and ids_file is None:
        raise click.UsageError("give paper ids, DOIs or PMIDs, or --ids-file")
    service = service_of(ctx, index, model)
    collections = service.collections
    change = collections.add(name, list(references)) if references else None
    if ids_file is not None:
        listed = collections.add_listed(name, _read_list(ids_file))
        change = listed if change is None else merge_changes(change, listed)
    assert change is not None
    missing = list(dict.fromkeys(pmid for pmid in map(normalize_pmid, change.not_found) if pmid))
    failure: RecommenderError | None = None
    if fetch and missing:
        folder = Path("pubmed") / ("collection-" + (re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:60] or "x"))
        try:
            for start in range(0, len(missing), FETCH_BATCH):
                batch = missing[start : start + FETCH_BATCH]
                query = " OR ".join(f"{pmid}[pmid]" for pmid in batch)
                result, _ = service.fetch_pubmed(
                    query, folder, max_results=len(batch), api_key=api_key, email=email, base_url=base_url
                )
                click.echo(f"Fetched {result.fetched} of {len(batch)} PMIDs from PubMed into {folder}/.", err=True)
        except RecommenderError as error:  # the papers added so far stay added: say which, then fail
            failure = error
        fetched = collections.add(name, missing)  # the PMIDs the batches before a failure stored, too
        still_missing = set(fetched.not_found)
        change.not_found = [
            ref for ref in change.not_found if normalize_pmid(ref) is None or normalize_pmid(ref) in still_missing
        ]
        change = merge_changes(change, dataclasses.replace(fetched, not_found=[]))
    if failure is not None:
        _print_added_before(change)
        raise failure
    _print_change(change, "added to", as_json)


@collection.command()
@click.argument("name")
@click.argument("references", nargs=-1, required=True)
@index_option
@json_option
@click.pass_context
def remove(
    ctx: click.Context, name: str, references: tuple[str, ...], index: str | None, model: str | None, as_json: bool
) -> None:
    """Remove papers (ids, DOIs or PMIDs) from collection NAME."""
    change = service_of(ctx, index, model).collections.remove(name, list(references))
    _print_change(change, "removed from", as_json)


@collection.command()
@click.argument("name")
@index_option
@json_option
@click.pass_context
def show(ctx: click.Context, name: str, index: str | None, model: str | None, as_json: bool) -> None:
    """List the papers of collection NAME, oldest addition first."""
    found = service_of(ctx, index, model).collections.get(name)
    if as_json:
        print_json(found.to_dict())
        return
    _print_collection(found)


@collection.command()
@click.argument("name")
@index_option
@click.pass_context
def delete(ctx: click.Context, name: str, index: str | None, model: str | None) -> None:
    """Delete collection NAME (its papers stay in the index)."""
    info = service_of(ctx, index, model).collections.delete(name)
    click.echo(f"Deleted collection {info.name!r} ({info.size} papers; they stay in the index).")


def _read_list(path: Path) -> str:
    """A pasted list's text, at most :data:`~recommender.ingest.identifiers.MAX_TEXT_CHARS` characters (more
    is refused, not cut)."""
    from ..ingest.identifiers import MAX_TEXT_CHARS

    if str(path) == "-":
        text = sys.stdin.read(MAX_TEXT_CHARS + 1)
    else:
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                text = handle.read(MAX_TEXT_CHARS + 1)
        except OSError as error:
            raise click.ClickException(f"cannot read {path}: {error.strerror or error}") from None
    if len(text) > MAX_TEXT_CHARS:
        raise click.ClickException(f"{path} is longer than {MAX_TEXT_CHARS // 1024 // 1024} MB; split it")
    return text


def _print_added_before(change: Change) -> None:
    """On stderr, when fetching failed: which papers the command had added to the collection before that."""
    added = change.changed
    if not added:
        click.echo(f"No paper was added to {change.collection!r} before the fetch failed.", err=True)
        return
    listed = ", ".join(added[:_HINTED]) + (f" and {len(added) - _HINTED} more" if len(added) > _HINTED else "")
    click.echo(
        f"{len(added)} paper{'s were' if len(added) != 1 else ' was'} added to {change.collection!r} before the "
        f"fetch failed (they stay; now {change.size}): {listed}",
        err=True,
    )
    if change.not_found:
        click.echo(f"{len(change.not_found)} not added: {', '.join(change.not_found[:_HINTED])}", err=True)


def _print_change(change: Change, verb: str, as_json: bool) -> None:
    """What a change did, and on stderr the papers not found with how to fetch the PMIDs among them."""
    if as_json:
        print_json(change.to_dict())
        return
    click.echo(
        f"{len(change.changed)} paper{'s' if len(change.changed) != 1 else ''} {verb} {change.collection!r} "
        f"(now {change.size}); {len(change.unchanged)} already so."
    )
    if change.not_found:
        click.echo(f"{len(change.not_found)} not in the index: {', '.join(change.not_found[:_HINTED])}", err=True)
        pmids = [reference for reference in change.not_found if reference.isdigit()][:_HINTED]
        if pmids:
            query = " OR ".join(f"{pmid}[pmid]" for pmid in pmids)
            click.echo(f'  fetch them from PubMed with: recommender fetch-pubmed "{query}"', err=True)


def _print_collection(found: Collection) -> None:
    """A collection's facts, then its papers in the order they were added."""
    info = found.info
    click.echo(f"{info.name}: {info.size} papers (created {info.created}, updated {info.updated})")
    if info.note:
        click.echo(f"  {info.note}")
    for paper in found.papers:
        where = ", ".join(str(part) for part in (paper.journal, paper.year) if part)
        click.echo(f"  - {paper.id}  {paper.display_title}" + (f" [{where}]" if where else ""))
    for paper_id in found.missing:
        click.echo(f"  - {paper_id}  (no longer in the index)")


#: This module's commands, registered on the root group by the package.
COMMANDS = (collection,)
