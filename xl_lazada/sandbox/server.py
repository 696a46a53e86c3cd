"""Run the sandbox in a background thread: ``with SandboxServer(...) as sb: ...``.

Tests, benchmarks and the demo get a real HTTP server on loopback (a free port by default)
speaking the Lazada API over a simulated shop, plus handles to steer it: the shop's clock,
call stats, fault rates and token expiry.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn

from ..config import Connection
from ..secret import Secret
from .apis import Backend
from .app import SandboxState, create_app
from .clock import SimClock
from .faults import FaultInjector, Faults
from .shop import Shop
from .stats import Stats
from .throttle import ApiThrottle
from .tokens import Account, TokenStore
from .wire import DOCUMENTED, Wire

__all__ = ["SandboxServer", "Faults", "DEFAULT_APP_KEY", "DEFAULT_APP_SECRET"]

DEFAULT_APP_KEY = "100100"
DEFAULT_APP_SECRET = "xl-lazada-sandbox-secret"
STARTUP_TIMEOUT_SECONDS = 15.0


def _account(shop: Shop) -> Account:
    """The token owner, taken from the shop's seller profile."""
    profile = shop.seller_profile()
    seller_id = str(profile.get("seller_id", "1"))
    digest = hashlib.sha256(seller_id.encode("utf-8")).hexdigest()
    return Account(
        account=str(profile.get("email", "seller@example.com")),
        country=shop.venture.code.lower(),
        user_id=str(100_000_000 + int(digest[:7], 16)),
        seller_id=seller_id,
        short_code=str(profile.get("short_code", "")),
    )


