"""What every command shares: the façade for this invocation, the --index/--model and --json options, JSON
printing, the model-setting overrides and the --export plumbing.

Kept apart from the command modules so that each of them imports these from one place (none imports
another command module for them), and kept light: the service, numpy and the model are imported only when
a command asks for the façade.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..export import FORMATS as EXPORT_FORMATS
from ..export import export_format, write_export
from ..model_profiles import BACKENDS, POOLING_MODES, TEXT_FORMATS
from ..settings import Settings

if TYPE_CHECKING:  # the service (numpy, FAISS, pydantic) is imported when a command needs it
    from ..service import Recommender

#: What a click decorator takes and gives back.
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def settings_of(ctx: click.Context, index: str | None, model: str | None) -> Settings:
    """The settings of this invocation: the environment, overridden by the root command's global options."""
    root = ctx.find_root().params
    return Settings.from_env(
        index_dir=root.get("index_dir"),
        index_name=index,
        model=model,
        fusion=root.get("fusion"),
        text_weight=root.get("text_weight"),
        paper_weight=root.get("paper_weight"),
    )


def service_of(
    ctx: click.Context,
    index: str | None,
    model: str | None,
    model_options: dict[str, Any] | None = None,
    **overrides: Any,
) -> Recommender:
    """The façade for this invocation. ``ctx.obj["embedder_factory"]`` lets tests supply the model."""
    from ..service import Recommender, default_embedder_factory

    options = ctx.find_root().obj or {}
    factory = options.get("embedder_factory", default_embedder_factory)
    settings = settings_of(ctx, index, model)
    given = {key: value for key, value in overrides.items() if value is not None}
    if given:
        settings = dataclasses.replace(settings, **given)
    if model_options:
        settings = dataclasses.replace(
            settings, model_options={k: v for k, v in model_options.items() if v is not None}
        )
    return Recommender(settings, embedder_factory=factory)


def index_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """--index NAME and --model: which index a command works on, and with which model."""
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


def model_settings_options(function: Callable[..., Any]) -> Callable[..., Any]:
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


def json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """--json: the answer as JSON on stdout alone, so it can be piped."""
    return click.option("--json", "as_json", is_flag=True, help="print JSON on stdout")(function)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def export_options(what: str) -> Decorator:
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


def export_also(service: Recommender, path: Path | None, fmt: str | None, **selection: Any) -> None:
    """With --export, write the selected papers (atomically) and say how many, on stderr."""
    if path is None:
        return
    chosen = export_format(fmt, path)
    count = write_export(path, lambda out: service.export(chosen, out, **selection))
    click.echo(f"Exported {count} paper{'s' if count != 1 else ''} as {chosen} to {path}.", err=True)
