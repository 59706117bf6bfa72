"""Where a query is answered: by a running server of the same index, or in this process.

A cold process pays a second or more to load the index; a server already has it in memory. The query
commands (``related``, ``search``, ``recommend``, ``show``, a ``themes`` listing) ask here first and answer
locally only when this gives None. The HTTP client itself is :mod:`recommender.remote`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .common import settings_of

if TYPE_CHECKING:
    from ..hit import Hit

#: The root command's ranking options: a server ranks with its own, so any of them means answering here.
RANKING = ("fusion", "text_weight", "paper_weight")

# The logger of the command line as a whole ("recommender.cli"), so that -v prints what it did before the split.
_log = logging.getLogger(__package__)


def server_options(function: Callable[..., Any]) -> Callable[..., Any]:
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
    from .. import remote

    if options.get("server"):
        if options.get("export_path") is not None:
            raise click.UsageError("--export writes from the local index: drop --server, or export on the server")
        return remote.check_url(options["server"])
    root = ctx.find_root().params
    if model or options.get("export_path") is not None or any(root.get(name) is not None for name in RANKING):
        return None
    return remote.find(settings_of(ctx, index, None).index_path)


def read_hits(url: str, answer: Any) -> list[Hit]:
    """A server's answer to a query, as hits."""
    from .. import remote
    from ..hit import Hit

    if not isinstance(answer, list):
        raise remote.ServerUnavailableError(f"the server at {url} answered something other than a list of hits")
    return [Hit.from_dict(record) for record in answer if isinstance(record, dict)]


def read_record(url: str, answer: Any) -> Any:
    """A server's answer that must be a JSON object (a paper, a theme map)."""
    from .. import remote

    if not isinstance(answer, dict):
        raise remote.ServerUnavailableError(f"the server at {url} answered something other than a JSON object")
    return answer


def _checked(read: Callable[[str, Any], Any], url: str, answer: Any) -> Any:
    """``read(url, answer)``, a malformed answer counting as an unavailable server: it is not trusted."""
    from .. import remote

    try:
        return read(url, answer)
    except (TypeError, ValueError, KeyError) as error:
        raise remote.ServerUnavailableError(f"the server at {url} answered something unreadable: {error}") from None


def answered_remotely(
    ctx: click.Context,
    index: str | None,
    model: str | None,
    options: dict[str, Any],
    path: str,
    read: Callable[[str, Any], Any] = read_hits,
    **request: Any,
) -> Any:
    """A server's answer (explicit, or found and working), as ``read`` makes it, or None to answer locally. A
    found server that fails is skipped with a note on stderr; an explicit one that fails is the user's error."""
    url = _server_for(ctx, index, model, options)
    if url is None:
        return None
    from .. import remote

    try:
        answer = _checked(read, url, remote.request(url, path, **request))
    except remote.ServerUnavailableError as error:
        if options.get("server"):
            raise
        click.echo(f"Note: {error.message}; answering here.", err=True)
        return None
    _log.info("answered by the server at %s", url)
    return answer


def present(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without the unset ones (None or an empty list), which the server fills with its defaults."""
    return {key: value for key, value in values.items() if value is not None and value != []}
