"""The index built from the stored papers: ``build``, ``embed-ray``, ``versions``, ``rollback``, ``status``
and ``models`` (the profiles a build can use).

Each build is a new version made current atomically; these commands make, list, inspect and restore them.
The façade's answers are typed (:class:`~recommender.versions.VersionInfo`,
:class:`~recommender.health.Status`, :class:`~recommender.distributed.RaySummary`): the text output reads
their attributes, so a renamed field is a type error rather than a KeyError at the terminal, and ``--json``
prints their ``to_dict()``, the same JSON the HTTP API answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..model_profiles import PROFILES
from ..settings import INDEX_KINDS
from .common import index_option, json_option, model_settings_options, print_json, service_of

if TYPE_CHECKING:
    from ..versions import VersionInfo


@click.command()
@index_option
@model_settings_options
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
@json_option
@click.pass_context
def build(
    ctx: click.Context,
    /,
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
    service = service_of(ctx, index, model, model_options, index_kind=index_kind)
    manifest = service.build(full=full, embeddings=embeddings)
    if as_json:
        print_json(manifest.model_dump())
        return
    recall = f", recall@10 {manifest.recall_at_10:.3f} vs exact" if manifest.recall_at_10 is not None else ""
    click.echo(
        f"Built index '{service.settings.index_name}' version {manifest.build_id}: {manifest.count} papers "
        f"({manifest.embedded} embedded, {manifest.reused} from the cache), model {manifest.model} "
        f"({manifest.dimension}-d), {manifest.index_type} index{recall}."
    )
    if manifest.truncated:
        window = f"{manifest.max_seq_length}-token window" if manifest.max_seq_length else "token window"
        click.echo(
            f"{manifest.truncated} of {manifest.count} papers are longer than the model's {window}: their "
            "dense vectors use the title and the start of the abstract; BM25 uses the whole text.",
            err=True,
        )


@click.command("embed-ray")
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
@model_settings_options
@json_option
@click.pass_context
def embed_ray(
    ctx: click.Context,
    /,
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
    service = service_of(ctx, index, model, model_options)
    summary = service.embed_with_ray(inputs, out_dir, workers=workers, address=address, overwrite=overwrite)
    if as_json:
        print_json(summary.to_dict())
        return
    click.echo(
        f"Embedded {summary.embedded} papers ({summary.skipped} lines skipped) with {summary.model} on "
        f"{summary.workers} Ray worker(s) in {summary.seconds} s: {summary.shards} shard file(s) in "
        f"{summary.out_dir}.\nNext: recommender build --embeddings {summary.out_dir}"
    )


@click.command()
@index_option
@json_option
@click.pass_context
def versions(ctx: click.Context, index: str | None, model: str | None, as_json: bool) -> None:
    """List the kept index versions, oldest first; '*' marks the current one."""
    listed = service_of(ctx, index, model).list_versions()
    if as_json:
        print_json([entry.to_dict() for entry in listed])
        return
    if not listed:
        click.echo("No built version yet; run `recommender build`.")
    for entry in listed:
        click.echo(_version_line(entry))


def _version_line(entry: VersionInfo) -> str:
    """One version: '*' if current, id, date, size, model, index kind, recall and, for a delta, what it adds."""
    mark = "*" if entry.current else " "
    manifest = entry.manifest
    if manifest is None:
        return f"{mark} {entry.id}  UNUSABLE: {entry.problem}"
    recall = f", recall@10 {manifest.recall_at_10:.3f}" if manifest.recall_at_10 is not None else ""
    delta = manifest.delta  # the manifest's own section: papers it adds, base papers it hides
    stacked = f"  (+{delta.get('papers', 0)} -{delta.get('hidden', 0)} on {manifest.base})" if manifest.base else ""
    return (
        f"{mark} {entry.id}  {manifest.built_at}  {manifest.count} papers  {manifest.model}  "
        f"{manifest.index_type}{recall}{stacked}"
    )


@click.command()
@index_option
@click.option("--to", "to", default=None, metavar="VERSION", help="version id (default: the one before the current)")
@click.pass_context
def rollback(ctx: click.Context, index: str | None, model: str | None, to: str | None) -> None:
    """Make an earlier kept version current again (the stored papers are not changed)."""
    manifest = service_of(ctx, index, model).rollback(to)
    click.echo(f"Version {manifest.build_id} ({manifest.count} papers, built {manifest.built_at}) is now current.")


@click.command()
@index_option
@json_option
@click.pass_context
def status(ctx: click.Context, index: str | None, model: str | None, as_json: bool) -> None:
    """Show the index's store size, current version and model."""
    service = service_of(ctx, index, model)
    found = service.status()
    info = {**found.to_dict(), "path": str(service.settings.index_path.resolve())}
    if as_json:
        print_json(info)
    else:
        for key, value in info.items():
            click.echo(f"{key:>14}: {value}")
    if found.problem is not None:
        ctx.exit(1)  # scripts can test the exit status; the problem is printed above


@click.command()
@json_option
def models(as_json: bool) -> None:
    """List the ready-made model profiles (usable with --model NAME wherever the model is reachable)."""
    if as_json:
        print_json([profile.to_dict() for profile in PROFILES.values()])
        return
    for profile in PROFILES.values():
        click.echo(f"{profile.name}\n    {profile.description}")
        defaults = (None, "", "title_abstract", "torch")
        details = {key: value for key, value in profile.settings().items() if value not in defaults}
        click.echo("    " + ", ".join(f"{key}={value}" for key, value in details.items()))


#: This module's commands, registered on the root group by the package.
COMMANDS = (build, embed_ray, versions, rollback, status, models)
