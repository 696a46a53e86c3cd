"""The sheet tables: pandas frames of declared columns, built from the cache with the rules.

``orders_table``, ``tracking_table``, ``checkpoints_table`` and ``settlements_table`` each
return a frame whose columns and dtypes are exactly ``ORDERS_COLUMNS`` etc. (the contract the
Excel writers use for headers). They read the facts the cache keeps at sync
time (``order_facts`` / ``package_facts``) and apply the clock-dependent rules to whole
columns. A front end that wants one reference's answer uses :func:`xl_lazada.lookup`.
"""

from .columns import (
    CHECKPOINTS_COLUMNS,
    ORDERS_COLUMNS,
    SETTLEMENTS_COLUMNS,
    TABLES,
    TRACKING_COLUMNS,
    Column,
    empty_frame,
)
from .sheets import (
    all_tables,
    checkpoints_table,
    orders_table,
    settlements_table,
    tracking_table,
)

__all__ = [
    "CHECKPOINTS_COLUMNS",
    "ORDERS_COLUMNS",
    "SETTLEMENTS_COLUMNS",
    "TABLES",
    "TRACKING_COLUMNS",
    "Column",
    "all_tables",
    "checkpoints_table",
    "empty_frame",
    "orders_table",
    "settlements_table",
    "tracking_table",
]
