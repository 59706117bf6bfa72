"""The ``recommender`` command line: one click group, each command a thin call into the façade.

Errors of the package are printed as ``Error: message`` on stderr with exit status 1; usage errors are
click's (status 2). ``--json`` output goes to stdout alone, so it can be piped; progress bars and notes go
to stderr.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import click

from .cards import SORTS, YEAR_POOL
from .cli_collection import register as register_collections
from .errors import NothingIngestedError, RecommenderError
from .export import FORMATS as EXPORT_FORMATS
from .export import export_format, write_export
from .ingest.fields import SYNONYMS
from .model_profiles import BACKENDS, POOLING_MODES, PROFILES, TEXT_FORMATS
from .settings import DEFAULT_K, FUSION_METHODS, INDEX_KINDS, MAX_K, Settings
from .themes import METHODS as THEME_METHODS
from .themes import REPORT_FORMATS, REPORT_SUFFIXES

if TYPE_CHECKING:  # the service (numpy, FAISS, pydantic) is imported when a command needs it
    from .hit import Hit
    from .retrieval import Filters
    from .service import IngestReport, Recommender
    from .themes import ThemeMap

DEMO_INDEX = "demo"


class _Group(click.Group):
    """Turns package errors into a one-line message and exit status 1 instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RecommenderError as error:
            click.echo(f"Error: {error.message}", err=True)
            ctx.exit(1)


def _settings(ctx: click.Context, index: str | None, model: str | None) -> Settings:
    root = ctx.find_root().params
    return Settings.from_env(
        index_dir=root.get("index_dir"),
        index_name=index,
        model=model,
        fusion=root.get("fusion"),
        text_weight=root.get("text_weight"),
        paper_weight=root.get("paper_weight"),
    )


def _service(
    ctx: click.Context,
    index: str | None,
    model: str | None,
    model_options: dict[str, Any] | None = None,
    **overrides: Any,
) -> Recommender:
    """The façade for this invocation. ``ctx.obj["embedder_factory"]`` lets tests supply the model."""
    from .service import Recommender, default_embedder_factory

    options = ctx.find_root().obj or {}
    factory = options.get("embedder_factory", default_embedder_factory)
    settings = _settings(ctx, index, model)
    given = {key: value for key, value in overrides.items() if value is not None}
    if given:
        settings = dataclasses.replace(settings, **given)
    if model_options:
        settings = dataclasses.replace(
            settings, model_options={k: v for k, v in model_options.items() if v is not None}
        )
    return Recommender(settings, embedder_factory=factory)


def index_option(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--model",
        metavar="NAME_OR_PATH",
        help="sentence-transformers model name or local folder (default: the index's model, else the bundled "
        "all-MiniLM-L6-v2). Env: RECOMMENDER_MODEL.",
    )(function)
    return click.option(
        "--index",
        "index",
        metavar="NAME",
        help="index name under the index folder (default: 'default'). Env: RECOMMENDER_INDEX.",
    )(function)


