"""``xl-lazada login`` (authorise a shop, save its profile) and ``xl-lazada shops`` (list them).

Secrets are never command-line arguments: the app secret comes from
``XL_LAZADA_APP_SECRET``, a hidden prompt, or (a script) the first line piped in; the OAuth
code is pasted at a prompt.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace

import click

from ..config import ENV_APP_SECRET, ConfigError, Connection, check_url, connection_from_env
from ..lazada.client import LazadaClient
from ..lazada.errors import one_line
from ..lazada.token_store import ShopSecrets, TokenStore
from ..lazada.tokens import authorize_base, authorize_url, code_from_redirect, exchange_code
from ..lazada.ventures import AUTH_URL, VENTURES
from ..profiles import (
    Profile,
    check_name,
    expiry_text,
    list_profiles,
    profile_health,
    save_profile,
)
from ..secret import Secret


@click.command()
@click.option("--name", help="Name for this shop profile (default: the seller's short code).")
@click.option(
    "--venture",
    envvar="XL_LAZADA_VENTURE",
    type=click.Choice(sorted(VENTURES), case_sensitive=False),
    default="MY",
    show_default=True,
    help="The Lazada country the shop sells in.",
)
@click.option(
    "--base-url",
    envvar="XL_LAZADA_BASE_URL",
    help="API gateway (default: the venture's). Use the sandbox's URL to try things out.",
)
@click.option(
    "--auth-url",
    envvar="XL_LAZADA_AUTH_URL",
    help="Auth host (default: Lazada's; with --base-url, that same server).",
)
@click.option(
    "--app-key", envvar="XL_LAZADA_APP_KEY", help="Your app's key (Lazada Open Platform)."
)
@click.option(
    "--redirect-uri",
    help="The callback URL registered for your app (Lazada sends the seller back there).",
)
@click.option(
    "--default/--no-default", "make_default", default=False, help="Make it the default shop."
)
def login(
    name: str | None,
    venture: str,
    base_url: str | None,
    auth_url: str | None,
    app_key: str | None,
    redirect_uri: str | None,
    make_default: bool,
) -> None:
    """Authorise a Lazada shop and save it as a profile (secrets go to the keyring)."""
    if name:
        name = check_name(name)
    code = venture.upper()
    base = check_url("--base-url", (base_url or VENTURES[code].base_url).strip().rstrip("/"))
    auth = check_url(
        "--auth-url", (auth_url or (base if base_url else AUTH_URL)).strip().rstrip("/")
    )
    key = (app_key or click.prompt("App key")).strip()
    secret = os.environ.get(ENV_APP_SECRET, "").strip()
    if not secret and not sys.stdin.isatty():
        # Piped in (a script): read from the pipe. A hidden prompt would read the terminal
        # instead when there is one, and warn about echo when there is not.
        secret = sys.stdin.readline().strip()
    elif not secret:
        secret = click.prompt("App secret", hide_input=True).strip()
    if not key or not secret:
        raise click.UsageError("the app key and app secret are both needed")
    redirect = (redirect_uri or click.prompt("Redirect URL registered for the app")).strip()

    conn = Connection(
        base_url=base,
        app_key=key,
        app_secret=Secret(secret),
        venture=code,
        auth_url=auth,
        shop=name or "login",
    )
    click.echo("Open this address, sign in as the seller and approve the app:")
    click.echo("  " + authorize_url(key, redirect, base=authorize_base(auth)))
    pasted = click.prompt("Paste the address you were sent back to (or just the code)")
    try:
        oauth_code = code_from_redirect(pasted)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

    with LazadaClient(conn) as client:
        token = exchange_code(client, oauth_code)
    conn = replace(conn, access_token=token.access_token, refresh_token=token.refresh_token)
    with LazadaClient(conn, token=token) as client:
        seller = client.seller()

    profile_name = check_name(name or seller.short_code or seller.seller_id or "shop")
    store = TokenStore()
    store.save(profile_name, ShopSecrets(Secret(secret), token))
    profile = Profile(
        name=profile_name,
        venture=code,
        base_url=base,
        app_key=key,
        auth_url=auth,
        seller_id=seller.seller_id,
        short_code=seller.short_code,
        seller_name=seller.name,
    )
    profile.note_token(token)
    save_profile(profile, make_default=make_default)
    click.echo(
        f"Saved shop {profile_name!r}: {click.style(one_line(seller.name) or '?', bold=True)} "
        f"(seller id {seller.seller_id or '?'}, {code}); secrets in the {store.backend} store."
    )
    click.echo(f"Access token valid until {expiry_text(profile.token_expires_at)}.")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per shop, one per line.")
def shops(as_json: bool) -> None:
    """List saved shop profiles and when their tokens expire (never the secrets)."""
    try:
        env = connection_from_env()
    except ConfigError:
        env = None
    profiles, default = list_profiles()
    if as_json:
        for p in profiles:
            row = {
                "name": p.name,
                "default": p.name == default,
                "venture": p.venture,
                "seller_name": p.seller_name,
                "seller_id": p.seller_id,
                "short_code": p.short_code,
                "app_key": p.app_key,
                "base_url": p.base_url,
                "token_expires_at": p.token_expires_at,
                "refresh_expires_at": p.refresh_expires_at,
                "login_health": profile_health(p).level,
                "login_days_left": profile_health(p).days_left,
            }
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not profiles:
        click.echo("No shops saved yet: run `xl-lazada login`.")
    for p in profiles:
        mark = "*" if p.name == default else " "
        click.echo(
            f"{mark} {p.name}  [{p.venture}]  {one_line(p.seller_name)} (seller id {p.seller_id or '?'})"
        )
        click.echo(f"    gateway {p.base_url}  app key {p.app_key}")
        click.echo(f"    access token until {expiry_text(p.token_expires_at)}")
        click.echo(f"    refresh token until {expiry_text(p.refresh_expires_at)}")
        health = profile_health(p)
        if health.needs_login:
            click.echo(f"    WARNING: {health.message}")
    if env is not None:
        click.echo(
            "Note: XL_LAZADA_* variables are set, so commands use them instead of these profiles."
        )
