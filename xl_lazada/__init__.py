"""xl_lazada: track Lazada orders, parcels and settlements from inside Excel.

``from xl_lazada import lookup`` is the one read every front end uses (see
:mod:`xl_lazada.lookup`). Importing the package stays light — no pandas, NumPy, web server
or sandbox — because Excel imports it on every worksheet recalculation's first call; the
names below load their module on first use.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .lookup import CheckpointRow, RefStatus, checkpoints, generation, lookup
    from .refs import NormalizedRef, normalize_ref

_LAZY = {
    "lookup": "xl_lazada.lookup",
    "RefStatus": "xl_lazada.lookup",
    "CheckpointRow": "xl_lazada.lookup",
    "checkpoints": "xl_lazada.lookup",
    "generation": "xl_lazada.lookup",
    "normalize_ref": "xl_lazada.refs",
    "NormalizedRef": "xl_lazada.refs",
}

__all__ = [
    "CheckpointRow",
    "NormalizedRef",
    "RefStatus",
    "checkpoints",
    "generation",
    "lookup",
    "normalize_ref",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'xl_lazada' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """The function ``lookup`` and its module ``xl_lazada.lookup`` share a name. Importing
    that module binds it as this package's ``lookup`` (Python does so for every submodule),
    so once the CLI or a formula had imported it, ``from xl_lazada import lookup`` handed
    back the module. The binding is refused: the name always means the function, and the
    module stays importable as ``xl_lazada.lookup`` (``from xl_lazada.lookup import …``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "lookup" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
