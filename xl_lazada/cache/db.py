"""Open the cache database: location, pragmas (WAL, foreign keys) and schema migrations.

WAL lets Excel read while a sync writes; ``synchronous=NORMAL`` in WAL mode never corrupts
the file on a crash or kill (at worst the last commit is lost on power failure). The
connection is in autocommit mode: every write batch opens its own ``BEGIN IMMEDIATE``
transaction (see :func:`transaction`), so a killed sync never leaves half a batch.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from .. import config
from ..errors import XlLazadaError
from .schema import CURRENT_VERSION, MIGRATIONS, POST_MIGRATE

CACHE_FILENAME = "cache.sqlite3"


class CacheError(XlLazadaError, RuntimeError):
    """The cache file cannot be used (newer schema, not a database, ...)."""


#: SQLite's primary result codes (extended codes add high bits) that say what became of the
#: cache file after it opened; any other code (SQLITE_ERROR: a query's own mistake) is a bug.
_DAMAGED_CODES = frozenset({11, 26})  # CORRUPT, NOTADB
_BUSY_CODES = frozenset({5, 6})  # BUSY, LOCKED
_UNUSABLE_CODES = frozenset(
    {3, 7, 8, 10, 13, 14, 15}
)  # PERM NOMEM READONLY IOERR FULL CANTOPEN PROTOCOL


def failure(exc: BaseException, path: str | os.PathLike[str] | None = None) -> CacheError | None:
    """A SQLite error met after the cache opened, as the one-line :class:`CacheError` every
    front end shows; None for anything else, which is a bug to raise as it is (a query's
    own mistake, a closed connection). The file can be damaged after it opened well (a page
    a disk or a copy spoiled), another process can hold it locked past the timeout, a disk
    can fill."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in _DAMAGED_CODES:
        return damaged(str(exc), path)
    where = _where(path)
    if code in _BUSY_CODES:
        return CacheError(f"{where}the cache is busy ({exc}): another program holds it; try again")
    if code in _UNUSABLE_CODES:
        return CacheError(f"{where}the cache could not be used ({exc})")
    return None


def damaged(detail: str, path: str | os.PathLike[str] | None = None) -> CacheError:
    """The one wording for a cache file whose pages SQLite cannot read (what it found in
    ``detail``), with the one way back: a fresh sync into a new file."""
    return CacheError(
        f"{_where(path)}the cache file is damaged ({detail}): delete it and run `xl-lazada sync` again"
    )


def _where(path: str | os.PathLike[str] | None) -> str:
    """The file a message is about, as its prefix (nothing when unknown)."""
    return f"{os.fspath(path)}: " if path is not None else ""


def default_path() -> str:
    """``XL_LAZADA_CACHE`` if set, else ``<data dir>/cache.sqlite3``."""
    env = os.environ.get(config.ENV_CACHE, "").strip()
    if env:
        return env
    return os.path.join(config.data_dir(), CACHE_FILENAME)


def _writable(target: str) -> bool:
    """Can this process write the cache file and the -wal/-shm files beside it?"""
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.exists(target):
        return True  # created (or failing with a clear error) below
    return os.access(target, os.W_OK) and os.access(parent, os.W_OK)


