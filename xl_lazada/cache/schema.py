"""The cache's tables: what each column holds (read this before writing a SELECT).

Conventions, every table:

- ``shop`` is the profile name the data was synced for (several shops live side by side; every
  row carries it, and every key starts with it).
- Times are ISO 8601 **UTC** text with seconds, ``2026-11-03T10:36:05+00:00`` — they sort and
  compare correctly as text. Convert to the shop's timezone (``shops.timezone``) for display.
  Dates (finance) are ``YYYY-MM-DD`` as Lazada sends them.
- Money is decimal text exactly as parsed (``"129.90"``, ``"-3.25"``); read it with
  ``decimal.Decimal``, never float, when summing.
- Ids, order numbers and tracking numbers are text (they exceed a double's 15 digits).
- ``raw`` is the full JSON dict Lazada sent, for fields not given a column — except in the
  two big tables, ``checkpoints`` and ``transactions``, where every documented field is a
  column and ``raw`` keeps only the fields beyond them (usually ``{}``).
- ``first_seen_at`` / ``synced_at`` / ``last_traced_at`` / ``observed_at`` are *observation*
  times (this computer's clock when the sync saw the row), not Lazada's.
- Everything Lazada sends is untrusted text: names and remarks may start with ``=``.

Tables
------
``shops``
    shop (PK), venture ("MY"...), seller_id, name (seller/shop name), short_code, location,
    email, cross_border (0/1), timezone ("+08:00"), utc_offset_minutes (480), raw,
    first_seen_at, synced_at.

``orders`` — one row per order (PK shop, order_id)
    order_number, created_at, updated_at, statuses (distinct item statuses, sorted,
    comma-separated: ``"canceled,delivered"``; Lazada has no order-level status), price,
    shipping_fee, voucher, payment_method, items_count, promised_shipping_times (free text as
    sent), buyer_name (first + last), warehouse_code, remarks, raw, first_seen_at, synced_at.

``items`` — one row per unit (PK shop, order_item_id; order_id → orders)
    order_id, status, sku, shop_sku, name, item_price, paid_price, currency, shipping_type,
    shipment_provider, shipping_provider_type, tracking_code and package_id (NULL until packed),
    promised_shipping_time, sla_time_stamp, created_at, updated_at, reason,
    cancel_return_initiator, order_flag ("GLOBAL_COLLECTION" = cross-border), raw,
    first_seen_at, synced_at. tracking_code and package_id are never cleared once seen: Lazada
    drops tracking_code from a delivered item, and lookups by it must keep working.

``packages`` — one row per parcel (PK shop, package_id; order_id → orders)
    order_id, tracking_number, shipment_provider, ready_to_ship_at (a ready-to-ship time
    *Lazada sent* for the parcel, an input of the rules; none of the APIs used sends one, so
    it is NULL. The rules' answer is ``package_facts.rts_at``; v5 cleared the copies of it
    that earlier versions wrote here), last_event_at and last_status_code (the latest
    checkpoint, mirrored from ``package_facts`` whenever facts are kept), last_traced_at (when the trace was last fetched; NULL = never), final (1 when, at the
    last trace, the rules said nothing more is expected for the parcel: it is not traced
    again unless an item's status changes), first_seen_at.

``refs`` — the reference index (PK ref, shop, kind, order_id)
    ref (exact, trimmed text), kind (``order_id`` | ``order_number`` | ``tracking_number`` |
    ``package_id``), order_id. Lazada cannot look up by tracking number; this can. An order
    whose number is its id (Lazada's usual case) has one row for that text, as its
    ``order_number`` (schema v7), so a range of order numbers reads one row per order.

``checkpoints`` — one row per tracking event (UNIQUE shop, package_id, event_time, status_code)
    id (insertion order), package_id, order_id, event_time (Lazada's event time, UTC),
    status_code (Lazada's numeric code as text, ``"1200"``, ``"1400"``...; older rows may hold
    push-notification names like ``READY_TO_SHIP``: rules/milestones.json maps both),
    detail_type, title, description, location, raw, first_seen_at.

``transactions`` — finance lines (PK shop, transaction_number)
    transaction_date, transaction_type, fee_name, fee_type (Lazada's id as text: 13 item price,
    16 commission, ...), amount (signed), vat_in_amount, wht_amount, statement
    ("11 May 2026 - 17 May 2026"), paid_status (as sent: "Paid"/"Not paid"), paid (0/1),
    order_no (order number), order_item_no, order_item_status, shipping_provider, reference,
    comment, raw, first_seen_at, synced_at; v4: statement_start, statement_end (``YYYY-MM-DD``
    read from ``statement``; any length of period, NULL if unreadable). ``paid_status`` is updated in place; the change is
    recorded in ``history``.

``statements`` — payout statements (PK shop, statement_number)
    created_at, updated_at, opening_balance, item_revenue, other_revenue_total, fees_total,
    subtotal1, refunds, subtotal2, closing_balance, payout (the amount only), paid (0/1), raw,
    first_seen_at, synced_at; v4: payout_currency (the code Lazada wrote after the amount,
    ``"EUR"`` in ``"3962.41 EUR"``; NULL/"" if none), shipment_fee, shipment_fee_credit,
    guarantee_deposit, fees_on_refunds_total.

``watermarks`` — sync progress (PK shop, name)
    name, value, updated_at. Names: ``orders_updated_at`` (the ``update_after`` of the next
    run, UTC time), ``finance_date`` (the last finance day fetched, ``YYYY-MM-DD``),
    ``finance_unpaid_checked_at`` (when unpaid lines older than the overlap were last re-read),
    ``baseline_orders`` / ``baseline_traces`` (when that stage first completed; until then
    first sightings are the initial load and are not written to ``history``).

``history`` — what changed, when this computer saw it (id ascending = observation order)
    shop, observed_at, kind, order_id, entity_id, old_value, new_value, event_time. Kinds:

    - ``order_new``: an order seen for the first time after the initial load
      (new_value = its statuses);
    - ``order_statuses``: the order's status set changed (old/new comma-separated);
    - ``item_status``: entity_id = order_item_id, old → new item status;
    - ``checkpoint``: entity_id = package_id, new_value = status_code, event_time = the
      event's time (not written during the initial load);
    - ``paid_status``: entity_id = transaction_number, old → new paid_status;
    - ``statement_paid``: entity_id = statement_number, old → new paid flag ("0"/"1").

``sync_failures`` — what the last syncs could not fetch (PK shop, stage, ref)
    stage (``items`` | ``trace`` | ``orders`` | ``finance`` | ``seller``), ref (order id, or
    the stage name for a stage-wide failure), error (one line, no secrets), first_failed_at,
    last_failed_at, attempts. A row is deleted once the same thing syncs successfully.

``sync_runs`` — one row per sync (schema v2)
    id, shop, started_at, finished_at (NULL if the run died), summary (JSON of
    ``SyncSummary.to_dict()``).

``facts_settings`` — which settings made a shop's facts (schema v3; PK shop)
    fingerprint (of the settings the stored facts depend on, and of the rules' version),
    settings (JSON), observed_at (when this computer made them).

``order_facts`` — each order's clock-free facts, computed by the rules whenever the order,
its items, its trace or its finance lines are written (schema v3; PK shop, order_id)
    Instants here are **integer Unix seconds** (UTC), not text, so tables convert whole
    columns at once. order_number, created_at, status (without the clock), delayed_after
    (after this instant the order reads Delayed), item_statuses (one per unit, comma-separated),
    item_counts ("2 delivered, 1 canceled"), items, products, total (display money), currency,
    promised_at, rts_deadline, rts_open (1 while the deadline runs), rts_late (closed late),
    rts_at, tracking_numbers (", "), package_ids (","), packages, last_time, last_title,
    last_code, last_location, last_package, delivered_at, settlement_lines, settlement_state,
    settlement_net / settlement_paid (exact decimal text), settlement_components (JSON of
    decimal text by kind), net, paid and one display-money column per kind (item_price,
    commission, payment_fee, shipping, reversals, penalties, other), statements,
    last_transaction (date); and the order's display inputs copied from ``orders``
    (updated_at, buyer_name, payment_method, remarks, synced_at) so a sheet or a formula
    reads one row per order.

``package_facts`` — each parcel's clock-free facts (schema v3; PK shop, order_id, position)
    position (the parcel's place in its order), package_id, tracking_number, carrier,
    item_counts, rts_at, last_time, last_title, last_code, last_location, checkpoints,
    idle_since (newest scan or ready-to-ship time), can_stick (stuck once the stuck days pass
    after idle_since), sorting_applies (cross-border), sc_arrived_at, sc_location,
    sc_inferred, sc_handed_over, sc_days / sc_late (once arrived), delivered_at, final.

``order_answers`` — each order's answer to ``lookup``, packed (schema v6; PK shop, order_id)
    status, delayed_after (as in ``order_facts``: what a range of statuses reads), answer
    (``marshal`` of the order's ``order_facts`` values and its parcels' ``package_facts``
    values that ``lookup`` reads: :mod:`xl_lazada.cache.answers`), written with the facts in
    the same transaction; ``WITHOUT ROWID``, so a reference's answer is one index probe.

``cache_generation`` — one row (id 1): value, counted up whenever facts change (schema v3),
    so a front end can tell that its cached answers are stale.

``schema_version`` — one row per applied migration: version, applied_at.
"""

