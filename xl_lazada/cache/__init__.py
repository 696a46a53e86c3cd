"""The local SQLite cache: the single source Excel formulas and sheet tables read.

``Cache.open(path)`` opens (and migrates) it; table columns are documented in
:mod:`xl_lazada.cache.schema`.
"""

from .db import CacheError, default_path
from .store import Cache, ShopInfo

__all__ = ["Cache", "CacheError", "ShopInfo", "default_path"]
