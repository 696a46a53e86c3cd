"""Deterministic generation of a cross-border LGS seller's shop plan.

Each order follows one *path* (its life story: delivered, returned, lost, canceled late,
...). The first orders cycle through :data:`SHOWCASE` — every path, each aimed at a state
it must show at ``now`` (e.g. a parcel stuck for 5-15 days) — so even a 60-order shop
covers every status and checkpoint path; the rest draw paths at random.

Everything comes from ``random.Random(seed)``; the only clock is the ``now`` passed in.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime
from itertools import accumulate

from ..lazada.ventures import Venture
from . import catalog as C
from .paths import MULTI_UNIT, OUTCOME, PATH_WEIGHTS, SHOWCASE, window
from .plan import (
    DAY,
    HOUR,
    Event,
    ItemPlan,
    OrderPlan,
    PackagePlan,
    Product,
    ShopPlan,
    StatementPlan,
    local_date,
    local_day,
    no_gc,
    sla_deadline,
    week_start,
)

MINUTE = 60
_PAY_CUM = tuple(accumulate(C.PAYMENT_WEIGHTS))


def generate_plan(
    *, seed: int, orders: int, venture: Venture, now: datetime, days: int, future_days: float
) -> ShopPlan:
    """Plan a shop whose orders are created over ``[now - days, now + future_days]``."""
    if orders < 0 or days < 0 or future_days < 0:
        raise ValueError("orders, days and future_days must be >= 0")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with no_gc():
        return _Generator(seed, venture, now, days, future_days).run(orders)


class _Generator:
    def __init__(
        self, seed: int, venture: Venture, now: datetime, days: int, future_days: float
    ) -> None:
        self.seed = seed
        self.venture = venture
        self.locale = C.LOCALES[venture.code]
        self.offset = venture.utc_offset_hours * HOUR
        self.now_dt = now.astimezone(UTC)
        self.now = int(now.timestamp())
        self.days = days
        self.future_days = future_days
        self.rng = random.Random(seed)
        self._random = self.rng.random
        self.age_rng = random.Random(f"{seed}/ages")  # ages for showcase orders only
        self.catalog: list[Product] = []
        self.seller: dict[str, str] = {}
        self.origin = C.ORIGINS[0]
        self.penalty_late = self._money(5.0)
        self.penalty_fake_rts = self._money(10.0)
        self.customer_shipping = self._money(4.9)

    def _between(self, lo: int, hi: int) -> int:
        """A uniform integer in ``[lo, hi]`` (``randint`` is the generator's hot spot)."""
        return lo + int(self._random() * (hi - lo + 1))

    # --- money helpers -------------------------------------------------------------------

    def _money(self, myr: float, step: int | None = None) -> int:
        """A MYR base amount in this venture's minor units, rounded to a price step."""
        loc = self.locale
        step = step or loc.price_step
        minor = myr * loc.rate * (10**loc.decimals)
        return max(step, int(round(minor / step)) * step)

    def _tax(self, amount: int) -> int:
        r = self.locale.tax_rate
        return int(round(amount * r / (1 + r)))

    # --- the whole shop ----------------------------------------------------------------

    def run(self, n_orders: int) -> ShopPlan:
        rng = self.rng
        self._make_seller()
        self._make_catalog()
        start = self.now - self.days * DAY
        end = self.now + int(self.future_days * DAY)
        paths = list(PATH_WEIGHTS)
        cum = list(accumulate(PATH_WEIGHTS.values()))
        orders: list[OrderPlan] = []
        for i in range(n_orders):
            if i < len(SHOWCASE):
                path, target = SHOWCASE[i]
                o = self._build_at(path, target, i)
            else:
                path = rng.choices(paths, cum_weights=cum)[0]
                if path == "stuck":  # a stuck parcel only makes sense 5-15 days before now
                    o = self._build_at(path, "stuck", i)
                else:
                    o = self._build(path, self._between(start, max(start, end)), i)
            orders.append(o)
        orders.sort(key=lambda o: o.created)  # stable: ties keep generation order
        self._assign_ids(orders)
        statements = self._statements(orders)
        params = {
            "seed": self.seed,
            "orders": n_orders,
            "venture": self.venture.code,
            "now": self.now_dt.isoformat(),
            "days": self.days,
            "future_days": self.future_days,
        }
        return ShopPlan(params, self.seller, self.catalog, orders, statements)

    def _make_seller(self) -> None:
        rng = self.rng
        self.origin = rng.choices(C.ORIGINS, C.ORIGIN_WEIGHTS)[0]
        name, company = rng.choice(C.SHOP_NAMES)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))
        self.seller = {
            "seller_id": str(self._between(1_000_000_000, 1_999_999_999)),
            "name": name,
            "name_company": company,
            "short_code": f"CN{self._between(100_000, 999_999)}{letters}",
            "location": f"{self.origin.pickup_city.split(',')[0]}, CN",
            "email": f"ops@{slug}.example.com",
            "cb": "true",
            "verified": "true",
            "status": "ACTIVE",
        }

    def _make_catalog(self) -> None:
        rng = self.rng
        v = self.venture.code
        for name, stem, price, ship, commission in C.PRODUCTS:
            for colour in rng.sample(C.VARIANTS, self._between(1, 3)):
                self.catalog.append(
                    Product(
                        sku=f"{stem}-{colour[:3].upper()}",
                        shop_sku=f"{self._between(10**9, 10**10 - 1)}_{v}-{self._between(10**10, 10**11 - 1)}",
                        name=f"{name} ({colour})",
                        price=self._money(price * rng.uniform(0.9, 1.1)),
                        ship_cost=self._money(ship, step=1 if self.locale.decimals else 100),
                        commission_bp=int(commission * 100),
                    )
                )

    # --- one order -------------------------------------------------------------------------

    def _build_at(self, path: str, target: str, index: int) -> OrderPlan:
        """Build an order whose ``created`` puts it in state ``target`` at ``now``.

        The life depends a little on ``created`` (the SLA skips weekends), so guess an age,
        look where the target state falls in that life, move ``created`` there and rebuild
        with the same random draws; a few rounds settle it.
        """
        max_age = self.days * DAY
        state = self.rng.getstate()
        age = int(self.age_rng.uniform(0, max_age))
        o = self._build(path, self.now - age, index)
        for _ in range(12):
            shown = window(o, target)
            lo, hi = (max(shown[0], 0), min(shown[1], max_age)) if shown else (0, 0)
            if lo <= age < hi:
                break
            if lo >= hi:  # this life never shows the target in range: draw another life
                state = self.rng.getstate()
                age = int(self.age_rng.uniform(0, max_age))
            else:  # same life (same draws), created so that now falls in the window
                age = int(lo + self.age_rng.random() * (hi - lo))
                self.rng.setstate(state)
            o = self._build(path, self.now - age, index)
        return o

    def _build(self, path: str, created: int, index: int) -> OrderPlan:
        rng = self.rng
        loc = self.locale
        first = rng.choice(loc.first_names)
        last = rng.choice(loc.last_names)
        remarks = rng.choice(C.REMARKS) if rng.random() < 0.08 else ""
        if index < len(C.HOSTILE_FIRST_NAMES):
            first = C.HOSTILE_FIRST_NAMES[index]
        elif rng.random() < 0.01:
            first = rng.choice(C.HOSTILE_FIRST_NAMES)
        if index < len(C.HOSTILE_REMARKS):
            remarks = C.HOSTILE_REMARKS[index]
        elif rng.random() < 0.01:
            remarks = rng.choice(C.HOSTILE_REMARKS)
        city, post_code = rng.choice(loc.cities)
        if path == "unpaid_canceled":
            pay = rng.choice(C.PAYMENT_METHODS[1:])
        else:
            pay = rng.choices(C.PAYMENT_METHODS, cum_weights=_PAY_CUM)[0]
        o = OrderPlan(
            order_id="",
            created=created,
            sla=sla_deadline(created, self.offset),
            path=path,
            payment_method=pay,
            first_name=first,
            last_name=last,
            address1=f"No. {self._between(1, 250)}, {rng.choice(loc.streets)}",
            city=city,
            post_code=post_code,
            phone=f"{loc.phone_prefix}{'*' * 7}{self._between(10, 99)}",
            remarks=remarks,
            shipping_fee=0 if rng.random() < 0.6 else self.customer_shipping,
            voucher=0,
            gift=rng.random() < 0.03,
        )
        self._add_units(o, min_units=2 if path in MULTI_UNIT else 1)
        paid = created if pay == "COD" else created + self._between(30, 30 * MINUTE)
        for it in o.items:
            if pay == "COD":
                it.add(created, "pending")
            else:
                it.add(created, "unpaid")
                if path != "unpaid_canceled":
                    it.add(paid, "pending")
        if path == "unpaid_canceled":
            self._cancel(
                o,
                range(len(o.items)),
                created + self._between(30 * HOUR, 72 * HOUR),
                C.CANCEL_REASON_UNPAID,
                C.INITIATOR_SYSTEM,
            )
        elif path == "canceled_buyer":
            self._cancel(
                o,
                range(len(o.items)),
                paid + self._between(20 * MINUTE, 20 * HOUR),
                rng.choice(C.CANCEL_REASONS_BUYER),
                C.INITIATOR_BUYER,
            )
        elif path == "canceled_late":
            self._cancel_late(o, paid)
        else:
            self._fulfil(o, path, paid)
        return o

    def _add_units(self, o: OrderPlan, min_units: int) -> None:
        rng = self.rng
        n_products = rng.choices((1, 2, 3), cum_weights=(70, 92, 100))[0]
        units: list[int] = []
        for p in rng.sample(range(len(self.catalog)), n_products):
            units += [p] * (1 if rng.random() < 0.8 else 2)
        units = units[:5]
        while len(units) < min_units:
            units.append(rng.randrange(len(self.catalog)))
        prices = [self.catalog[p].price for p in units]
        total = sum(prices)
        shares = [0] * len(units)
        if rng.random() < 0.25:  # a voucher, spread over the units in proportion to price
            step = self.locale.price_step
            voucher = max(step, int(round(total * rng.uniform(0.03, 0.15) / step)) * step)
            shares = [voucher * p // total for p in prices]
            shares[0] += voucher - sum(shares)
            o.voucher = voucher
        o.items = [
            ItemPlan(item_id="", product=p, item_price=price, paid_price=price - share)
            for p, price, share in zip(units, prices, shares, strict=True)
        ]

    def _cancel(self, o: OrderPlan, units, at: int, reason: str, initiator: str) -> None:
        for u in units:
            it = o.items[u]
            it.add(max(at, it.tr_t[-1]), "canceled")
            it.reason, it.initiator = reason, initiator

    def _cancel_late(self, o: OrderPlan, paid: int) -> None:
        """Not ready to ship by the SLA: Lazada cancels it, and usually fines the seller."""
        rng = self.rng
        cancel = o.sla + self._between(6 * HOUR, 60 * HOUR)
        if rng.random() < 0.3:  # packed (tracking number printed) but never handed over
            pack = min(paid + self._between(12 * HOUR, 40 * HOUR), o.sla - HOUR)
            pack = max(pack, paid + MINUTE)
            o.packages.append(PackagePlan("", ""))
            for it in o.items:
                it.package, it.packed_at = 0, pack
                it.add(pack, "packed")
        self._cancel(o, range(len(o.items)), cancel, C.CANCEL_REASON_LATE, C.INITIATOR_SYSTEM)
        if rng.random() < 0.7:
            t = cancel + self._between(1 * DAY, 3 * DAY)
            o.txns.append(
                (
                    t,
                    0,
                    C.FEE_PENALTY_LATE_CANCEL,
                    -self.penalty_late,
                    -self._tax(self.penalty_late),
                    "",
                )
            )

    def _fulfil(self, o: OrderPlan, path: str, paid: int) -> None:
        rng = self.rng
        active = list(range(len(o.items)))
        if path == "mixed_cancel":  # one unit canceled, the others go on
            gone = active.pop()
            if rng.random() < 0.7:
                reason, who = rng.choice(C.CANCEL_REASONS_BUYER), C.INITIATOR_BUYER
            else:
                reason, who = rng.choice(C.CANCEL_REASONS_SELLER), C.INITIATOR_SELLER
            self._cancel(o, [gone], paid + self._between(HOUR, 20 * HOUR), reason, who)
        n_pkgs = 1
        if path == "split_partial" or (len(active) >= 2 and rng.random() < 0.15):
            n_pkgs = 2
            if len(active) >= 3 and rng.random() < 0.3:
                n_pkgs = 3
        cuts = sorted(rng.sample(range(1, len(active)), n_pkgs - 1)) if n_pkgs > 1 else []
        groups = [active[a:b] for a, b in zip([0, *cuts], [*cuts, len(active)], strict=True)]
        base_pack = paid + self._between(2 * HOUR, 30 * HOUR)
        for k, group in enumerate(groups):
            outcome = OUTCOME.get(path, "delivered") if k == 0 else "delivered"
            pack = base_pack
            if k > 0:
                extra = (40 * HOUR, 110 * HOUR) if path == "split_partial" else (0, 20 * HOUR)
                pack += self._between(*extra)
            rts = None
            if path == "rts_late" and k == 0:
                rts = o.sla + self._between(2 * HOUR, 40 * HOUR)
                pack = max(paid + 10 * MINUTE, rts - self._between(HOUR, 12 * HOUR))
            repack = (path == "repacked" and k == 0) or rng.random() < 0.02
            self._package(o, group, pack, rts, outcome, repack, path == "slow_sorting" and k == 0)

    def _package(
        self,
        o: OrderPlan,
        units: list[int],
        pack: int,
        rts: int | None,
        outcome: str,
        repack: bool,
        slow: bool,
    ) -> None:
        rng = self.rng
        k = len(o.packages)
        repack_at = pack + self._between(30 * MINUTE, 6 * HOUR) if repack else None
        if rts is not None and repack_at is not None:
            repack_at = min(repack_at, rts)
        if rts is None:
            rts = (repack_at or pack) + self._between(10 * MINUTE, 8 * HOUR)
        events = self._route(rts, outcome, slow, o.city)
        o.packages.append(PackagePlan("", "", events))
        for u in units:
            it = o.items[u]
            it.package, it.packed_at = k, pack
            it.add(pack, "packed")
            if repack_at is not None:
                it.add(repack_at, "repacked")
            it.add(rts, "ready_to_ship")
            for t, code, _loc, _note in events:
                status = C.CHECKPOINT_ITEM_STATUS.get(code)
                if status:
                    it.add(t, status)
        delivered = next((e[0] for e in reversed(events) if e[1] == "DELIVERED"), None)
        if delivered is not None:
            if outcome == "returned":
                settle = delivered + self._between(2 * HOUR, 36 * HOUR)
                back = delivered + self._between(2 * DAY, 7 * DAY)
                refund_at = back + self._between(DAY, 4 * DAY)
                reason = rng.choice(C.RETURN_REASONS)
                for u in units:
                    it = o.items[u]
                    it.add(back, "returned")
                    it.reason, it.initiator = reason, C.INITIATOR_RETURN
                    self._settle(o, u, settle, refund_at)
            else:
                # most settle within days; a few are held for weeks, which sellers must chase
                held = rng.random() < 0.06
                settle = delivered + (
                    self._between(15 * DAY, 30 * DAY) if held else self._between(0, 10 * DAY)
                )
                for u in units:
                    self._settle(o, u, settle, None)
        never_scanned = events[-1][1] in ("READY_TO_SHIP", "FM_PICKUP_SUCCESS")
        if outcome == "stuck" and never_scanned and rng.random() < 0.5:
            # never scanned by LGS: fined for a fake ready-to-ship
            t = rts + self._between(10 * DAY, 12 * DAY)
            fine = self.penalty_fake_rts
            o.txns.append((t, units[0], C.FEE_PENALTY_FAKE_RTS, -fine, -self._tax(fine), ""))

    def _route(self, rts: int, outcome: str, slow: bool, city: str) -> list[Event]:
        """The package's checkpoints from ready-to-ship to wherever ``outcome`` ends it."""
        rng = self.rng
        origin, loc = self.origin, self.locale
        hub = rng.choice(loc.hubs)
        ev: list[Event] = [(rts, "READY_TO_SHIP", origin.pickup_city, "")]
        t = rts
        if rng.random() < 0.55:
            t += self._between(3 * HOUR, 30 * HOUR)
            ev.append((t, "FM_PICKUP_SUCCESS", origin.pickup_city, ""))
        if slow:  # reaches the sorting centre more than 7 days after ready-to-ship
            t = max(t + HOUR, rts + self._between(7 * DAY + 4 * HOUR, 12 * DAY))
        else:
            t += self._between(8 * HOUR, 84 * HOUR)
        ev.append((t, "IB_SUCCESS_FIRST_MILE_HUB", origin.sorting_centre, ""))
        if outcome == "scrapped":
            t += self._between(2 * DAY, 8 * DAY)
            ev.append((t, "PACKAGE_SCRAPPED", origin.sorting_centre, rng.choice(C.SCRAPPED_NOTES)))
            return ev
        for code, where, lo, hi in (
            ("OB_SUCCESS_FIRST_MILE_HUB", origin.sorting_centre, 4, 30),
            ("HANDOVER", origin.airport, 3, 24),
            ("UPLIFTED", origin.airport, 6, 48),
            ("LINEHAUL_ARRIVAL_SUCCESS", loc.airport, 5, 36),
            ("CUSTOMS_CLEARANCE_SUCCESS", loc.customs, 6, 60),
            ("RECEIVED_BY_LAST_MILE", hub, 4, 30),
            ("OUT_FOR_DELIVERY", hub, 8, 60),
        ):
            t += self._between(lo * HOUR, hi * HOUR)
            ev.append((t, code, where, ""))
        # ev now ends with OUT_FOR_DELIVERY; cut or extend it per outcome.
        n_ib = next(i for i, e in enumerate(ev) if e[1] == "IB_SUCCESS_FIRST_MILE_HUB")
        if outcome == "stuck":  # silence after any scan up to the last-mile hub, none planned
            return ev[: self._between(1, len(ev) - 1)]
        if outcome == "lost":  # silence after a scan past handover, then declared lost
            ev = ev[: self._between(n_ib + 3, len(ev) - 1)]
            ev.append((ev[-1][0] + self._between(8 * DAY, 20 * DAY), "LOST_BY_3PL", ev[-1][2], ""))
            return ev
        if outcome == "damaged":
            ev = ev[: self._between(n_ib + 5, len(ev))]
            ev.append((ev[-1][0] + self._between(DAY, 5 * DAY), "DAMAGE_BY_3PL", ev[-1][2], ""))
            return ev
        t = ev[-1][0]
        if outcome in ("failed_redeliver", "back_success", "back_failed"):
            t += self._between(2 * HOUR, 9 * HOUR)
            ev.append((t, "DELIVER_FAILED", hub, rng.choice(C.DELIVER_FAILED_NOTES)))
            if outcome == "failed_redeliver" or rng.random() < 0.5:  # another attempt
                t += self._between(18 * HOUR, 48 * HOUR)
                ev.append((t, "OUT_FOR_DELIVERY", hub, ""))
                if outcome != "failed_redeliver":
                    t += self._between(2 * HOUR, 9 * HOUR)
                    ev.append((t, "DELIVER_FAILED", hub, rng.choice(C.DELIVER_FAILED_NOTES)))
            if outcome != "failed_redeliver":
                t += self._between(2 * DAY, 6 * DAY)
                ev.append((t, "ON_THE_WAY_BACK_TO_SHIPPER", hub, ""))
                t += self._between(8 * DAY, 20 * DAY)
                if outcome == "back_success":
                    ev.append((t, "BACK_TO_SHIPPER_SUCCESS", loc.return_hub, ""))
                else:
                    ev.append(
                        (
                            t,
                            "BACK_TO_SHIPPER_FAILED",
                            loc.return_hub,
                            rng.choice(C.BACK_FAILED_NOTES),
                        )
                    )
                return ev
        t += self._between(HOUR, 9 * HOUR)
        ev.append((t, "DELIVERED", city, rng.choice(C.DELIVERED_NOTES)))
        return ev

    def _settle(self, o: OrderPlan, u: int, at: int, refund_at: int | None) -> None:
        """Finance lines for one delivered unit, and the reversal if it came back."""
        it = o.items[u]
        product = self.catalog[it.product]
        n = len(o.items)
        ship_share = o.shipping_fee // n + (o.shipping_fee % n if u == 0 else 0)
        commission = int(round(it.paid_price * product.commission_bp / 10_000))
        payment_fee = int(round((it.paid_price + ship_share) * 0.02))
        rows = [
            (C.FEE_ITEM_PRICE, it.paid_price, 0),
            (C.FEE_COMMISSION, -commission, -self._tax(commission)),
            (C.FEE_PAYMENT, -payment_fee, -self._tax(payment_fee)),
            (C.FEE_SHIPPING_BY_CUSTOMER, ship_share, 0),
            (C.FEE_SHIPPING_BY_SELLER, -product.ship_cost, -self._tax(product.ship_cost)),
        ]
        o.txns.extend((at, u, fee, amount, tax, "") for fee, amount, tax in rows if amount)
        if refund_at is not None:
            o.txns.append((refund_at, u, C.FEE_REVERSAL_ITEM_PRICE, -it.paid_price, 0, ""))
            if commission:
                o.txns.append(
                    (refund_at, u, C.FEE_REVERSAL_COMMISSION, commission, self._tax(commission), "")
                )

    # --- ids and statements ----------------------------------------------------------------

    def _assign_ids(self, orders: list[OrderPlan]) -> None:
        """Ids grow with creation time, as Lazada's do; all unique by construction."""
        v = self.venture.code
        order_no = self._between(310_000_000_000_000, 319_000_000_000_000)
        item_no = self._between(350_000_000_000_000, 359_000_000_000_000)
        package_no = self._between(100_000_000_000_000, 199_000_000_000_000)
        tracking_no = self._between(10_000_000_000, 80_000_000_000)
        for o in orders:
            order_no += self._between(1, 5_000)
            o.order_id = str(order_no)
            for it in o.items:
                item_no += self._between(1, 3_000)
                it.item_id = str(item_no)
            for p in o.packages:
                package_no += self._between(1, 2_000)
                tracking_no += self._between(1, 2_000)
                p.package_id = f"FP{package_no}"
                p.tracking_number = f"LX{v}{tracking_no}"
        # transaction numbers in the order the rows appear
        rows = sorted(
            ((t[0], oi, ri) for oi, o in enumerate(orders) for ri, t in enumerate(o.txns)),
        )
        txn_no = self._between(700_000_000_000, 790_000_000_000)
        for _t, oi, ri in rows:
            txn_no += self._between(1, 50)
            t = orders[oi].txns[ri]
            orders[oi].txns[ri] = (t[0], t[1], t[2], t[3], t[4], str(txn_no))

    def _statements(self, orders: list[OrderPlan]) -> list[StatementPlan]:
        """Weekly statements, Monday-Sunday local time, paid some days after the week closes."""
        weeks: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for o in orders:
            for t, _u, fee, amount, _tax, _no in o.txns:
                weeks[week_start(local_day(t, self.offset))].append((fee, amount))
        out: list[StatementPlan] = []
        carry = 0
        for monday in sorted(weeks):
            item_revenue = other = fees = refunds = 0
            for fee, amount in weeks[monday]:
                if fee == C.FEE_ITEM_PRICE:
                    item_revenue += amount
                elif fee == C.FEE_REVERSAL_ITEM_PRICE:
                    refunds -= amount
                elif amount >= 0:
                    other += amount
                else:
                    fees -= amount
            created = (monday + 7) * DAY - self.offset + self._between(HOUR, 10 * HOUR)
            day = local_date(created, self.offset)
            s = StatementPlan(
                number=f"{self.seller['short_code']}-{day:%Y%m%d}",
                monday=monday,
                created=created,
                paid_at=created + self._between(3 * DAY, 8 * DAY),
                opening=carry,
                item_revenue=item_revenue,
                other_revenue=other,
                fees=fees,
                refunds=refunds,
            )
            carry = min(s.closing, 0)
            out.append(s)
        return out
