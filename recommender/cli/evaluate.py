"""``recommender evaluate``: quality measured on labelled data, on a throwaway index (yours are untouched).

Two subcommands, retrieval (TREC-style qrels) and clustering (labelled papers); the scores come from
:mod:`recommender.evaluation` as typed results (:class:`~recommender.evaluation.RetrievalEvaluation`,
:class:`~recommender.evaluation.ClusteringEvaluation`), printed from their attributes or, with ``--json``,
as their ``to_dict()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..themes import METHODS as THEME_METHODS
from .common import Decorator, json_option, model_settings_options, print_json, service_of

if TYPE_CHECKING:  # scikit-learn and pytrec_eval are imported when an evaluation runs
    from ..evaluation import ClusteringScores


def _input_file(flag: str, help_text: str) -> Decorator:
    """A required option naming an existing file (the evaluation's inputs)."""
    return click.option(
        flag, type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True, help=help_text
    )


@click.group()
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
@model_settings_options
@json_option
@click.pass_context
def evaluate_retrieval(
    ctx: click.Context,
    /,
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
    service = service_of(ctx, None, model, model_options)
    result = service.evaluate_retrieval(corpus, queries, qrels, paper_mode=query_mode == "paper", run_dir=run_dir)
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(f"{result.queries} queries over {result.corpus} papers, model {result.model}, {query_mode} queries")
    click.echo(f"{'mode':<9} {'nDCG@10':>8} {'R@100':>8} {'MAP':>8}")
    for mode, scores in result.modes.items():
        click.echo(f"{mode:<9} {scores.ndcg_at_10:>8.4f} {scores.recall_at_100:>8.4f} {scores.map:>8.4f}")
    if run_dir is not None:
        click.echo(f"Run files written to {run_dir}/", err=True)


@evaluate.command("clustering")
@_input_file("--corpus", "labelled papers (JSONL with labels, or any ingestible format)")
@click.option("--method", type=click.Choice(THEME_METHODS), default="spectral", show_default=True)
@click.option("--model", metavar="NAME_OR_PATH", default=None, help="model to evaluate (default: the bundled one)")
@json_option
@click.pass_context
def evaluate_clustering(ctx: click.Context, corpus: Path, method: str, model: str | None, as_json: bool) -> None:
    """Themes of a labelled corpus (k = its number of labels) scored by NMI, ARI and V-measure, beside two
    lexical baselines computed in the same run: TF-IDF + KMeans, and TF-IDF (words and two-word phrases) +
    SVD + KMeans. Papers without exactly one label are left out."""
    result = service_of(ctx, None, model).evaluate_clustering(corpus, method=method)
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(
        f"{result.n} papers with one label ({result.left_out} left out), k = {result.k}, "
        f"method {result.method}, model {result.embedding_model}"
    )
    click.echo(f"{'':<22} {'NMI':>7} {'ARI':>7} {'V':>7}")
    rows: tuple[tuple[str, ClusteringScores], ...] = (
        ("themes", result.themes),
        ("TF-IDF + KMeans", result.baseline),
        ("TF-IDF + SVD + KMeans", result.baseline_lsa),
    )
    for name, scores in rows:
        click.echo(f"{name:<22} {scores.nmi:>7.4f} {scores.ari:>7.4f} {scores.v_measure:>7.4f}")


#: This module's commands, registered on the root group by the package.
COMMANDS = (evaluate,)
