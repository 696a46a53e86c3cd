"""Tokens: the model, refresh timing and locking, the secret store, profiles and ``login``."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from xl_lazada import profiles
from xl_lazada.config import ConfigError, Connection
from xl_lazada.lazada import errors as E
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.retry import NO_RETRY
from xl_lazada.lazada.token_store import ShopSecrets, TokenStore, TokenStoreError
from xl_lazada.lazada.tokens import Token, authorize_base, authorize_url, code_from_redirect
from xl_lazada.secret import Secret

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

CREATE_ANSWER = {
    "access_token": "50000601c30atpedfgu3LVvik87Ixlsvle3mSoB7701ceb156fPunYZ43GBg",
    "refresh_token": "500016000300bwa2WteaQyfwBMnPxurcA0mXGhQdTt18356663CfcDTYpWoi",
    "expires_in": 604800,
    "refresh_expires_in": 2592000,
    "country": "cb",
    "account": "seller@example.com",
    "account_platform": "seller_center",
    "country_user_info": [
        {"country": "my", "user_id": "100", "seller_id": "1001", "short_code": "MY1AB"},
        {"country": "sg", "user_id": "200", "seller_id": "2002", "short_code": "SG2CD"},
    ],
    "code": "0",
    "request_id": "0ba2887315178178017221014",
}


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private data dir, no XL_LAZADA_* connection variables, no OS keyring."""
    for name in list(os.environ):
        if name.startswith("XL_LAZADA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XL_LAZADA_KEYRING", "file")
    return tmp_path / "data"


def token(expires_in: float, issued: datetime = T0, refresh_in: float = 30 * 86400) -> Token:
    body = dict(CREATE_ANSWER, expires_in=expires_in, refresh_expires_in=refresh_in)
    return Token.from_wire(body, issued)


# -- the model ----------------------------------------------------------------------------
def test_token_from_create_and_refresh_answers() -> None:
    tok = Token.from_wire(CREATE_ANSWER, T0)
    assert tok.access_token.reveal() == CREATE_ANSWER["access_token"]
    assert tok.expires_at == T0 + timedelta(days=7)
    assert tok.refresh_expires_at == T0 + timedelta(days=30)
    assert tok.country == "cb" and tok.account == "seller@example.com"
    assert tok.seller_for("MY").seller_id == "1001" and tok.seller_for("sg").short_code == "SG2CD"
    refreshed = dict(CREATE_ANSWER)
    refreshed["country_user_info_list"] = refreshed.pop("country_user_info")
    assert Token.from_wire(refreshed, T0).sellers == tok.sellers
    assert Token.from_dict(tok.to_dict()) == tok
    text = repr(tok) + str(tok)
    assert CREATE_ANSWER["access_token"] not in text and CREATE_ANSWER["refresh_token"] not in text


def test_token_answer_without_tokens_is_a_format_error() -> None:
    with pytest.raises(E.ResponseFormatError):
        Token.from_wire({"code": "0", "expires_in": 10})
    with pytest.raises(E.ResponseFormatError):
        Token.from_wire(dict(CREATE_ANSWER, expires_in="soon"))


def test_refresh_is_due_48h_before_expiry_capped_at_half_the_lifetime() -> None:
    week = token(7 * 86400)
    assert week.refresh_due_at() == T0 + timedelta(days=5)
    assert not week.needs_refresh(T0 + timedelta(days=4, hours=23))
    assert week.needs_refresh(T0 + timedelta(days=5))
    hour = token(3600)
    assert hour.refresh_due_at() == T0 + timedelta(minutes=30)
    assert not hour.needs_refresh(T0 + timedelta(minutes=29))
    assert hour.needs_refresh(T0 + timedelta(minutes=31))


def test_authorize_url_is_lazadas() -> None:
    url = authorize_url("100100", "https://example.com/cb?x=1")
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://auth.lazada.com/oauth/authorize"
    )
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "force_auth": ["true"],
        "redirect_uri": ["https://example.com/cb?x=1"],
        "client_id": ["100100"],
    }
    assert (
        authorize_base("https://auth.lazada.com/rest") == "https://auth.lazada.com/oauth/authorize"
    )
    assert authorize_base("http://127.0.0.1:8765/rest/") == "http://127.0.0.1:8765/oauth/authorize"


@pytest.mark.parametrize(
    ("pasted", "code"),
    [
        ("https://example.com/cb?code=0_1234_abc&state=x", "0_1234_abc"),
        ("  0_1234_abc  ", "0_1234_abc"),
        ("?code=xyz", "xyz"),
        ("code=xyz", "xyz"),
    ],
)
def test_code_from_redirect(pasted: str, code: str) -> None:
    assert code_from_redirect(pasted) == code


