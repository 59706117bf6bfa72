"""``recommender themes``: cluster the indexed papers into labelled themes, and print a theme map.

The map's printing lives here with the command because ``demo`` prints one too; a plain listing is
answered by a running server when there is one (:mod:`.remote_answers`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..themes import METHODS as THEME_METHODS
from ..themes import REPORT_FORMATS, REPORT_SUFFIXES
from .common import export_also, export_options, index_option, json_option, print_json, service_of
from .remote_answers import answered_remotely, present, read_record, server_options

if TYPE_CHECKING:
    from ..themes import FittedThemes


@click.command()
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
@export_options("the themed papers, each tagged with its theme's label,")
@index_option
@json_option
@server_options
@click.pass_context
def themes(
    ctx: click.Context,
    /,
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
        query = present({"k": k, "method": method, "within": within, "seed_themes": list(seed_themes)})
        listed = answered_remotely(ctx, index, model, options, "/themes", _read_themes, query=query)
        if listed is not None:
            if as_json:
                print_json(listed)
            else:
                print_themes(_theme_map(listed))
            return
    service = service_of(ctx, index, model)
    theme_map = service.themes(k, method=method, refit=refit, within=within, seed_themes=seed_themes)
    export_also(service, export_path, export_fmt, themes=theme_map)
    if report_path is not None:
        chosen = fmt or REPORT_SUFFIXES[report_path.suffix.lower()]
        body = service.theme_report(k, method=method, within=within, fmt=chosen, seed_themes=seed_themes)
        report_path.write_text(body, encoding="utf-8")
        click.echo(f"Wrote {chosen} report to {report_path}", err=True)
    if as_json:
        print_json(theme_map.to_dict())
    elif report_path is None:
        print_themes(theme_map)


def _read_themes(url: str, answer: Any) -> dict[str, Any]:
    """A server's theme listing, checked to be one (its shape, as :func:`_theme_map` reads it)."""
    record = read_record(url, answer)
    _theme_map(record)
    return record


def _theme_map(answer: dict[str, Any]) -> FittedThemes:
    """A theme map from the server's JSON (its fields without the centres and map coordinates). A server's
    answer is not trusted: its shape is checked (:meth:`~recommender.themes.fitted.FittedThemes.from_dict`)."""
    from ..themes.fitted import FittedThemes

    found = FittedThemes.from_dict(answer)
    if not (isinstance(found.k, int) and isinstance(found.papers, int)):
        raise ValueError("a theme map of an unexpected shape")
    return found


def print_themes(report: FittedThemes, sample: int = 3) -> None:
    """A theme map for a terminal: how it was made, then each theme with its terms, years and first papers."""
    chosen = "" if report.silhouette is None else f" (chosen by silhouette {report.silhouette:.3f})"
    click.echo(f"{report.k} themes over {report.papers} papers{chosen}:")
    if report.view_weight is not None:
        share = "" if report.symbol_share is None else f"; {report.symbol_share:.1%} of words are symbols with a digit"
        click.echo(f"  views: related-papers graph {report.view_weight:.2f}, words {1 - report.view_weight:.2f}{share}")
    if report.changes:
        ended = report.changes.ended
        click.echo(
            f"  refitted: agreement with the previous map (ARI on {report.changes.papers_compared} papers) "
            f"{report.changes.ari:.2f}" + (f"; themes {ended} ended" if ended else "")
        )
    if report.unassigned:
        reasons = Counter(report.unassigned_reasons.get(paper, "no reason recorded") for paper in report.unassigned)
        click.echo(
            f"  {len(report.unassigned)} papers fit no theme: " + "; ".join(f"{n} {r}" for r, n in reasons.items())
        )
    if report.incremental:
        click.echo(f"  {len(report.incremental)} papers added since fitting were placed in the nearest theme.")
    for theme in report.themes:
        named = "  (named)" if theme.seed else ""
        click.echo(f"\n  [{theme.id}] {theme.label}  ({theme.size} papers){named}")
        if theme.seed and not theme.size:
            click.echo("      no paper fits this name")
            continue
        click.echo(f"      terms: {', '.join(theme.terms) or '(none within the label rule)'}")
        timeline = theme.timeline
        if timeline is not None and timeline.counts:
            trend = f", {timeline.trend}" if timeline.trend else ""
            click.echo(f"      years: {_years_line(timeline.counts)}{trend}")
        for paper_id, title in list(zip(theme.papers, theme.titles, strict=True))[:sample]:
            click.echo(f"      - {paper_id}  {title}")
        if theme.size > sample:
            click.echo(f"      ... and {theme.size - sample} more")


def _years_line(counts: dict[str, int], shown: int = 6) -> str:
    """The most recent years' paper counts, "2021: 3, 2022: 5, ...", with earlier years summed."""
    years = list(counts.items())
    earlier = sum(count for _, count in years[:-shown])
    recent = ", ".join(f"{year}: {count}" for year, count in years[-shown:])
    return f"before {years[-shown][0]}: {earlier}, {recent}" if earlier else recent


#: This module's commands, registered on the root group by the package.
COMMANDS = (themes,)
