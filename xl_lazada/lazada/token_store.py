"""Where app secrets and tokens live: the OS keyring, else an owner-only JSON file.

Secrets never go into profiles, workbooks or logs. With a real keyring backend (Windows
Credential Manager, macOS Keychain, Secret Service) each profile's secrets are one entry
under the service ``xl-lazada``. Without one (servers, containers, CI) they go to
``secrets.json`` in :func:`~xl_lazada.config.data_dir`, written atomically with mode 0600;
a file found with wider permissions is repaired, or refused if it cannot be.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

from ..config import ConfigError, data_dir
from ..secret import Secret
from .tokens import Token

SERVICE = "xl-lazada"
FILE_NAME = "secrets.json"
ENV_KEYRING = "XL_LAZADA_KEYRING"  # "0"/"off"/"file": never use the OS keyring

log = logging.getLogger("xl_lazada.tokens")


class TokenStoreError(ConfigError):
    """The secret store cannot be read or written safely; the message says why."""


@dataclass(frozen=True)
class ShopSecrets:
    """The secret half of a shop profile."""

    app_secret: Secret = field(repr=False)
    token: Token | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "app_secret": self.app_secret.reveal(),
                "token": self.token.to_dict() if self.token else None,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ShopSecrets:
        try:
            d = json.loads(text)
            token = Token.from_dict(d["token"]) if d.get("token") else None
            return cls(app_secret=Secret(d["app_secret"]), token=token)
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenStoreError(f"stored secrets are unreadable ({type(exc).__name__})") from None


def keyring_available() -> bool:
    """True when the OS offers a real keyring (not keyring's fail/null/plaintext backends)."""
    if os.environ.get(ENV_KEYRING, "").strip().lower() in ("0", "no", "off", "false", "file"):
        return False
    try:
        import keyring
    except Exception:  # pragma: no cover - keyring is a dependency, but be tolerant
        return False
    try:
        backend = keyring.get_keyring()
    except Exception:  # pragma: no cover - broken keyring configuration
        return False
    module = type(backend).__module__
    if module.endswith((".fail", ".null")) or "plaintext" in type(backend).__name__.lower():
        return False
    return float(getattr(backend, "priority", 0) or 0) >= 1


def _check_private(path: str) -> None:
    """Refuse or repair a secrets file that others could read."""
    if os.name == "nt":  # POSIX modes mean little on Windows; the profile dir is private
        return
    st = os.stat(path)
    if st.st_mode & 0o077 == 0:
        return
    if st.st_uid != os.getuid():
        raise TokenStoreError(
            f"{path} is readable by others and owned by another user; refusing to use it"
        )
    try:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    except OSError:
        raise TokenStoreError(
            f"{path} is readable by others and cannot be fixed; run: chmod 600 {path}"
        ) from None
    log.warning("%s was readable by others; permissions reset to 0600", path)


class TokenStore:
    """Per-profile :class:`ShopSecrets` in the keyring or the owner-only file.

    ``backend``: ``"auto"`` (keyring when available, else file), ``"keyring"`` or ``"file"``.
    Reads look in both places, so secrets saved before a keyring appeared are still found.
    """

    def __init__(self, path: str | None = None, *, backend: str = "auto") -> None:
        if backend not in ("auto", "keyring", "file"):
            raise ValueError("backend must be 'auto', 'keyring' or 'file'")
        self.path = path or os.path.join(data_dir(), FILE_NAME)
        if backend == "auto":
            backend = "keyring" if keyring_available() else "file"
        self.backend = backend
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenStore(backend={self.backend!r}, path={self.path!r})"

    # -- public ---------------------------------------------------------------------------
    def load(self, profile: str) -> ShopSecrets | None:
        if self.backend == "keyring":
            text = self._keyring_get(profile)
            if text is not None:
                return ShopSecrets.from_json(text)
        entry = self._read_file().get(profile)
        return ShopSecrets.from_json(json.dumps(entry)) if entry else None

    def save(self, profile: str, secrets: ShopSecrets) -> None:
        if self.backend == "keyring":
            try:
                import keyring

                keyring.set_password(SERVICE, profile, secrets.to_json())
                self._file_remove(profile)  # do not leave an older copy on disk
                return
            except Exception as exc:
                log.warning(
                    "keyring refused the secret (%s); using %s", type(exc).__name__, self.path
                )
        with self._lock:
            data = self._read_file()
            data[profile] = json.loads(secrets.to_json())
            self._write_file(data)

    def save_token(self, profile: str, token: Token) -> None:
        """Replace the token of a saved profile, keeping its app secret."""
        current = self.load(profile)
        if current is None:
            raise TokenStoreError(f"no saved secrets for shop {profile!r}; run `xl-lazada login`")
        self.save(profile, ShopSecrets(current.app_secret, token))

    def delete(self, profile: str) -> None:
        if self.backend == "keyring":
            try:
                import keyring

                keyring.delete_password(SERVICE, profile)
            except Exception:
                pass
        self._file_remove(profile)

    # -- keyring --------------------------------------------------------------------------
    def _keyring_get(self, profile: str) -> str | None:
        try:
            import keyring

            return keyring.get_password(SERVICE, profile)
        except Exception as exc:
            log.warning(
                "keyring unavailable (%s); falling back to %s", type(exc).__name__, self.path
            )
            return None

    # -- file -----------------------------------------------------------------------------
    def _read_file(self) -> dict[str, Any]:
        if not os.path.exists(self.path):
            return {}
        _check_private(self.path)
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise TokenStoreError(f"{self.path} is unreadable ({type(exc).__name__})") from None
        profiles = data.get("profiles") if isinstance(data, dict) else None
        return dict(profiles) if isinstance(profiles, dict) else {}

    def _write_file(self, profiles: dict[str, Any]) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secrets-", suffix=".tmp", dir=folder)  # 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": 1, "profiles": profiles}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            if os.name != "nt":
                os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _file_remove(self, profile: str) -> None:
        with self._lock:
            data = self._read_file()
            if profile in data:
                del data[profile]
                self._write_file(data)