from __future__ import annotations

#: v1: the original tables.
V1 = """
CREATE TABLE shops (
    shop TEXT PRIMARY KEY,
    venture TEXT NOT NULL,
    seller_id TEXT,
    name TEXT,
    short_code TEXT,
    location TEXT,
    email TEXT,
    cross_border INTEGER NOT NULL DEFAULT 0,
    timezone TEXT NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    raw TEXT,
    first_seen_at TEXT NOT NULL,
    synced_at TEXT NOT NULL
);

CREATE TABLE orders (
    shop TEXT NOT NULL REFERENCES shops(shop),
    order_id TEXT NOT NULL,
    order_number TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    statuses TEXT NOT NULL,
    price TEXT,
    shipping_fee TEXT,
    voucher TEXT,
    payment_method TEXT,
    items_count INTEGER,
    promised_shipping_times TEXT,
    buyer_name TEXT,
    warehouse_code TEXT,
    remarks TEXT,
    raw TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (shop, order_id)
);
CREATE INDEX orders_created ON orders(shop, created_at);
CREATE INDEX orders_updated ON orders(shop, updated_at);

CREATE TABLE items (
    shop TEXT NOT NULL,
    order_item_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    status TEXT NOT NULL,
    sku TEXT,
    shop_sku TEXT,
    name TEXT,
    item_price TEXT,
    paid_price TEXT,
    currency TEXT,
    shipping_type TEXT,
    shipment_provider TEXT,
    shipping_provider_type TEXT,
    tracking_code TEXT,
    package_id TEXT,
    promised_shipping_time TEXT,
    sla_time_stamp TEXT,
    created_at TEXT,
    updated_at TEXT,
    reason TEXT,
    cancel_return_initiator TEXT,
    order_flag TEXT,
    raw TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (shop, order_item_id),
    FOREIGN KEY (shop, order_id) REFERENCES orders(shop, order_id) ON DELETE CASCADE
);
CREATE INDEX items_order ON items(shop, order_id);
CREATE INDEX items_package ON items(shop, package_id);

CREATE TABLE packages (
    shop TEXT NOT NULL,
    package_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    tracking_number TEXT,
    shipment_provider TEXT,
    ready_to_ship_at TEXT,
    last_traced_at TEXT,
    final INTEGER NOT NULL DEFAULT 0,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (shop, package_id),
    FOREIGN KEY (shop, order_id) REFERENCES orders(shop, order_id) ON DELETE CASCADE
);
CREATE INDEX packages_order ON packages(shop, order_id);

CREATE TABLE refs (
    ref TEXT NOT NULL,
    shop TEXT NOT NULL,
    kind TEXT NOT NULL,
    order_id TEXT NOT NULL,
    PRIMARY KEY (ref, shop, kind, order_id)
) WITHOUT ROWID;
CREATE INDEX refs_order ON refs(shop, order_id);

CREATE TABLE checkpoints (
    id INTEGER PRIMARY KEY,
    shop TEXT NOT NULL,
    package_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    event_time TEXT NOT NULL,
    status_code TEXT NOT NULL,
    detail_type TEXT,
    title TEXT,
    description TEXT,
    location TEXT,
    raw TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    UNIQUE (shop, package_id, event_time, status_code)
);

CREATE TABLE transactions (
    shop TEXT NOT NULL,
    transaction_number TEXT NOT NULL,
    transaction_date TEXT,
    transaction_type TEXT,
    fee_name TEXT,
    fee_type TEXT,
    amount TEXT NOT NULL,
    vat_in_amount TEXT,
    wht_amount TEXT,
    statement TEXT,
    paid_status TEXT,
    paid INTEGER NOT NULL DEFAULT 0,
    order_no TEXT,
    order_item_no TEXT,
    order_item_status TEXT,
    shipping_provider TEXT,
    reference TEXT,
    comment TEXT,
    raw TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (shop, transaction_number)
);
CREATE INDEX transactions_order ON transactions(shop, order_no);
CREATE INDEX transactions_date ON transactions(shop, transaction_date);

CREATE TABLE statements (
    shop TEXT NOT NULL,
    statement_number TEXT NOT NULL,
    created_at TEXT,
    updated_at TEXT,
    opening_balance TEXT,
    item_revenue TEXT,
    other_revenue_total TEXT,
    fees_total TEXT,
    subtotal1 TEXT,
    refunds TEXT,
    subtotal2 TEXT,
    closing_balance TEXT,
    payout TEXT,
    paid INTEGER NOT NULL DEFAULT 0,
    raw TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (shop, statement_number)
);

CREATE TABLE watermarks (
    shop TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (shop, name)
);

CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    order_id TEXT,
    entity_id TEXT,
    old_value TEXT,
    new_value TEXT,
    event_time TEXT
);
CREATE INDEX history_order ON history(shop, order_id);

CREATE TABLE sync_failures (
    shop TEXT NOT NULL,
    stage TEXT NOT NULL,
    ref TEXT NOT NULL,
    error TEXT NOT NULL,
    first_failed_at TEXT NOT NULL,
    last_failed_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (shop, stage, ref)
);
"""

