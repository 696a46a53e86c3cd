"""The Excel front end: worksheet formulas (``udfs``), ribbon macros (``macros``) and the live
writer that renders the workbook contract's sheets through xlwings (``live_writer``).

Everything here is a thin edge over the library: answers come from
:mod:`xl_lazada.lookup` (the cache), refreshes from :mod:`xl_lazada.sync`, sheet content
from the workbook contract. Importing this package does not import xlwings; ``udfs`` and
``macros`` do, and on Linux xlwings' decorators are no-ops, so everything is testable here.
"""