class SandboxServer:
    """A Lazada-compatible API server over a simulated shop, served by uvicorn in a thread.

    Give ``shop=`` (a :class:`Shop`), or ``load=`` (a dataset written by ``Shop.to_json``), or
    let it generate one from ``orders``/``seed``/``venture`` (and ``now``, the shop's present).
    The simulated clock starts at the shop's ``generated_at`` unless ``sim_start`` is given;
    ``clock_speed=0`` freezes it. Token lifetimes run on the real clock.

    Answers take the shapes Lazada documents (:mod:`.wire`); ``representation="varied"``
    (with ``representation_seed``) also varies number/string, optional and extra keys,
    ``module``/``data`` and camelCase trace keys. ``strict_batches`` makes a
    ``/orders/items/get`` list holding an unknown id fail whole with E037.
    """

    def __init__(
        self,
        *,
        orders: int = 300,
        seed: int = 7,
        venture: str = "MY",
        clock_speed: float = 1.0,
        qps: float = 20.0,
        faults: Faults | None = None,
        latency_ms: float = 0.0,
        shop: Shop | None = None,
        load: str | os.PathLike[str] | None = None,
        now: datetime | None = None,
        sim_start: datetime | None = None,
        token_ttl: float = 7 * 86400,
        refresh_ttl: float = 30 * 86400,
        host: str = "127.0.0.1",
        port: int = 0,
        app_key: str = DEFAULT_APP_KEY,
        app_secret: str = DEFAULT_APP_SECRET,
        representation: str = DOCUMENTED,
        representation_seed: int = 0,
        strict_batches: bool = True,
    ) -> None:
        if shop is not None and load is not None:
            raise ValueError("give shop= or load=, not both")
        if shop is None:
            if load is not None:
                shop = Shop.from_json(Path(load))
            else:
                shop = Shop.generate(seed=seed, orders=orders, venture=venture, now=now)
        self.shop: Shop = shop
        self.clock = SimClock(start=sim_start or shop.generated_at, speed=clock_speed)
        self.stats = Stats()
        self._tokens = TokenStore(_account(shop), token_ttl=token_ttl, refresh_ttl=refresh_ttl)
        self._state = SandboxState(
            backend=Backend(
                shop=shop,
                clock=self.clock,
                tokens=self._tokens,
                wire=Wire(representation, representation_seed, shop.venture.currency),
                strict_batches=strict_batches,
            ),
            app_key=app_key,
            app_secret=app_secret,
            venture=shop.venture.code,
            throttle=ApiThrottle(qps),
            injector=FaultInjector(faults if faults is not None else Faults()),
            stats=self.stats,
            latency_ms=float(latency_ms),
        )
        self.app = create_app(self._state)
        self.host = host
        self._requested_port = int(port)
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def wire(self) -> Wire:
        """How answers are rendered (tests render the shop's ground truth the same way)."""
        return self._state.backend.wire

    @property
    def strict_batches(self) -> bool:
        return self._state.backend.strict_batches

    @strict_batches.setter
    def strict_batches(self, value: bool) -> None:
        self._state.backend.strict_batches = bool(value)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        """Bind, serve in a daemon thread, and return once the server answers HTTP."""
        if self._thread is not None:
            raise RuntimeError("sandbox server already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP, and without it every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if os.name != "nt":  # on Windows SO_REUSEADDR would let another process share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,  # leave the host process's logging alone
            log_level="warning",
            access_log=False,  # GET query strings carry tokens and signatures
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"xl-lazada-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        assert self._server is not None and self._thread is not None
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError("sandbox server failed to start")
            if self._server.started:
                try:
                    conn = http.client.HTTPConnection(self._connect_host, self.port, timeout=2)
                    conn.request("GET", "/_sandbox/health")
                    ok = conn.getresponse().status == 200
                    conn.close()
                    if ok:
                        return
                except OSError:
                    pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError("sandbox server did not answer in time")

    def stop(self) -> None:
        """Stop serving; in-flight requests get a second to finish."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, stop: threading.Event) -> None:
        """Block until ``stop`` is set (or the server dies), polling so Ctrl-C gets through."""
        while not stop.wait(0.5):
            if self._thread is None or not self._thread.is_alive():
                break

    # -- addresses and credentials -----------------------------------------------------------
    @property
    def _connect_host(self) -> str:
        return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:8765`` (OAuth page and admin live here)."""
        if self.port is None:
            raise RuntimeError("sandbox server not started")
        host = self._connect_host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API gateway, ``http://127.0.0.1:<port>/rest``; auth calls go here too."""
        return self.url + "/rest"

    @property
    def app_key(self) -> str:
        return self._state.app_key

    @property
    def app_secret(self) -> str:
        return self._state.app_secret

    @property
    def venture(self) -> str:
        return self._state.venture

    def authorize_url(self, redirect_uri: str, state: str | None = None) -> str:
        """The sandbox's OAuth page; it approves at once and redirects with ``?code=``."""
        from urllib.parse import urlencode

        q = {
            "response_type": "code",
            "force_auth": "true",
            "redirect_uri": redirect_uri,
            "client_id": self.app_key,
        }
        if state:
            q["state"] = state
        return f"{self.url}/oauth/authorize?{urlencode(q)}"

    def new_code(self) -> str:
        """A fresh single-use authorisation code (what the OAuth redirect would carry)."""
        return self._tokens.new_code()

    def issue_token(self) -> dict[str, Any]:
        """Tokens as ``/auth/token/create`` answers them, without the OAuth round trip."""
        return self._tokens.issue()

    def connection(self, token: dict[str, Any] | None = None) -> Connection:
        """A :class:`Connection` to this sandbox, with ``token`` (a fresh one if omitted)."""
        token = token if token is not None else self.issue_token()
        access = token.get("access_token")
        refresh = token.get("refresh_token")
        return Connection(
            base_url=self.base_url,
            app_key=self.app_key,
            app_secret=Secret(self.app_secret),
            access_token=Secret(access) if access else None,
            refresh_token=Secret(refresh) if refresh else None,
            venture=self.venture,
            auth_url=self.base_url,
            shop="sandbox",
        )

    def expire_tokens(self) -> int:
        """Expire every access token issued so far (refresh tokens keep working)."""
        return self._tokens.expire_access_tokens()

    # -- live knobs --------------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        """The live fault settings; mutate fields or assign a new :class:`Faults`."""
        return self._state.injector.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._state.injector.faults = value

    @property
    def qps(self) -> float:
        return self._state.throttle.qps

    @qps.setter
    def qps(self, value: float) -> None:
        self._state.throttle.qps = value

    @property
    def latency_ms(self) -> float:
        return self._state.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        if value < 0:
            raise ValueError("latency_ms must not be negative")
        self._state.latency_ms = float(value)

    @property
    def token_ttl(self) -> float:
        return self._tokens.token_ttl

    def __repr__(self) -> str:  # never show the secret
        where = self.base_url if self.port is not None else "not started"
        return f"SandboxServer({where}, venture={self.venture}, app_key={self.app_key})"