def _connect_readonly(target: str) -> sqlite3.Connection:
    """Open a cache on a read-only location: ``mode=ro`` (sees a live WAL), else
    ``immutable=1`` (a file nobody writes, e.g. a copy on a read-only share)."""
    uri = "file:" + urllib.parse.quote(os.path.abspath(target))
    last: Exception | None = None
    for query in ("?mode=ro", "?mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(uri + query, uri=True, isolation_level=None, timeout=30.0)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            last = exc
    raise CacheError(f"{target}: cannot open the read-only cache ({last})")


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    migrate: bool = True,
    readonly: bool | None = None,
) -> sqlite3.Connection:
    """Open (creating if needed) the cache at ``path`` and bring its schema up to date.

    A cache on a location this process cannot write (a read-only share, a file marked
    read-only) opens read-only (``readonly=None`` decides by the file's permissions) and is
    never migrated: one that needs migrating is a one-line :class:`CacheError`.
    """
    target = os.fspath(path) if path is not None else default_path()
    if readonly is None:
        readonly = target != ":memory:" and not _writable(target)
    if readonly:
        conn = _connect_readonly(target)
        try:
            conn.row_factory = sqlite3.Row
            version = schema_version(conn)
            if version == 0:
                raise CacheError(f"{target}: not an xl-lazada cache (no schema)")
            if version > CURRENT_VERSION:
                raise CacheError(
                    f"{target}: the cache has schema version {version}, newer than this "
                    f"xl-lazada ({CURRENT_VERSION}); upgrade xl-lazada"
                )
            if version < CURRENT_VERSION or _applied(conn) < {v for v, _ in MIGRATIONS}:
                raise CacheError(
                    f"{target}: the cache is read-only and needs upgrading (schema {version} → "
                    f"{CURRENT_VERSION}); open it once from a writable location"
                )
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise CacheError(f"{target}: not a usable xl-lazada cache ({exc})") from None
        except BaseException:
            conn.close()
            raise
        return conn
    try:
        if target != ":memory:":
            parent = os.path.dirname(os.path.abspath(target))
            os.makedirs(parent, exist_ok=True)
        conn = sqlite3.connect(target, isolation_level=None, timeout=30.0)
    except (OSError, sqlite3.Error) as exc:
        raise CacheError(f"{target}: cannot open the cache ({exc})") from None
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if target != ":memory:" and str(mode).lower() != "wal":
            raise CacheError(f"cannot switch {target!r} to WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if migrate:
            migrate_to(conn, CURRENT_VERSION)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise CacheError(f"{target}: not a usable xl-lazada cache ({exc})") from None
    except BaseException:
        conn.close()
        raise
    return conn


#: How much of the cache file a reader maps (SQLite's own default ceiling; a bigger file is
#: read past it the usual way, and a build or platform without mmap ignores the pragma).
READ_MAP_BYTES = 0x7FFF0000


def map_for_reads(conn: sqlite3.Connection) -> None:
    """Let SQLite read this connection's pages in place from a memory map instead of copying
    each one. For formula reads: a 10,000-reference range probes about 10,000 answers
    scattered over tens of MB, and mapped it runs 10-20 % faster (``BENCHMARKS.md``). The
    pages it touches count in the process's resident set (168 MB after such ranges on a
    100,000-order cache), but they are the system's file cache, not the process's own memory.

    Only for a cache this process could write. A read-only one may be opened ``immutable``
    (a copy on a share), and if that file is then replaced in place, a mapped read of it
    kills the process (SIGBUS) where a plain read is an error; a share's read errors would
    do the same. Not for the sheet tables: they touch the whole file, were no faster mapped,
    and the mapped pages counted against their peak memory (885 → 1,331 MB for a
    100,000-order shop)."""
    conn.execute(f"PRAGMA mmap_size = {READ_MAP_BYTES}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write batch: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest applied migration (0 for an empty database)."""
    has = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not has:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _statements(script: str) -> Iterator[str]:
    """Split a DDL script into complete statements (``executescript`` would commit early)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buf.strip()[:60]!r}")


def _applied(conn: sqlite3.Connection) -> set[int]:
    """Every migration applied (a version skipped by a development build is applied later:
    each one only adds tables, columns or indexes, or clears values nothing reads any more)."""
    if schema_version(conn) == 0:
        return set()
    return {int(r[0]) for r in conn.execute("SELECT version FROM schema_version")}


def migrate_to(conn: sqlite3.Connection, target: int = CURRENT_VERSION) -> int:
    """Apply the migrations above the current version up to ``target``, each in one transaction.

    Returns the resulting version. A database from a newer xl-lazada is refused rather than
    written with an older idea of the schema.
    """
    current = schema_version(conn)
    if current > CURRENT_VERSION:
        raise CacheError(
            f"the cache has schema version {current}, newer than this xl-lazada "
            f"({CURRENT_VERSION}); upgrade xl-lazada or use another cache file"
        )
    for version, script in MIGRATIONS:
        if version > target or version in _applied(conn):
            continue
        with transaction(conn):
            # Re-check inside the write lock: another process may have migrated meanwhile.
            if version in _applied(conn):
                continue
            if version == 1:
                conn.execute(
                    "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)"
                )
            for stmt in _statements(script):
                conn.execute(stmt)
            if version in POST_MIGRATE:
                module, _, func = POST_MIGRATE[version].partition(":")
                getattr(importlib.import_module(module), func)(conn)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (version, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.execute(f"PRAGMA user_version = {int(version)}")
        current = version
    return schema_version(conn)