@pytest.mark.parametrize("bad", ["", "https://example.com/cb?error=denied", "two words"])
def test_code_from_redirect_rejects_garbage(bad: str) -> None:
    with pytest.raises(ValueError):
        code_from_redirect(bad)


# -- refresh inside the client (MockTransport: exact control over which token is expired) ---
class AuthServer:
    """Accepts only the newest access token; refresh issues the next one."""

    def __init__(self, *, refresh_fails: bool = False, always_expired: bool = False) -> None:
        self.generation = 1
        self.refreshes = 0
        self.refresh_fails = refresh_fails
        self.always_expired = always_expired
        self.lock = threading.Lock()
        self.seen_tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/token/refresh"):
            form = dict(parse_qsl(request.content.decode()))
            with self.lock:
                if self.refresh_fails or form.get("refresh_token") != f"refresh-{self.generation}":
                    return httpx.Response(
                        200, json={"type": "ISV", "code": "IllegalRefreshToken", "message": "bad"}
                    )
                self.refreshes += 1
                self.generation += 1
                gen = self.generation
            return httpx.Response(
                200,
                json={
                    "code": "0",
                    "access_token": f"access-{gen}",
                    "refresh_token": f"refresh-{gen}",
                    "expires_in": 7 * 86400,
                    "refresh_expires_in": 30 * 86400,
                    "country_user_info_list": [{"country": "my", "seller_id": "1001"}],
                },
            )
        given = dict(request.url.params).get("access_token", "")
        self.seen_tokens.append(given)
        if self.always_expired or given != f"access-{self.generation}":
            return httpx.Response(
                200, json={"type": "ISV", "code": "IllegalAccessToken", "message": "expired"}
            )
        return httpx.Response(200, json={"code": "0", "data": {"seller_id": "1001", "name": "S"}})


def conn(gen: int = 1, refresh: bool = True) -> Connection:
    return Connection(
        base_url="https://api.lazada.com.my/rest",
        app_key="100100",
        app_secret=Secret("app-secret-x"),
        access_token=Secret(f"access-{gen}"),
        refresh_token=Secret(f"refresh-{gen}") if refresh else None,
        venture="MY",
    )


def test_expired_token_is_refreshed_once_by_one_thread_and_saved() -> None:
    """Eight threads hit IllegalAccessToken together; one refresh serves them all."""
    server = AuthServer()
    saved: list[Token] = []
    # access-1 is rejected (Lazada expired it) while refresh-1 is still good
    original = server.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/auth/token/refresh"):
            given = dict(request.url.params).get("access_token", "")
            if given == "access-1":
                return httpx.Response(
                    200, json={"type": "ISV", "code": "IllegalAccessToken", "message": "expired"}
                )
        return original(request)

    client = LazadaClient(
        conn(),
        transport=httpx.MockTransport(handler),
        retry=NO_RETRY,
        default_qps=0,
        on_token=saved.append,
    )
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        try:
            assert client.seller().seller_id == "1001"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with client:
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert errors == []
    assert server.refreshes == 1  # only one thread refreshed
    assert [t.access_token.reveal() for t in saved] == ["access-2"]
    assert client.stats.refreshes == 1
    assert client.token is not None and client.token.refresh_token == Secret("refresh-2")


def test_second_expiry_after_refresh_raises() -> None:
    server = AuthServer(always_expired=True)
    client = LazadaClient(
        conn(), transport=httpx.MockTransport(server), retry=NO_RETRY, default_qps=0
    )
    with client, pytest.raises(E.TokenExpiredError):
        client.seller()
    assert server.refreshes == 1 and len(server.seen_tokens) == 2  # call, refresh, call once more


def test_without_refresh_token_the_expiry_error_escapes() -> None:
    server = AuthServer(always_expired=True)
    client = LazadaClient(
        conn(refresh=False), transport=httpx.MockTransport(server), retry=NO_RETRY, default_qps=0
    )
    with client, pytest.raises(E.TokenExpiredError):
        client.seller()
    assert server.refreshes == 0


def test_rejected_refresh_token_asks_to_log_in_again() -> None:
    server = AuthServer(always_expired=True, refresh_fails=True)
    client = LazadaClient(
        conn(), transport=httpx.MockTransport(server), retry=NO_RETRY, default_qps=0
    )
    with client, pytest.raises(E.LoginRequiredError) as info:
        client.seller()
    assert "log in" in str(info.value)