def _model_settings_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Overrides of single model settings, collected into ``model_options`` (recorded in the manifest)."""
    options = [
        click.option(
            "--backend",
            type=click.Choice(BACKENDS),
            default=None,
            help="auto (default: the fastest of torch fp32, bf16 autocast and ONNX fp32 that keeps vectors "
            "interchangeable, measured once per machine), torch, torch-bf16, onnx, or onnx-int8 (int8 weights: "
            "vectors of their own)",
        ),
        click.option(
            "--text-format", type=click.Choice(TEXT_FORMATS), default=None, help="how a paper is given to the model"
        ),
        click.option("--document-prefix", default=None, help="text put before every paper (e.g. 'passage: ')"),
        click.option("--query-prefix", default=None, help="text put before every query (e.g. 'query: ')"),
        click.option(
            "--query-model", default=None, metavar="NAME_OR_PATH", help="a separate query encoder (as MedCPT has)"
        ),
        click.option(
            "--max-seq-length", type=click.IntRange(8, 8192), default=None, help="token window; longer papers are cut"
        ),
        click.option(
            "--pooling", type=click.Choice(POOLING_MODES), default=None, help="pooling for raw transformer checkpoints"
        ),
    ]
    for option in options:
        function = option(function)
    return function


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
            "--year-max", type=click.IntRange(1000, 3000), default=None, help="only papers published up to this year"
        ),
        click.option(
            "--year-min", type=click.IntRange(1000, 3000), default=None, help="only papers published from this year"
        ),
    ]
    for option in options:
        function = option(function)
    return function


def _filters(
    year_min: int | None,
    year_max: int | None,
    journals: tuple,
    themes: tuple,
    exclude: tuple,
    min_strength: str | None = None,
) -> Filters | None:
    from .retrieval import Filters

    filters = Filters(year_min, year_max, tuple(journals), tuple(themes), tuple(exclude), min_strength)
    return None if filters == Filters() else filters


def _export_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--export FILE and --export-format: also write ``what`` as a reference-manager file."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        function = click.option(
            "--export-format",
            "export_fmt",
            type=click.Choice(EXPORT_FORMATS),
            default=None,
            help="format of --export (default: from its extension: .ris .bib .csv .json .nbib)",
        )(function)
        return click.option(
            "--export",
            "export_path",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help=f"also write {what} to this file (RIS, BibTeX, CSV, CSL-JSON or MEDLINE)",
        )(function)

    return decorate


def _list_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--offset/--sort (paging and order of a result list) and the --export options (its papers, in order)."""
    options = [
        _export_options("the listed papers"),
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


def _export_also(service: Recommender, path: Path | None, fmt: str | None, **selection: Any) -> None:
    """With --export, write the selected papers (atomically) and say how many, on stderr."""
    if path is None:
        return
    chosen = export_format(fmt, path)
    count = write_export(path, lambda out: service.export(chosen, out, **selection))
    click.echo(f"Exported {count} paper{'s' if count != 1 else ''} as {chosen} to {path}.", err=True)


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
    _export_also(service, export_path, export_fmt, ids=[hit.id for hit in hits])
    _print_hits(hits, as_json, offset)


def _page(offset: int = 0, sort: str = "relevance", **_: Any) -> dict[str, Any]:
    return {"offset": offset, "sort": sort}


def _server_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--server URL / --local: where a query is answered (see recommender.remote)."""
    function = click.option(
        "--local",
        is_flag=True,
        help="answer in this process even when a server of the index is running",
    )(function)
    return click.option(
        "--server",
        "server",
        metavar="URL",
        envvar="RECOMMENDER_SERVER",
        default=None,
        help="answer through the recommender server at URL (default: a server of the same index running on this "
        "machine, found automatically, else this process). Env: RECOMMENDER_SERVER.",
    )(function)


def _server_for(ctx: click.Context, index: str | None, model: str | None, options: dict[str, Any]) -> str | None:
    """The server that answers this query, or None to answer here.

    A server is looked for only when it would give the same answer as this process: no --model and no
    ranking options of the root command (the server ranks with its own), no --export (written from the
    local index)."""
    if options.get("local"):
        return None
    from . import remote

    if options.get("server"):
        if options.get("export_path") is not None:
            raise click.UsageError("--export writes from the local index: drop --server, or export on the server")
        return remote.check_url(options["server"])
    root = ctx.find_root().params
    if model or options.get("export_path") is not None or any(root.get(name) is not None for name in RANKING):
        return None
    return remote.find(_settings(ctx, index, None).index_path)


RANKING = ("fusion", "text_weight", "paper_weight")


def _hits(url: str, answer: Any) -> list[Hit]:
    """A server's answer to a query, as hits."""
    from . import remote
    from .hit import Hit

    if not isinstance(answer, list):
        raise remote.ServerUnavailableError(f"the server at {url} answered something other than a list of hits")
    return [Hit.from_dict(record) for record in answer if isinstance(record, dict)]


def _answered_remotely(
    ctx: click.Context,
    index: str | None,
    model: str | None,
    options: dict[str, Any],
    path: str,
    read: Callable[[str, Any], Any] = _hits,
    **request: Any,
) -> Any:
    """A server's answer (explicit, or found and working), as ``read`` makes it, or None to answer locally. A
    found server that fails is skipped with a note on stderr; an explicit one that fails is the user's error."""
    url = _server_for(ctx, index, model, options)
    if url is None:
        return None
    from . import remote

    try:
        answer = read(url, remote.request(url, path, **request))
    except remote.ServerUnavailableError as error:
        if options.get("server"):
            raise
        click.echo(f"Note: {error.message}; answering here.", err=True)
        return None
    logging.getLogger(__name__).info("answered by the server at %s", url)
    return answer


def _record(url: str, answer: Any) -> Any:
    """A server's answer that must be a JSON object (a paper, a theme map)."""
    from . import remote

    if not isinstance(answer, dict):
        raise remote.ServerUnavailableError(f"the server at {url} answered something other than a JSON object")
    return answer


def _filter_body(options: dict[str, Any]) -> dict[str, Any]:
    """The filter options as the HTTP API's JSON body names them (the same names; unset ones left out)."""
    chosen = _only(options, FILTER_NAMES)
    return _present({name: list(value) if isinstance(value, tuple) else value for name, value in chosen.items()})


def _json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="print JSON on stdout")(function)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


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
    help="lexical share for paper queries (default: 0.2 to 0.6 by how molecular the corpus is)",
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


