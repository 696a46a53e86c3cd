#!/usr/bin/env bash
# Render the README's picture of the workbook's sheets: a small sandbox demo workbook,
# printed to PDF by LibreOffice (read-only use: the .xlsm itself is never re-saved by it)
# and the first page (the Orders sheet) turned into docs/img/workbook-orders.png.
#   bash scripts/render_workbook_png.sh [orders]      (needs soffice and pdftoppm)
set -euo pipefail
cd "$(dirname "$0")/.."
orders="${1:-150}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
XL_LAZADA_HOME="$work/home" xl-lazada demo --orders "$orders" --workbook "$work/Shop.xlsm" >/dev/null
soffice --headless --norestore "-env:UserInstallation=file://$work/lo" \
    --convert-to pdf --outdir "$work" "$work/Shop.xlsm" >/dev/null 2>&1
# the page is fitted to one width: zoom in on its top-left corner so the cells can be read
pdftoppm -png -r 300 -f 1 -l 1 -x 140 -y 210 -W 1900 -H 620 "$work/Shop.pdf" "$work/page"
mkdir -p docs/img
cp "$work"/page-*1.png docs/img/workbook-orders.png
echo "docs/img/workbook-orders.png"