#: v2: the latest checkpoint on each package (so tracking tables need no per-package
#: subquery), a log of sync runs, and history by observation time.
V2 = """
ALTER TABLE packages ADD COLUMN last_event_at TEXT;
ALTER TABLE packages ADD COLUMN last_status_code TEXT;
UPDATE packages SET
    last_event_at = (SELECT c.event_time FROM checkpoints c
                     WHERE c.shop = packages.shop AND c.package_id = packages.package_id
                     ORDER BY c.event_time DESC, c.id DESC LIMIT 1),
    last_status_code = (SELECT c.status_code FROM checkpoints c
                        WHERE c.shop = packages.shop AND c.package_id = packages.package_id
                        ORDER BY c.event_time DESC, c.id DESC LIMIT 1);

CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    summary TEXT
);
CREATE INDEX history_observed ON history(shop, observed_at);
"""

#: v3: facts kept at sync time (filled by ``xl_lazada.cache.facts``, backfilled on migrate),
#: and the indexes that keep every read by id, number or parcel on an index.
V3 = """
CREATE TABLE facts_settings (
    shop TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    settings TEXT NOT NULL,
    observed_at TEXT NOT NULL
);

CREATE TABLE order_facts (
    shop TEXT NOT NULL,
    order_id TEXT NOT NULL,
    order_number TEXT NOT NULL,
    created_at INTEGER,
    status TEXT NOT NULL,
    delayed_after INTEGER,
    item_statuses TEXT,
    item_counts TEXT,
    items INTEGER,
    products TEXT,
    total REAL,
    currency TEXT,
    promised_at INTEGER,
    rts_deadline INTEGER,
    rts_open INTEGER NOT NULL,
    rts_late INTEGER NOT NULL,
    rts_at INTEGER,
    tracking_numbers TEXT,
    package_ids TEXT,
    packages INTEGER NOT NULL,
    last_time INTEGER,
    last_title TEXT,
    last_code TEXT,
    last_location TEXT,
    last_package TEXT,
    delivered_at INTEGER,
    settlement_lines INTEGER NOT NULL,
    settlement_state TEXT NOT NULL,
    settlement_net TEXT NOT NULL,
    settlement_paid TEXT NOT NULL,
    settlement_components TEXT NOT NULL,
    net REAL,
    paid REAL,
    item_price REAL,
    commission REAL,
    payment_fee REAL,
    shipping REAL,
    reversals REAL,
    penalties REAL,
    other REAL,
    statements TEXT,
    last_transaction TEXT,
    updated_at INTEGER,
    buyer_name TEXT,
    payment_method TEXT,
    remarks TEXT,
    synced_at TEXT,
    PRIMARY KEY (shop, order_id)
);
CREATE INDEX order_facts_created ON order_facts(shop, created_at);

CREATE TABLE package_facts (
    shop TEXT NOT NULL,
    order_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    package_id TEXT NOT NULL,
    tracking_number TEXT,
    carrier TEXT,
    item_counts TEXT,
    rts_at INTEGER,
    last_time INTEGER,
    last_title TEXT,
    last_code TEXT,
    last_location TEXT,
    checkpoints INTEGER NOT NULL,
    idle_since INTEGER,
    can_stick INTEGER NOT NULL,
    sorting_applies INTEGER NOT NULL,
    sc_arrived_at INTEGER,
    sc_location TEXT,
    sc_inferred INTEGER NOT NULL,
    sc_handed_over INTEGER NOT NULL,
    sc_days REAL,
    sc_late INTEGER NOT NULL,
    delivered_at INTEGER,
    final INTEGER NOT NULL,
    PRIMARY KEY (shop, order_id, position)
);
CREATE INDEX package_facts_package ON package_facts(shop, package_id);

CREATE TABLE cache_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO cache_generation (id, value) VALUES (1, 0);
CREATE INDEX checkpoints_order ON checkpoints(shop, order_id);
CREATE INDEX orders_number ON orders(shop, order_number);
"""