def _parse_columns(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        field, equals, column = value.partition("=")
        if not equals or not column or field not in SYNONYMS:
            raise click.BadParameter(f"expected FIELD=COLUMN with FIELD one of {', '.join(SYNONYMS)}, got {value!r}")
        mapping[field] = column
    return mapping


@main.command()
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
@_json_option
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
    service = _service(ctx, index, model)
    try:
        report = service.ingest(paths, columns=columns)
    except NothingIngestedError as error:
        if as_json and error.details is not None:
            _print_json(error.details)
        else:
            _print_rejections(error.details or {})
        raise
    if as_json:
        _print_json(report.to_dict())
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
    _print_rejections(report.to_dict())
    if report.added or report.updated or report.merged:
        click.echo("Run `recommender build` to index the new papers.", err=True)


def _print_rejections(report: dict[str, Any]) -> None:
    for item in report.get("rejected", []):
        where = f" ({item['position']})" if item.get("position") else ""
        click.echo(f"  rejected  {item['source']}{where}: {item['reason']}", err=True)
    unlisted = report.get("rejected_count", 0) - len(report.get("rejected", []))
    if unlisted > 0:
        click.echo(f"  ... and {unlisted:,} more rejected records (not listed)", err=True)


@main.command("fetch-pubmed")
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
@_json_option
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
    service = _service(ctx, index, model)
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
        _print_json(summary)
        return
    click.echo(f"PubMed has {result.count} records for {query!r}; fetched {result.fetched} into {folder}/.")
    if report is not None:
        _print_ingest(report)


@main.command()
@index_option
@_model_settings_options
@click.option("--full", is_flag=True, help="re-embed every paper instead of reusing cached embeddings")
@click.option(
    "--embeddings",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="SHARDS",
    help="import embedding shards made by `recommender embed-ray` before building",
)
@click.option(
    "--index-kind",
    type=click.Choice(INDEX_KINDS),
    default=None,
    help="vector index: exact (flat) or approximate (hnsw, ivf, ivfpq); default auto, by corpus size. "
    "Env: RECOMMENDER_INDEX_KIND.",
)
@_json_option
@click.pass_context
def build(
    ctx: click.Context,
    index: str | None,
    model: str | None,
    full: bool,
    embeddings: Path | None,
    index_kind: str | None,
    as_json: bool,
    **model_options: Any,
) -> None:
    """Index every stored paper as a new version and make it current (atomically).

    Only papers that are new or changed since an earlier build with the same model are embedded; --full
    re-embeds everything. --model takes a profile (see `recommender models`), a sentence-transformers model
    name or a local folder; the other model options override single settings. All are recorded and reused by
    later commands; a different model or setting re-embeds everything automatically.
    """
    service = _service(ctx, index, model, model_options, index_kind=index_kind)
    manifest = service.build(full=full, embeddings=embeddings)
    if as_json:
        _print_json(manifest.model_dump())
        return
    recall = f", recall@10 {manifest.recall_at_10:.3f} vs exact" if manifest.recall_at_10 is not None else ""
    click.echo(
        f"Built index '{service.settings.index_name}' version {manifest.build_id}: {manifest.count} papers "
        f"({manifest.embedded} embedded, {manifest.reused} from the cache), model {manifest.model} "
        f"({manifest.dimension}-d), {manifest.index_type} index{recall}."
    )
    if manifest.truncated:
        click.echo(
            f"{manifest.truncated} of {manifest.count} papers are longer than the model's "
            f"{manifest.max_seq_length}-token window: their dense vectors use the title and the start of the "
            "abstract; BM25 uses the whole text.",
            err=True,
        )


@main.command("embed-ray")
@click.argument("inputs", nargs=-1, required=True, metavar="JSONL...")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="folder for the embedding shards (new or empty; shared storage on a cluster)",
)
@click.option("--workers", type=click.IntRange(1, 10000), default=None, help="model replicas (default: what fits)")
@click.option("--address", default=None, help="Ray cluster address, e.g. 'auto' (default: a private local instance)")
@click.option("--overwrite", is_flag=True, help="replace the shards already in --out")
@index_option
@_model_settings_options
@_json_option
@click.pass_context
def embed_ray(
    ctx: click.Context,
    inputs: tuple[str, ...],
    out_dir: Path,
    workers: int | None,
    address: str | None,
    overwrite: bool,
    index: str | None,
    model: str | None,
    as_json: bool,
    **model_options: Any,
) -> None:
    """Embed JSONL corpora with Ray Data into shards that `recommender build --embeddings` imports.

    For corpora that outgrow one machine: one model per Ray worker, shards written in parallel. Needs the
    'ray' extra (pip install 'recommender[ray]'). The model is the one the index's next build would use.
    """
    service = _service(ctx, index, model, model_options)
    summary = service.embed_with_ray(inputs, out_dir, workers=workers, address=address, overwrite=overwrite)
    if as_json:
        _print_json(summary)
        return
    click.echo(
        f"Embedded {summary['embedded']} papers ({summary['skipped']} lines skipped) with {summary['model']} on "
        f"{summary['workers']} Ray worker(s) in {summary['seconds']} s: {summary['shards']} shard file(s) in "
        f"{summary['out_dir']}.\nNext: recommender build --embeddings {summary['out_dir']}"
    )


