"""The commands that ask the index for papers: ``related``, ``search``, ``recommend``, ``show`` and ``export``.

They share the ranking, filter and paging options and the printing of a result list, which is why they
live together; all but ``export`` answer through a running server when one can (:mod:`.remote_answers`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import click

from ..cards import SORTS, YEAR_POOL
from ..checks import MAX_YEAR, MIN_YEAR
from ..export import FORMATS as EXPORT_FORMATS
from ..export import export_format, write_export
from ..settings import DEFAULT_K, MAX_K
from .common import export_also, export_options, index_option, json_option, print_json, service_of
from .remote_answers import answered_remotely, present, read_record, server_options

if TYPE_CHECKING:
    from ..hit import Hit
    from ..retrieval import Filters
    from ..service import Recommender

#: The filter options, by the names the façade's Filters and the HTTP API's JSON body both use.
FILTER_NAMES = ("year_min", "year_max", "journals", "themes", "exclude", "min_strength")


def _k_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-k", "k", type=click.IntRange(1, MAX_K), default=DEFAULT_K, show_default=True, help="number of results"
    )(function)


def _mode_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--mode",
        type=click.Choice(["hybrid", "dense", "lexical"]),
        default=None,
        help="ranking: dense + BM25 fused (hybrid, the default), embeddings only, or BM25 only",
    )(function)


def _filter_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--year-min/--year-max/--journal/--theme/--exclude, collected into one ``filters`` argument."""
    options = [
        click.option(
            "--min-strength",
            type=click.Choice(["strong", "related"]),
            default=None,
            help="drop hits weaker than this calibrated strength (fewer than k may remain)",
        ),
        click.option("--exclude", "exclude", multiple=True, metavar="ID", help="never return this paper (repeatable)"),
        click.option(
            "--theme",
            "themes",
            type=int,
            multiple=True,
            metavar="ID",
            help="only this theme (repeatable; ids from `recommender themes`)",
        ),
        click.option(
            "--journal",
            "journals",
            multiple=True,
            metavar="NAME",
            help="only this journal (repeatable, case-insensitive)",
        ),
        click.option(
            "--year-max",
            type=click.IntRange(MIN_YEAR, MAX_YEAR),
            default=None,
            help="only papers published up to this year",
        ),
        click.option(
            "--year-min",
            type=click.IntRange(MIN_YEAR, MAX_YEAR),
            default=None,
            help="only papers published from this year",
        ),
    ]
    for option in options:
        function = option(function)
    return function


def _list_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--offset/--sort (paging and order of a result list) and the --export options (its papers, in order)."""
    options = [
        export_options("the listed papers"),
        click.option(
            "--sort",
            type=click.Choice(SORTS),
            default="relevance",
            show_default=True,
            help=f"order: by relevance, or newest first among the {YEAR_POOL} most relevant",
        ),
        click.option(
            "--offset", type=click.IntRange(0), default=0, show_default=True, help="skip this many (next pages)"
        ),
    ]
    for option in options:
        function = option(function)
    return function


def _query_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every ranked query (related, search, recommend), which --help lists in this order."""
    in_order = (_k_option, _mode_option, _filter_options, _list_options, server_options, index_option, json_option)
    for option in reversed(in_order):  # a decorator list applies bottom-up
        function = option(function)
    return function


def _filters(options: dict[str, Any]) -> Filters:
    """The filter options as the façade takes them (options left out filter nothing)."""
    from ..retrieval import Filters

    return Filters(
        options["year_min"],
        options["year_max"],
        tuple(options["journals"]),
        tuple(options["themes"]),
        tuple(options["exclude"]),
        options["min_strength"],
    )


def _filter_body(options: dict[str, Any]) -> dict[str, Any]:
    """The filter options as the HTTP API's JSON body names them (the same names; unset ones left out)."""
    chosen = {name: options[name] for name in FILTER_NAMES}
    return present({name: list(value) if isinstance(value, tuple) else value for name, value in chosen.items()})


def _related_query(filters: dict[str, Any]) -> dict[str, Any]:
    """Filters as GET /papers/<id>/related's query string names them (one repeated parameter per list)."""
    plural = {"journals": "journal", "themes": "theme"}
    return {plural.get(key, key): value for key, value in filters.items()}