def test_refresh_ahead_of_expiry_before_the_first_call() -> None:
    server = AuthServer()
    now = datetime.now(UTC)
    # a 2-hour token with 30 minutes left: past half its lifetime, so refresh now
    tok = Token(
        access_token=Secret("access-1"),
        refresh_token=Secret("refresh-1"),
        expires_at=now + timedelta(minutes=30),
        refresh_expires_at=now + timedelta(days=30),
        issued_at=now - timedelta(minutes=90),
    )
    saved: list[Token] = []
    client = LazadaClient(
        conn(),
        token=tok,
        transport=httpx.MockTransport(server),
        retry=NO_RETRY,
        default_qps=0,
        on_token=saved.append,
    )
    with client:
        client.seller()
        client.seller()
    assert server.refreshes == 1 and server.seen_tokens == ["access-2", "access-2"]
    assert len(saved) == 1 and saved[0].expires_at > now + timedelta(days=6)


def test_fresh_token_is_not_refreshed_early() -> None:
    server = AuthServer()
    now = datetime.now(UTC)
    tok = Token(
        access_token=Secret("access-1"),
        refresh_token=Secret("refresh-1"),
        expires_at=now + timedelta(days=6),
        refresh_expires_at=now + timedelta(days=30),
        issued_at=now - timedelta(days=1),
    )
    with LazadaClient(
        conn(), token=tok, transport=httpx.MockTransport(server), retry=NO_RETRY, default_qps=0
    ) as client:
        client.seller()
    assert server.refreshes == 0


# -- the secret store ------------------------------------------------------------------------
def test_file_store_is_owner_only_atomic_and_round_trips(home) -> None:
    store = TokenStore(backend="file")
    assert store.backend == "file" and store.path.startswith(str(home))
    tok = Token.from_wire(CREATE_ANSWER, T0)
    store.save("shop1", ShopSecrets(Secret("app-secret-1"), tok))
    store.save("shop2", ShopSecrets(Secret("app-secret-2"), None))
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert sorted(os.listdir(home)) == ["secrets.json"]  # no temp files left behind
    again = TokenStore(backend="file").load("shop1")
    assert again is not None and again.app_secret == Secret("app-secret-1") and again.token == tok
    assert TokenStore(backend="file").load("nope") is None
    newer = Token.from_wire(dict(CREATE_ANSWER, access_token="another-access"), T0)
    store.save_token("shop2", newer)
    assert store.load("shop2").token.access_token == Secret("another-access")
    assert store.load("shop2").app_secret == Secret("app-secret-2")
    store.delete("shop1")
    assert store.load("shop1") is None and store.load("shop2") is not None
    assert "app-secret" not in repr(store) + repr(store.load("shop2"))


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_file_store_repairs_wider_permissions(home) -> None:
    store = TokenStore(backend="file")
    store.save("shop", ShopSecrets(Secret("app-secret-1")))
    os.chmod(store.path, 0o644)
    assert store.load("shop") is not None
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


@pytest.mark.skipif(os.name == "nt" or os.geteuid() != 0, reason="needs root to chown")
def test_file_store_refuses_a_readable_file_owned_by_someone_else(home) -> None:
    store = TokenStore(backend="file")
    store.save("shop", ShopSecrets(Secret("app-secret-1")))
    os.chmod(store.path, 0o644)
    os.chown(store.path, 65534, 65534)
    with pytest.raises(TokenStoreError, match="refusing"):
        store.load("shop")