@main.command()
@index_option
@_json_option
@click.pass_context
def versions(ctx: click.Context, index: str | None, model: str | None, as_json: bool) -> None:
    """List the kept index versions, oldest first; '*' marks the current one."""
    listed = _service(ctx, index, model).list_versions()
    if as_json:
        _print_json(listed)
        return
    if not listed:
        click.echo("No built version yet; run `recommender build`.")
    for entry in listed:
        mark = "*" if entry["current"] else " "
        if entry["status"] != "ok":
            click.echo(f"{mark} {entry['id']}  UNUSABLE: {entry['problem']}")
            continue
        recall = f", recall@10 {entry['recall_at_10']:.3f}" if entry.get("recall_at_10") is not None else ""
        delta = entry.get("delta") or {}
        stacked = (
            f"  (+{delta.get('papers', 0)} -{delta.get('hidden', 0)} on {entry['base']})" if entry.get("base") else ""
        )
        click.echo(
            f"{mark} {entry['id']}  {entry['built_at']}  {entry['count']} papers  {entry['model']}  "
            f"{entry['index_type']}{recall}{stacked}"
        )


@main.command()
@index_option
@click.option("--to", "to", default=None, metavar="VERSION", help="version id (default: the one before the current)")
@click.pass_context
def rollback(ctx: click.Context, index: str | None, model: str | None, to: str | None) -> None:
    """Make an earlier kept version current again (the stored papers are not changed)."""
    manifest = _service(ctx, index, model).rollback(to)
    click.echo(f"Version {manifest.build_id} ({manifest.count} papers, built {manifest.built_at}) is now current.")


@main.command()
@_json_option
def models(as_json: bool) -> None:
    """List the ready-made model profiles (usable with --model NAME wherever the model is reachable)."""
    if as_json:
        _print_json([profile.to_dict() for profile in PROFILES.values()])
        return
    for profile in PROFILES.values():
        click.echo(f"{profile.name}\n    {profile.description}")
        defaults = (None, "", "title_abstract", "torch")
        details = {key: value for key, value in profile.settings().items() if value not in defaults}
        click.echo("    " + ", ".join(f"{key}={value}" for key, value in details.items()))


