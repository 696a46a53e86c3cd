"""The Excel workbook: its contract (sheets, tables, input cells, settings), the
writer-neutral sheet description, and the headless file writer that refreshes a seller's
``.xlsm`` without Excel and without touching anything but its own sheets.

Import the submodules you need (``contract``, ``sheetspec``, ``sheets``, ``refresh``,
``build``); this package import stays light.
"""