def test_keyring_backend_is_used_when_a_real_one_exists(home, monkeypatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 5  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.data: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.data.get((service, username))

        def set_password(self, service, username, password):
            self.data[(service, username)] = password

        def delete_password(self, service, username):
            self.data.pop((service, username), None)

    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    monkeypatch.delenv("XL_LAZADA_KEYRING")
    try:
        store = TokenStore()
        assert store.backend == "keyring"
        store.save("shop", ShopSecrets(Secret("app-secret-k"), Token.from_wire(CREATE_ANSWER, T0)))
        assert ("xl-lazada", "shop") in ring.data
        assert not os.path.exists(store.path)  # nothing on disk
        assert store.load("shop").app_secret == Secret("app-secret-k")
        monkeypatch.setenv("XL_LAZADA_KEYRING", "off")
        assert TokenStore().backend == "file"
    finally:
        keyring.set_keyring(previous)


# -- profiles ----------------------------------------------------------------------------------
def save_shop(name: str, *, key: str = "100100", default: bool = False) -> None:
    tok = Token.from_wire(CREATE_ANSWER, datetime.now(UTC))
    TokenStore().save(name, ShopSecrets(Secret(f"secret-of-{name}"), tok))
    prof = profiles.Profile(
        name=name,
        venture="SG",
        base_url="https://api.lazada.sg/rest",
        app_key=key,
        seller_id="2002",
    )
    prof.note_token(tok)
    profiles.save_profile(prof, make_default=default)


def test_load_connection_from_profiles(home) -> None:
    with pytest.raises(ConfigError, match="xl-lazada login"):
        profiles.load_connection()
    save_shop("first")
    only = profiles.load_connection()  # the only profile is the default
    assert (
        only.shop == "first"
        and only.venture == "SG"
        and only.app_secret == Secret("secret-of-first")
    )
    assert only.access_token == Secret(CREATE_ANSWER["access_token"])
    save_shop("second", key="200200", default=True)
    assert profiles.load_connection().shop == "second"
    assert profiles.load_connection("first").app_key == "100100"
    with pytest.raises(ConfigError, match="no saved shop named"):
        profiles.load_connection("third")
    with open(profiles.profiles_path(), encoding="utf-8") as fh:
        data = json.load(fh)
    assert "secret-of" not in json.dumps(data) and CREATE_ANSWER["access_token"] not in json.dumps(
        data
    )


def test_environment_wins_over_profiles(home, monkeypatch) -> None:
    save_shop("first")
    monkeypatch.setenv("XL_LAZADA_APP_KEY", "999")
    monkeypatch.setenv("XL_LAZADA_APP_SECRET", "env-secret")
    monkeypatch.setenv("XL_LAZADA_BASE_URL", "http://127.0.0.1:1/rest")
    c = profiles.load_connection()
    assert c.app_key == "999" and c.base_url == "http://127.0.0.1:1/rest"


def test_profile_names_are_checked(home) -> None:
    with pytest.raises(ConfigError):
        profiles.check_name("../etc/passwd")
    with pytest.raises(ConfigError):
        profiles.check_name("")
    assert profiles.check_name(" my-shop_2 ") == "my-shop_2"


# -- `xl-lazada login` / `shops` against the sandbox ----------------------------------------------
def test_login_saves_a_profile_and_shops_lists_it(home, sandbox) -> None:
    from click.testing import CliRunner

    from xl_lazada.cli import cli

    redirect = "https://seller.example/callback"
    url = authorize_url(sandbox.app_key, redirect, base=authorize_base(sandbox.base_url))
    answer = httpx.get(url, follow_redirects=False)  # the sandbox approves at once
    assert answer.status_code in (302, 303, 307)
    back = answer.headers["location"]
    assert back.startswith(redirect) and "code=" in back

    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "login",
            "--base-url",
            sandbox.base_url,
            "--app-key",
            sandbox.app_key,
            "--redirect-uri",
            redirect,
            "--name",
            "sandbox-shop",
        ],
        input=f"{sandbox.app_secret}\n{back}\n",  # the secret (read from the pipe), then the pasted URL
    )
    assert result.exit_code == 0, result.output
    assert url in result.output  # the seller is shown where to authorise
    assert "Saved shop 'sandbox-shop'" in result.output
    assert sandbox.app_secret not in result.output

    seller = sandbox.shop.seller_profile()
    conn = profiles.load_connection()
    assert conn.shop == "sandbox-shop" and conn.base_url == sandbox.base_url
    assert conn.auth_url == sandbox.base_url and conn.app_secret == Secret(sandbox.app_secret)
    prof = profiles.get_profile()
    assert prof.seller_id == str(seller["seller_id"]) and prof.seller_name == seller["name"]
    secrets_file = home / "secrets.json"
    assert stat.S_IMODE(os.stat(secrets_file).st_mode) == 0o600
    assert sandbox.app_secret not in (home / "profiles.json").read_text()

    listed = runner.invoke(cli, ["shops"])
    assert listed.exit_code == 0 and "sandbox-shop" in listed.output
    assert seller["name"] in listed.output and "access token until" in listed.output
    rows = [
        json.loads(line) for line in runner.invoke(cli, ["shops", "--json"]).output.splitlines()
    ]
    assert rows[0]["name"] == "sandbox-shop" and rows[0]["default"] is True
    stored = TokenStore().load("sandbox-shop")
    everything = listed.output + json.dumps(rows)
    assert stored.token.access_token.reveal() not in everything
    assert stored.token.refresh_token.reveal() not in everything


@pytest.fixture
def own_sandbox():
    """A private sandbox: expiring tokens must not disturb tests sharing the session one."""
    from xl_lazada.sandbox.server import SandboxServer

    with SandboxServer(orders=20, seed=1, clock_speed=0.0, qps=1000) as sb:
        yield sb