@main.command()
@click.argument("paper_id")
@_k_option
@_mode_option
@_filter_options
@_list_options
@_server_options
@index_option
@_json_option
@click.pass_context
def related(
    ctx: click.Context,
    paper_id: str,
    k: int,
    mode: str | None,
    index: str | None,
    model: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Papers related to PAPER_ID (an id, DOI or PMID); the paper itself is excluded."""
    filters = _filter_body(options)
    query = {"k": k, "mode": mode, **_page(**options), **_related_query(filters)}
    path = f"/papers/{quote(paper_id, safe='')}/related"
    remote_hits = _answered_remotely(ctx, index, model, options, path, query=_present(query))
    if remote_hits is not None:
        _print_hits(remote_hits, as_json, options["offset"])
        return
    service = _service(ctx, index, model)
    filters = _filters(**_only(options, FILTER_NAMES))
    hits = service.related(paper_id, k, mode=mode, filters=filters, **_page(**options))
    _listed(service, hits, as_json, **options)


@main.command()
@click.argument("text")
@_k_option
@_mode_option
@_filter_options
@_list_options
@_server_options
@index_option
@_json_option
@click.pass_context
def search(
    ctx: click.Context,
    text: str,
    k: int,
    mode: str | None,
    index: str | None,
    model: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Papers related to free TEXT (a question, a claim or a pasted abstract)."""
    filters = _filter_body(options)
    body = {"text": text, "k": k, "mode": mode, "filters": filters or None, **_page(**options)}
    remote_hits = _answered_remotely(ctx, index, model, options, "/search", body=_present(body))
    if remote_hits is not None:
        _print_hits(remote_hits, as_json, options["offset"])
        return
    service = _service(ctx, index, model, light_queries=True)
    filters = _filters(**_only(options, FILTER_NAMES))
    hits = service.search(text, k, mode=mode, filters=filters, **_page(**options))
    _listed(service, hits, as_json, **options)


@main.command()
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
@_k_option
@_mode_option
@_filter_options
@_list_options
@_server_options
@index_option
@_json_option
@click.pass_context
def recommend(
    ctx: click.Context,
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
    filters = _filter_body(options)
    body = {
        "positive": list(positive),
        "negative": list(negative),
        "collection": collection,
        "k": k,
        "mode": mode,
        "filters": filters or None,
        **_page(**options),
    }
    remote_hits = _answered_remotely(ctx, index, model, options, "/recommend", body=_present(body))
    if remote_hits is not None:
        _print_hits(remote_hits, as_json, options["offset"])
        return
    service = _service(ctx, index, model)
    filters = _filters(**_only(options, FILTER_NAMES))
    if collection is not None:
        hits = service.recommend_collection(
            collection, k, negative=list(negative), mode=mode, filters=filters, **_page(**options)
        )
    else:
        hits = service.recommend(list(positive), list(negative), k, mode=mode, filters=filters, **_page(**options))
    _listed(service, hits, as_json, **options)


FILTER_NAMES = ("year_min", "year_max", "journals", "themes", "exclude", "min_strength")


def _only(options: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: options[name] for name in names}


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without the unset ones (None or an empty list), which the server fills with its defaults."""
    return {key: value for key, value in values.items() if value is not None and value != []}


def _related_query(filters: dict[str, Any]) -> dict[str, Any]:
    """Filters as GET /papers/<id>/related's query string names them (one repeated parameter per list)."""
    plural = {"journals": "journal", "themes": "theme"}
    return {plural.get(key, key): value for key, value in filters.items()}


def _print_hits(hits: list[Hit], as_json: bool, offset: int = 0) -> None:
    if as_json:
        _print_json([hit.to_dict() for hit in hits])
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


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="ris", show_default=True, help="file format"
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
    fmt: str,
    ids: tuple[str, ...],
    theme: int | None,
    collection: str | None,
    output: Path | None,
    index: str | None,
    model: str | None,
) -> None:
    """Export stored papers for Zotero, EndNote and co.: RIS, BibTeX, CSV (Zotero's columns), CSL-JSON or
    MEDLINE/nbib, every field kept. All papers, the --id papers, one --theme or one --collection."""
    service = _service(ctx, index, model)

    def write(out: Any) -> int:
        return service.export(fmt, out, ids=ids, theme=theme, collection=collection)

    count = write(sys.stdout) if output is None else write_export(output, write)
    click.echo(f"Exported {count} paper{'s' if count != 1 else ''} as {fmt}.", err=True)


@main.command()
@click.argument("paper_id")
@index_option
@_json_option
@_server_options
@click.pass_context
def show(
    ctx: click.Context, paper_id: str, index: str | None, model: str | None, as_json: bool, **options: Any
) -> None:
    """Print the stored record of PAPER_ID (an id, DOI or PMID)."""
    record = _answered_remotely(ctx, index, model, options, f"/papers/{quote(paper_id, safe='')}", _record)
    if record is None:
        record = _service(ctx, index, model).show(paper_id).to_dict()
    if as_json:
        _print_json(record)
        return
    for key, value in record.items():
        if value not in (None, "", []):
            click.echo(f"{key:>10}: {', '.join(value) if isinstance(value, list) else value}")


@main.command()
@click.option("--k", "k", type=click.IntRange(1), default=None, help="number of themes (default: chosen automatically)")
@click.option(
    "--method", type=click.Choice(THEME_METHODS), default="spectral", show_default=True, help="clustering method"
)
@click.option("--refit", is_flag=True, help="cluster again instead of placing new papers in the stored themes")
@click.option("--within", type=int, default=None, metavar="THEME_ID", help="divide one theme into sub-themes")
@click.option(
    "--seed-theme",
    "seed_themes",
    multiple=True,
    metavar="NAME",
    help='a theme you know ("anoikis resistance"): made first, named as given, with the papers that fit it '
    "(repeatable)",
)
@click.option(
    "--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="write a report file"
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default=None,
    help="report format (default: from --report's extension, else html)",
)
@_export_options("the themed papers, each tagged with its theme's label,")
@index_option
@_json_option
@_server_options
@click.pass_context
def themes(
    ctx: click.Context,
    k: int | None,
    method: str,
    refit: bool,
    within: int | None,
    seed_themes: tuple[str, ...],
    report_path: Path | None,
    fmt: str | None,
    export_path: Path | None,
    export_fmt: str | None,
    index: str | None,
    model: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Cluster the indexed papers into labelled themes (kept with the index; --refit to redo)."""
    if method == "hdbscan" and k is not None:
        click.echo("Note: hdbscan finds the number of themes itself; --k is ignored.", err=True)
    if report_path is not None and fmt is None and report_path.suffix.lower() not in REPORT_SUFFIXES:
        known = ", ".join(sorted(REPORT_SUFFIXES))
        raise click.UsageError(f"--report {report_path.name}: unknown extension; use {known} or give --format")
    if refit or report_path or export_path:
        if options.get("server"):
            raise click.UsageError("--refit, --report and --export run in this process: drop --server")
    else:  # a plain listing: a running server has the map at hand
        query = _present({"k": k, "method": method, "within": within, "seed_themes": list(seed_themes)})
        listed = _answered_remotely(ctx, index, model, options, "/themes", _record, query=query)
        if listed is not None:
            if as_json:
                _print_json(listed)
            else:
                _print_themes(_theme_map(listed))
            return
    service = _service(ctx, index, model)
    theme_map = service.themes(k, method=method, refit=refit, within=within, seed_themes=seed_themes)
    _export_also(service, export_path, export_fmt, themes=theme_map)
    if report_path is not None:
        chosen = fmt or REPORT_SUFFIXES[report_path.suffix.lower()]
        body = service.theme_report(k, method=method, within=within, fmt=chosen, seed_themes=seed_themes)
        report_path.write_text(body, encoding="utf-8")
        click.echo(f"Wrote {chosen} report to {report_path}", err=True)
    if as_json:
        _print_json(theme_map.to_dict())
    elif report_path is None:
        _print_themes(theme_map)


def _theme_map(answer: dict[str, Any]) -> ThemeMap:
    """A theme map from the server's JSON (its fields without the centres and map coordinates)."""
    from dataclasses import fields

    from .themes.map import ThemeMap

    known = {item.name for item in fields(ThemeMap)}
    return ThemeMap(**{key: value for key, value in answer.items() if key in known})


def _print_themes(report: ThemeMap, sample: int = 3) -> None:
    chosen = "" if report.silhouette is None else f" (chosen by silhouette {report.silhouette:.3f})"
    click.echo(f"{report.k} themes over {report.papers} papers{chosen}:")
    if report.view_weight is not None:
        share = "" if report.symbol_share is None else f"; {report.symbol_share:.1%} of words are symbols with a digit"
        click.echo(f"  views: related-papers graph {report.view_weight:.2f}, words {1 - report.view_weight:.2f}{share}")
    if report.changes:
        ended = report.changes["ended"]
        click.echo(
            f"  refitted: agreement with the previous map (ARI on {report.changes['papers_compared']} papers) "
            f"{report.changes['ari']:.2f}" + (f"; themes {ended} ended" if ended else "")
        )
    if report.unassigned:
        reasons = Counter(report.unassigned_reasons.get(paper, "no reason recorded") for paper in report.unassigned)
        click.echo(
            f"  {len(report.unassigned)} papers fit no theme: " + "; ".join(f"{n} {r}" for r, n in reasons.items())
        )
    if report.incremental:
        click.echo(f"  {len(report.incremental)} papers added since fitting were placed in the nearest theme.")
    for theme in report.themes:
        named = "  (named)" if theme.get("seed") else ""
        click.echo(f"\n  [{theme['id']}] {theme['label']}  ({theme['size']} papers){named}")
        if theme.get("seed") and not theme["size"]:
            click.echo("      no paper fits this name")
            continue
        click.echo(f"      terms: {', '.join(theme['terms']) or '(none within the label rule)'}")
        timeline = theme.get("timeline") or {}
        if timeline.get("counts"):
            trend = f", {timeline['trend']}" if timeline.get("trend") else ""
            click.echo(f"      years: {_years_line(timeline['counts'])}{trend}")
        for paper_id, title in list(zip(theme["papers"], theme["titles"], strict=True))[:sample]:
            click.echo(f"      - {paper_id}  {title}")
        if theme["size"] > sample:
            click.echo(f"      ... and {theme['size'] - sample} more")


def _years_line(counts: dict[str, int], shown: int = 6) -> str:
    """The most recent years' paper counts, "2021: 3, 2022: 5, ...", with earlier years summed."""
    years = list(counts.items())
    earlier = sum(count for _, count in years[:-shown])
    recent = ", ".join(f"{year}: {count}" for year, count in years[-shown:])
    return f"before {years[-shown][0]}: {earlier}, {recent}" if earlier else recent


def _input_file(flag: str, help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        flag, type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True, help=help_text
    )


@main.group()
def evaluate() -> None:
    """Measure quality on labelled data (nothing is written to your indexes)."""


@evaluate.command("retrieval")
@_input_file("--corpus", "papers, any ingestible format")
@_input_file("--queries", "JSONL with id and text")
@_input_file("--qrels", "TSV: query_id doc_id relevance")
@click.option(
    "--mode",
    "query_mode",
    type=click.Choice(["text", "paper"]),
    default="text",
    show_default=True,
    help="queries are free text, or ids of corpus papers (paper-to-paper relatedness)",
)
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="write dense.run, lexical.run, hybrid.run (TREC format, top 100)",
)
@click.option("--model", metavar="NAME_OR_PATH", default=None, help="model to evaluate (default: the bundled one)")
@_model_settings_options
@_json_option
@click.pass_context
def evaluate_retrieval(
    ctx: click.Context,
    corpus: Path,
    queries: Path,
    qrels: Path,
    query_mode: str,
    run_dir: Path | None,
    model: str | None,
    as_json: bool,
    **model_options: Any,
) -> None:
    """nDCG@10, Recall@100 and MAP of dense, lexical and hybrid ranking (scored with trec_eval)."""
    service = _service(ctx, None, model, model_options)
    result = service.evaluate_retrieval(corpus, queries, qrels, paper_mode=query_mode == "paper", run_dir=run_dir)
    if as_json:
        _print_json(result)
        return
    click.echo(
        f"{result['queries']} queries over {result['corpus']} papers, model {result['model']}, {query_mode} queries"
    )
    click.echo(f"{'mode':<9} {'nDCG@10':>8} {'R@100':>8} {'MAP':>8}")
    for mode, scores in result["modes"].items():
        click.echo(f"{mode:<9} {scores['ndcg@10']:>8.4f} {scores['recall@100']:>8.4f} {scores['map']:>8.4f}")
    if run_dir is not None:
        click.echo(f"Run files written to {run_dir}/", err=True)


@evaluate.command("clustering")
@_input_file("--corpus", "labelled papers (JSONL with labels, or any ingestible format)")
@click.option("--method", type=click.Choice(THEME_METHODS), default="spectral", show_default=True)
@click.option("--model", metavar="NAME_OR_PATH", default=None, help="model to evaluate (default: the bundled one)")
@_json_option
@click.pass_context
def evaluate_clustering(ctx: click.Context, corpus: Path, method: str, model: str | None, as_json: bool) -> None:
    """Themes of a labelled corpus (k = its number of labels) scored by NMI, ARI and V-measure, beside a
    TF-IDF + KMeans baseline computed in the same run. Papers without exactly one label are left out."""
    result = _service(ctx, None, model).evaluate_clustering(corpus, method=method)
    if as_json:
        _print_json(result)
        return
    click.echo(
        f"{result['n']} papers with one label ({result['left_out']} left out), k = {result['k']}, "
        f"method {result['method']}, model {result['embedding_model']}"
    )
    click.echo(f"{'':<22} {'NMI':>7} {'ARI':>7} {'V':>7}")
    for name, key in (("themes", "model"), ("TF-IDF + KMeans", "baseline"), ("TF-IDF + SVD + KMeans", "baseline_lsa")):
        scores = result[key]
        click.echo(f"{name:<22} {scores['nmi']:>7.4f} {scores['ari']:>7.4f} {scores['v_measure']:>7.4f}")


@main.command()
@index_option
@_json_option
@click.pass_context
def status(ctx: click.Context, index: str | None, model: str | None, as_json: bool) -> None:
    """Show the index's store size, current version and model."""
    service = _service(ctx, index, model)
    info = {**service.status(), "path": str(service.settings.index_path.resolve())}
    if as_json:
        _print_json(info)
    else:
        for key, value in info.items():
            click.echo(f"{key:>14}: {value}")
    if "problem" in info:
        ctx.exit(1)  # scripts can test the exit status; the problem is printed above


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="server worker threads")
@click.option(
    "--catch-up/--no-catch-up",
    default=True,
    show_default=True,
    help="on start, index papers that are stored but not yet indexed (e.g. after a crash)",
)
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    envvar="RECOMMENDER_LOG_FORMAT",
    help="request and error logs on stderr: one JSON object per line, or plain text. Env: RECOMMENDER_LOG_FORMAT.",
)
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(0, 3600),
    default=30.0,
    show_default=True,
    help="seconds a running index build may take to finish after SIGTERM/Ctrl+C before it is abandoned",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="a host name clients may use in the Host header (repeatable; '*' allows any; '.lab.org' allows "
    "subdomains); the --host, localhost, 127.0.0.1 and ::1 are always allowed. Env: RECOMMENDER_ALLOWED_HOSTS "
    "(comma-separated).",
)
@click.option(
    "--connection-limit",
    type=click.IntRange(10, 100_000),
    help="open connections at once (default 1000); more wait until one closes. Env: RECOMMENDER_CONNECTION_LIMIT.",
)
@click.option(
    "--channel-timeout",
    type=click.FloatRange(1, 3600),
    help="seconds an idle connection stays open (default 30). Env: RECOMMENDER_CHANNEL_TIMEOUT.",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(1, 3600),
    help="seconds a client may take to send a request's header (default 10), else 408. "
    "Env: RECOMMENDER_HEADER_TIMEOUT.",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(1, 3600),
    help="seconds a client may take to send a request's body (default 120), else 408. Env: RECOMMENDER_BODY_TIMEOUT.",
)
@index_option
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    threads: int,
    catch_up: bool,
    log_format: str,
    shutdown_timeout: float,
    allowed_hosts: tuple[str, ...],
    connection_limit: int | None,
    channel_timeout: float | None,
    header_timeout: float | None,
    body_timeout: float | None,
    index: str | None,
    model: str | None,
) -> None:
    """Serve the HTTP API with the waitress production WSGI server.

    SIGTERM or Ctrl+C stops it gracefully: no new connections, requests in flight finish (up to 5 s), and a
    running build gets --shutdown-timeout seconds; an abandoned build leaves the previous version current.
    Requests naming another host than the allowed ones get a 400 (DNS rebinding); the connection and timeout
    limits keep slow or numerous clients from taking the server (see recommender.web.server).
    """
    from .web import create_app
    from .web.guard import WILDCARD_BINDS
    from .web.observability import configure_logging
    from .web.server import run_server

    configure_logging(log_format, verbose=bool(ctx.find_root().params.get("verbose")))
    hosts = allowed_hosts or _settings(ctx, index, model).allowed_hosts
    if host not in WILDCARD_BINDS:
        hosts = (*hosts, host)
    service = _service(
        ctx,
        index,
        model,
        allowed_hosts=hosts,
        connection_limit=connection_limit,
        channel_timeout=channel_timeout,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
    )
    settings = service.settings
    app = create_app(service=service)
    if catch_up and (job := service.catch_up()) is not None:
        click.echo(f"The store holds papers the index lacks: catching up in job {job.id}.", err=True)
    click.echo(f"Serving index '{settings.index_name}' on http://{host}:{port} (Ctrl+C to stop)", err=True)
    run_server(app, host=host, port=port, threads=threads, shutdown_timeout=shutdown_timeout)


@main.command()
@click.option("--index", "index", default=DEMO_INDEX, show_default=True, metavar="NAME", help="index to (re)build")
@click.pass_context
def demo(ctx: click.Context, index: str) -> None:
    """Build an index from the bundled synthetic demo corpus, then show related papers and themes."""
    service = _service(ctx, index, None)
    corpus = resources.files("recommender") / "demo" / "corpus.jsonl"
    with resources.as_file(corpus) as path:
        report = service.ingest([path])
    click.echo(f"Ingested {report.read} synthetic demo papers into index '{index}'.")
    manifest = service.build()
    click.echo(f"Built version {manifest.build_id} with {manifest.model} ({manifest.dimension}-d).\n")
    first = report.papers[0]["id"]
    paper = service.show(first)
    click.echo(f"Papers related to {first}: {paper.title}")
    _print_hits(service.related(first, 5), as_json=False)
    click.echo("")
    _print_themes(service.themes())
    sys.stdout.flush()


register_collections(main, index_option, _json_option, _service, _print_json)
