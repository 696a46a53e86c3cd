"""The incremental sync engine: Lazada → local cache (see :mod:`xl_lazada.sync.engine`)."""

from .engine import SyncOptions, sync_shop
from .progress import Progress, SyncSummary

__all__ = ["Progress", "SyncOptions", "SyncSummary", "sync_shop"]