def _page(offset: int = 0, sort: str = "relevance", **_: Any) -> dict[str, Any]:
    return {"offset": offset, "sort": sort}


def _listed(
    service: Recommender,
    hits: list[Hit],
    as_json: bool,
    offset: int = 0,
    export_path: Path | None = None,
    export_fmt: str | None = None,
    **_: Any,
) -> None:
    """Print a result list and, with --export, write its papers in list order."""
    export_also(service, export_path, export_fmt, ids=[hit.id for hit in hits])
    print_hits(hits, as_json, offset)


@click.command()
@click.argument("paper_id")
@_query_options
@click.pass_context
def related(
    ctx: click.Context,
    /,
    paper_id: str,
    k: int,
    mode: str | None,
    index: str | None,
    model: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Papers related to PAPER_ID (an id, DOI or PMID); the paper itself is excluded."""
    query = {"k": k, "mode": mode, **_page(**options), **_related_query(_filter_body(options))}
    path = f"/papers/{quote(paper_id, safe='')}/related"
    remote_hits = answered_remotely(ctx, index, model, options, path, query=present(query))
    if remote_hits is not None:
        print_hits(remote_hits, as_json, options["offset"])
        return
    service = service_of(ctx, index, model)
    hits = service.related(paper_id, k, mode=mode, filters=_filters(options), **_page(**options))
    _listed(service, hits, as_json, **options)


@click.command()
@click.argument("text")
@_query_options
@click.pass_context
def search(
    ctx: click.Context,
    /,
    text: str,
    k: int,
    mode: str | None,
    index: str | None,
    model: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Papers related to free TEXT (a question, a claim or a pasted abstract)."""
    body = {"text": text, "k": k, "mode": mode, "filters": _filter_body(options) or None, **_page(**options)}
    remote_hits = answered_remotely(ctx, index, model, options, "/search", body=present(body))
    if remote_hits is not None:
        print_hits(remote_hits, as_json, options["offset"])
        return
    service = service_of(ctx, index, model, light_queries=True)
    hits = service.search(text, k, mode=mode, filters=_filters(options), **_page(**options))
    _listed(service, hits, as_json, **options)


@click.command()
@click.option(
    "--positive",
    "-p",
    "positive",
    multiple=True,
    metavar="ID",
    help="a paper you want more like (repeatable)",
)
@click.option(
    "--negative", "-n", "negative", multiple=True, metavar="ID", help="a paper you want less like (repeatable)"
)
@click.option(
    "--collection",
    "collection",
    default=None,
    metavar="NAME",
    help="use this collection's papers as the positive examples (see `recommender collection`)",
)
@_query_options
@click.pass_context
def recommend(
    ctx: click.Context,
    /,
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    collection: str | None,
    k: int,
    mode: str | None,
    index: str | None,
    model: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Papers like the --positive examples (or a --collection's papers) and unlike the --negative ones
    (examples are not returned)."""
    if bool(positive) == (collection is not None):
        raise click.UsageError("give --positive papers or a --collection (one of them)")
    body = {
        "positive": list(positive),
        "negative": list(negative),
        "collection": collection,
        "k": k,
        "mode": mode,
        "filters": _filter_body(options) or None,
        **_page(**options),
    }
    remote_hits = answered_remotely(ctx, index, model, options, "/recommend", body=present(body))
    if remote_hits is not None:
        print_hits(remote_hits, as_json, options["offset"])
        return
    service = service_of(ctx, index, model)
    filters = _filters(options)
    if collection is not None:
        hits = service.recommend_collection(
            collection, k, negative=list(negative), mode=mode, filters=filters, **_page(**options)
        )
    else:
        hits = service.recommend(list(positive), list(negative), k, mode=mode, filters=filters, **_page(**options))
    _listed(service, hits, as_json, **options)


def print_hits(hits: list[Hit], as_json: bool, offset: int = 0) -> None:
    """A result list, ranked from ``offset + 1``, with why each paper matched (or the hits as JSON)."""
    if as_json:
        print_json([hit.to_dict() for hit in hits])
        return
    if not hits:
        click.echo("No related papers found." if not offset else "No more results.")
    weak_shown = False
    for rank, hit in enumerate(hits, start=offset + 1):
        if hit.match == "weak" and not weak_shown:
            click.echo("     --- weak matches below: little evidence that these are related ---")
            weak_shown = True
        where = ", ".join(str(part) for part in (hit.journal, hit.year) if part)
        strength = f"{hit.match:<7}" if hit.match else f"{hit.score:7.3f}"
        click.echo(f"{rank:>3}. {strength}  {hit.id}  {hit.title or '(untitled)'}" + (f" [{where}]" if where else ""))
        if hit.authors:
            more = " et al." if hit.author_count > len(hit.authors) else ""
            click.echo(f"              {', '.join(hit.authors)}{more}")
        parts = f"(p {hit.strength:.2f}; " if hit.strength is not None else "("
        parts += f"dense {hit.dense:.3f}, bm25 {hit.lexical:.2f})"
        click.echo(f"              shared: {', '.join(hit.shared_terms) or '-'}  {parts}")
        if hit.snippet:
            click.echo(f"              “{_marked(hit.snippet)}”")
        if hit.theme:
            click.echo(f"              theme [{hit.theme['id']}] {hit.theme['label']}")
        if hit.links:
            click.echo(f"              {'  '.join(hit.links.values())}")


def _marked(snippet: dict[str, Any]) -> str:
    """A snippet with its shared terms in [brackets] (a terminal has no highlighter that survives a pipe)."""
    text, out, end = snippet["text"], [], 0
    for start, stop in snippet["highlights"]:
        out.extend([text[end:start], "[", text[start:stop], "]"])
        end = stop
    return "".join([*out, text[end:]])


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="file format (default: from the -o extension: .ris .bib .csv .json .nbib; standard output: ris)",
)
@click.option("--id", "ids", multiple=True, metavar="ID", help="only this paper (repeatable; id, DOI or PMID)")
@click.option("--theme", type=int, default=None, metavar="ID", help="only this theme's papers, tagged with its label")
@click.option("--collection", default=None, metavar="NAME", help="only this collection's papers, tagged with its name")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="write to this file (default: standard output)",
)
@index_option
@click.pass_context
def export(
    ctx: click.Context,
    fmt: str | None,
    ids: tuple[str, ...],
    theme: int | None,
    collection: str | None,
    output: Path | None,
    index: str | None,
    model: str | None,
) -> None:
    """Export stored papers for Zotero, EndNote and co.: RIS, BibTeX, CSV (Zotero's columns), CSL-JSON or
    MEDLINE/nbib, every field kept. All papers, the --id papers, one --theme or one --collection. The format
    follows the -o extension unless --format is given; an extension of another format, or of none, is refused."""
    chosen = export_format(fmt, output)  # before the index is opened: a wrong name costs nothing
    service = service_of(ctx, index, model)

    def write(out: Any) -> int:
        return service.export(chosen, out, ids=ids, theme=theme, collection=collection)

    count = write(sys.stdout) if output is None else write_export(output, write)
    click.echo(f"Exported {count} paper{'s' if count != 1 else ''} as {chosen}.", err=True)


@click.command()
@click.argument("paper_id")
@index_option
@json_option
@server_options
@click.pass_context
def show(
    ctx: click.Context, /, paper_id: str, index: str | None, model: str | None, as_json: bool, **options: Any
) -> None:
    """Print the stored record of PAPER_ID (an id, DOI or PMID)."""
    found = answered_remotely(ctx, index, model, options, f"/papers/{quote(paper_id, safe='')}", read_record)
    if found is None:
        found = service_of(ctx, index, model).show(paper_id).to_dict()
    if as_json:
        print_json(found)
        return
    for key, value in found.items():
        if value not in (None, "", []):
            click.echo(f"{key:>10}: {', '.join(map(str, value)) if isinstance(value, list) else value}")


#: This module's commands, registered on the root group by the package.
COMMANDS = (related, search, recommend, show, export)