def test_open_client_persists_a_refreshed_token(home, own_sandbox) -> None:
    from xl_lazada.lazada.tokens import exchange_code

    sandbox = own_sandbox
    conn = sandbox.connection({})
    with LazadaClient(conn) as c:
        tok = exchange_code(c, sandbox.new_code())
    TokenStore().save("shop", ShopSecrets(Secret(sandbox.app_secret), tok))
    prof = profiles.Profile(
        name="shop",
        venture=sandbox.venture,
        base_url=sandbox.base_url,
        auth_url=sandbox.base_url,
        app_key=sandbox.app_key,
    )
    prof.note_token(tok)
    profiles.save_profile(prof)

    with profiles.open_client() as client:
        assert client.seller().seller_id
        sandbox.expire_tokens()
        assert client.seller().seller_id  # refreshed on IllegalAccessToken
    stored = TokenStore().load("shop")
    assert stored.token.access_token != tok.access_token
    assert stored.app_secret == Secret(sandbox.app_secret)
    assert profiles.get_profile("shop").token_expires_at == stored.token.expires_at.isoformat()
    # the next run starts from the saved token
    with profiles.open_client("shop") as client:
        assert client.seller().seller_id and client.stats.refreshes == 0


def test_login_reads_a_secret_piped_in(home, sandbox) -> None:
    # A script pipes the secret: it is read from the pipe (a hidden prompt reads the
    # terminal when there is one), with no warning about echo, and never printed.
    import subprocess
    import sys

    redirect = "https://seller.example/callback"
    url = authorize_url(sandbox.app_key, redirect, base=authorize_base(sandbox.base_url))
    back = httpx.get(url, follow_redirects=False).headers["location"]
    args = ["login", "--base-url", sandbox.base_url, "--app-key", sandbox.app_key]
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from xl_lazada.cli import main; sys.exit(main())"]
        + args
        + ["--redirect-uri", redirect, "--name", "piped"],
        input=f"{sandbox.app_secret}\n{back}\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "Saved shop 'piped'" in run.stdout
    assert "Warning" not in run.stderr and "getpass" not in run.stderr, run.stderr
    assert sandbox.app_secret not in run.stdout + run.stderr


def test_login_rejects_a_pasted_url_without_code(home, sandbox) -> None:
    from click.testing import CliRunner

    from xl_lazada.cli.login_cmd import login

    result = CliRunner().invoke(
        login,
        [
            "--base-url",
            sandbox.base_url,
            "--app-key",
            sandbox.app_key,
            "--redirect-uri",
            "https://x/cb",
        ],
        input=f"{sandbox.app_secret}\nhttps://x/cb?error=access_denied\n",
    )
    assert result.exit_code != 0 and "code" in result.output
    assert not (home / "profiles.json").exists()


def test_login_and_shops_print_the_seller_name_without_terminal_controls(
    home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seller name is Lazada's text: ``login`` and ``shops`` show it, but an escape
    sequence in it (a terminal link, a screen clear) or a line break never reaches the
    terminal; ``shops --json`` keeps it exactly as Lazada sent it."""
    from click.testing import CliRunner

    from xl_lazada.cli import cli
    from xl_lazada.sandbox.server import SandboxServer
    from xl_lazada.sandbox.shop import Shop

    name = "Gadget \x1b]8;;http://evil.example/\x07Hub\x1b]8;;\x07\n  WARNING: forged\x1b[2J"
    monkeypatch.setattr(Shop, "seller_profile", lambda self: {**self._plan.seller, "name": name})
    redirect = "https://seller.example/callback"
    with SandboxServer(orders=5, seed=1, clock_speed=0.0, qps=1000) as sb:
        url = authorize_url(sb.app_key, redirect, base=authorize_base(sb.base_url))
        back = httpx.get(url, follow_redirects=False).headers["location"]
        runner = CliRunner()
        args = ["login", "--base-url", sb.base_url, "--app-key", sb.app_key]
        args += ["--redirect-uri", redirect, "--name", "hostile"]
        result = runner.invoke(cli, args, input=f"{sb.app_secret}\n{back}\n", color=False)
    assert result.exit_code == 0, result.output
    listed = runner.invoke(cli, ["shops"])
    assert listed.exit_code == 0
    for output in (result.output, listed.output):
        assert "Gadget" in output and "Hub" in output
        assert "\x1b" not in output and "\x07" not in output, output
        assert not any(line.lstrip().startswith("WARNING: forged") for line in output.splitlines())
    rows = [
        json.loads(line) for line in runner.invoke(cli, ["shops", "--json"]).output.splitlines()
    ]
    assert rows[0]["seller_name"] == name
