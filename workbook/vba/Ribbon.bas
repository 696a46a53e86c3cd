Attribute VB_Name = "Ribbon"
' The Lazada ribbon tab's buttons. Each one hands over to Python (xl_lazada.excel.macros)
' through xlwings' RunPython; the Python side finds this workbook with xw.Book.caller().
Option Explicit

Sub LazadaRefreshAll(control As IRibbonControl)
    RunPython "import xl_lazada.excel.macros as m; m.refresh_all()"
End Sub

Sub LazadaRefreshOrders(control As IRibbonControl)
    RunPython "import xl_lazada.excel.macros as m; m.refresh_orders()"
End Sub

Sub LazadaRefreshTracking(control As IRibbonControl)
    RunPython "import xl_lazada.excel.macros as m; m.refresh_tracking()"
End Sub

Sub LazadaRefreshSettlements(control As IRibbonControl)
    RunPython "import xl_lazada.excel.macros as m; m.refresh_settlements()"
End Sub

Sub LazadaBuildReport(control As IRibbonControl)
    RunPython "import xl_lazada.excel.macros as m; m.build_report()"
End Sub

Sub LazadaImportTrackingCsv(control As IRibbonControl)
    RunPython "import xl_lazada.excel.macros as m; m.import_tracking_csv()"
End Sub

Sub LazadaSettings(control As IRibbonControl)
    ThisWorkbook.Worksheets("Settings").Activate
    RunPython "import xl_lazada.excel.macros as m; m.check_connection()"
End Sub