#: v4: what payout statements and finance lines carry beyond v1 — the payout's currency
#: (Lazada writes ``"3962.41 EUR"``), shipment fee and credit, guarantee deposit, fees on
#: refunds, and each finance line's statement period as dates (periods need not be Monday to
#: Sunday). Old rows get the statement amounts from ``raw``; periods fill in as lines are
#: read again. (Numbered 4: the facts tables are v3.)
V4 = """
ALTER TABLE statements ADD COLUMN payout_currency TEXT;
ALTER TABLE statements ADD COLUMN shipment_fee TEXT;
ALTER TABLE statements ADD COLUMN shipment_fee_credit TEXT;
ALTER TABLE statements ADD COLUMN guarantee_deposit TEXT;
ALTER TABLE statements ADD COLUMN fees_on_refunds_total TEXT;
UPDATE statements SET
    shipment_fee = json_extract(raw, '$.shipment_fee'),
    shipment_fee_credit = json_extract(raw, '$.shipment_fee_credit'),
    guarantee_deposit = json_extract(raw, '$.guarantee_deposit'),
    fees_on_refunds_total = json_extract(raw, '$.fees_on_refunds_total')
WHERE json_valid(raw);
ALTER TABLE transactions ADD COLUMN statement_start TEXT;
ALTER TABLE transactions ADD COLUMN statement_end TEXT;
"""

