"""``xl-lazada sandbox``: run the local Lazada-compatible API server with a simulated shop."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click

from ..config import (
    ENV_ACCESS_TOKEN,
    ENV_APP_KEY,
    ENV_APP_SECRET,
    ENV_BASE_URL,
    ENV_REFRESH_TOKEN,
    ENV_VENTURE,
)
from ..lazada.ventures import VENTURES

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _rate(name: str):
    return click.option(
        f"--{name}-rate",
        type=click.FloatRange(0.0, 1.0),
        default=0.0,
        show_default=True,
        help=f"Share of API calls answered with an injected {name} fault.",
    )


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--orders",
    type=click.IntRange(1, 1_000_000),
    default=3000,
    show_default=True,
    help="Orders in the generated shop.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed for the generated shop.")
@click.option(
    "--venture",
    type=click.Choice(sorted(VENTURES), case_sensitive=False),
    default="MY",
    show_default=True,
    help="Country the shop sells into.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(0.0),
    default=0.0,
    show_default=True,
    help="Delay added to every API call.",
)
@click.option(
    "--qps",
    type=float,
    default=20.0,
    show_default=True,
    help="Calls per second allowed per API path (0 = unlimited).",
)
@_rate("throttle")
@_rate("error")
@_rate("timeout")
@_rate("malformed")
@click.option(
    "--clock-speed",
    type=click.FloatRange(0.0),
    default=60.0,
    show_default=True,
    help="Simulated seconds per real second (60: a real second is a shop minute).",
)
@click.option(
    "--token-ttl",
    type=click.FloatRange(1.0),
    default=7 * 86400.0,
    show_default=True,
    help="Access token lifetime in real seconds.",
)
@click.option(
    "--load",
    "load",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve a dataset saved with --export instead of generating one.",
)
@click.option(
    "--export",
    "export",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the dataset to FILE and exit without serving.",
)
@click.option(
    "--representation",
    type=click.Choice(["documented", "varied"]),
    default="documented",
    show_default=True,
    help="Answer in Lazada's documented shapes, or also vary them (numbers/strings, "
    "missing and extra keys, module/data) to test a client's tolerance.",
)
@click.option(
    "--representation-seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed for --representation varied.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON line (base_url, app_key, app_secret, tokens) on start.",
)
def sandbox(
    host: str,
    port: int,
    orders: int,
    seed: int,
    venture: str,
    latency_ms: float,
    qps: float,
    throttle_rate: float,
    error_rate: float,
    timeout_rate: float,
    malformed_rate: float,
    clock_speed: float,
    token_ttl: float,
    load: Path | None,
    export: Path | None,
    representation: str,
    representation_seed: int,
    as_json: bool,
) -> None:
    """Serve a Lazada-compatible API on this computer, over a realistic simulated shop.

    The credentials it prints are the sandbox's own; they work nowhere else.
    """
    from ..sandbox.faults import Faults
    from ..sandbox.server import SandboxServer
    from ..sandbox.shop import Shop

    if export is not None:
        shop = (
            Shop.from_json(load)
            if load
            else Shop.generate(seed=seed, orders=orders, venture=venture.upper())
        )
        shop.to_json(export)
        if not as_json:
            click.echo(f"wrote the sandbox dataset to {export}")
        else:
            click.echo(json.dumps({"export": str(export)}))
        return

    try:
        faults = Faults(
            throttle_rate=throttle_rate,
            error_rate=error_rate,
            timeout_rate=timeout_rate,
            malformed_rate=malformed_rate,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

    if host not in _LOOPBACK:
        click.echo(
            f"warning: binding {host}; the API answers other machines (admin stays loopback-only)",
            err=True,
        )
    try:
        server = SandboxServer(
            orders=orders,
            seed=seed,
            venture=venture.upper(),
            clock_speed=clock_speed,
            qps=qps,
            faults=faults,
            latency_ms=latency_ms,
            load=load,
            token_ttl=token_ttl,
            host=host,
            port=port,
            representation=representation,
            representation_seed=representation_seed,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if load is None:
            raise
        # A hand-edited, truncated or foreign file: say which, not a traceback.
        raise click.ClickException(
            f"cannot load {load}: not a scenario saved by `xl-lazada sandbox --export` "
            f"({type(exc).__name__})"
        ) from None
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    token = server.issue_token()
    info = {
        "base_url": server.base_url,
        "app_key": server.app_key,
        "app_secret": server.app_secret,
        "access_token": token["access_token"],
        "refresh_token": token["refresh_token"],
    }
    if as_json:
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
    else:
        _print_banner(server, info)

    stop = threading.Event()

    def _on_signal(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    try:
        server.serve_forever(stop)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        if not as_json:
            click.echo("sandbox stopped", err=True)


def _print_banner(server, info: dict[str, str]) -> None:
    """What a user needs to point the product (or curl) at this sandbox."""
    shop = server.shop
    click.echo(
        f"Lazada sandbox ({shop.venture.code}, seller {shop.seller_profile().get('name', '')})"
    )
    click.echo(f"  base URL      {info['base_url']}")
    click.echo(f"  app key       {info['app_key']}")
    click.echo(f"  app secret    {info['app_secret']}")
    click.echo(f"  access token  {info['access_token']}")
    click.echo(f"  refresh token {info['refresh_token']}")
    click.echo(f"  OAuth page    {server.url}/oauth/authorize  (approves at once)")
    click.echo(f"  admin         {server.url}/_sandbox/info")
    click.echo("")
    click.echo("Paste into a shell to use it:")
    for name, value in (
        (ENV_BASE_URL, info["base_url"]),
        (ENV_APP_KEY, info["app_key"]),
        (ENV_APP_SECRET, info["app_secret"]),
        (ENV_ACCESS_TOKEN, info["access_token"]),
        (ENV_REFRESH_TOKEN, info["refresh_token"]),
        (ENV_VENTURE, shop.venture.code),
    ):
        click.echo(f"export {name}={value}")
    click.echo("")
    click.echo("Serving; press Ctrl-C to stop.")
