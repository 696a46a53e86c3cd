"""The one base class for every error xl_lazada raises on purpose.

A front end (the CLI, an Excel formula, a ribbon button) catches :class:`XlLazadaError` and
shows ``str(exc)``: each subclass promises a one-line message a seller can act on, with no
secret in it. Anything else that escapes is a bug, not a message.

    XlLazadaError
    ├── LazadaError      talking to Lazada failed (``xl_lazada.lazada.errors`` has the tree)
    ├── ConfigError      connection settings missing or wrong (``xl_lazada.config``)
    ├── InputError       a value the seller typed is wrong (a setting, a venture, a code)
    └── CacheError       the local cache cannot be used (``xl_lazada.cache.db``)

This module imports nothing, so catching the base costs no import time.
"""

from __future__ import annotations


class XlLazadaError(Exception):
    """Base of every error the package raises on purpose; ``str()`` is one readable line."""


class InputError(XlLazadaError, ValueError):
    """A value the seller typed or configured is wrong (a setting, a venture, a pasted code).

    Also a ``ValueError``, so code that validated with ``ValueError`` before keeps working.
    """