#: v5: ``packages.ready_to_ship_at`` holds only what Lazada sent. Earlier versions copied the
#: rules' ready-to-ship time there and read it back as an input of the same rules; the
#: rules' answer lives in ``package_facts.rts_at`` (unchanged by this step). Lazada has not
#: sent one through the APIs used, so every value there was such a copy.
V5 = """
UPDATE packages SET ready_to_ship_at = NULL WHERE ready_to_ship_at IS NOT NULL;
"""

#: v6: ``order_answers``, each order's answer to ``lookup`` packed into one value (a range
#: formula reads one value per order instead of 33 columns); filled from the stored facts.
V6 = """
CREATE TABLE IF NOT EXISTS order_answers (
    shop TEXT NOT NULL,
    order_id TEXT NOT NULL,
    status TEXT NOT NULL,
    delayed_after INTEGER,
    answer BLOB NOT NULL,
    PRIMARY KEY (shop, order_id)
) WITHOUT ROWID;
"""

#: v7: an order whose number is its id keeps one reference row for that text (its
#: ``order_number`` one); the index read no longer probes for the duplicate per row.
V7 = """
DELETE FROM refs
WHERE kind = 'order_id' AND EXISTS (
    SELECT 1 FROM refs x
    WHERE x.ref = refs.ref AND x.shop = refs.shop AND x.kind = 'order_number'
      AND x.order_id = refs.order_id
);
"""

#: The migration list: (version, DDL script). A new database runs them all, in order.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, V1), (2, V2), (3, V3), (4, V4), (5, V5), (6, V6), (7, V7),
)  # fmt: skip

#: Data steps run after a version's DDL, in the same transaction ("module:function").
POST_MIGRATE: dict[int, str] = {
    3: "xl_lazada.cache.facts:backfill",
    6: "xl_lazada.cache.answers:backfill",
}
CURRENT_VERSION = MIGRATIONS[-1][0]
