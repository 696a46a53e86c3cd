"""A local Lazada-compatible API server with a simulated cross-border shop.

Nothing in the product imports this package except the CLI (``xl-lazada sandbox``,
``xl-lazada demo``), the tests and the benchmarks.
"""
