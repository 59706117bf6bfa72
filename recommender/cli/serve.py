"""``recommender serve``: the HTTP API behind the waitress production server.

Its options are the server's limits (threads, connections, timeouts, allowed hosts); the app itself is
:mod:`recommender.web`, imported only when this command runs.
"""

from __future__ import annotations

import click

from .common import index_option, service_of, settings_of


@click.command()
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
    type=click.Choice(["auto", "json", "text"]),
    default="auto",
    show_default=True,
    envvar="RECOMMENDER_LOG_FORMAT",
    help="request and error logs on stderr: one JSON object per line, or plain text; auto: text on a terminal, "
    "JSON otherwise (log collectors). Env: RECOMMENDER_LOG_FORMAT.",
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
    from ..web import create_app
    from ..web.guard import WILDCARD_BINDS
    from ..web.observability import configure_logging
    from ..web.server import run_server

    configure_logging(log_format, verbose=bool(ctx.find_root().params.get("verbose")))
    hosts = allowed_hosts or settings_of(ctx, index, model).allowed_hosts
    if host not in WILDCARD_BINDS:
        hosts = (*hosts, host)
    service = service_of(
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


#: This module's commands, registered on the root group by the package.
COMMANDS = (serve,)
