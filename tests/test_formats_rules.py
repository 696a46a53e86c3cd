"""The milestone table (checkpoint meaning as data), ready_to_ship_pending, login health."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from xl_lazada.lazada.statuses import PRE_RTS_STATUSES, STATUS_FILTERS
from xl_lazada.lazada.tokens import Token, token_health_of
from xl_lazada.rules import (
    Checkpoint,
    RuleSettings,
    display_status,
    milestone_of,
    ready_to_ship_time,
    rts_status,
    sorting_center,
    unmatched,
)
from xl_lazada.rules import milestones as M
from xl_lazada.rules.events import classify, unlisted_codes
from xl_lazada.rules.stuck import stuck_status

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def cp(code: str, days: float, title: str = "", detail_type: str = "") -> Checkpoint:
    return Checkpoint(code, T0 + timedelta(days=days), title=title, detail_type=detail_type)


@pytest.mark.parametrize(
    ("code", "dtype", "title", "want", "by"),
    [
        ("1200", "ready_to", "Packed by seller / warehouse", "packed", "code"),
        ("1210", "shipped", "", "handed_over", "code"),
        (
            "100013",
            "ship_info",
            "Arrived at Main Logistics Facility",
            "sort_centre_inbound",
            "code",
        ),
        ("100018", "ship_info", "Out for Delivery", "out_for_delivery", "code"),
        ("1400", "delivered", "Delivered", "delivered", "code"),
        # push-notification names an old cache holds
        ("READY_TO_SHIP", "", "", "packed", "code"),
        ("IB_SUCCESS_FIRST_MILE_HUB", "", "", "sort_centre_inbound", "code"),
        ("DELIVERED", "", "", "delivered", "code"),
        ("INFO_ST_CB_IB_SUCCESS_IN_SORT_CENTER", "", "", "sort_centre_inbound", "code_pattern"),
        # a new code: its title decides, then its detail_type
        (
            "555001",
            "ship_info",
            "Parcel arrived at Yiwu Sorting Center",
            "sort_centre_inbound",
            "title",
        ),
        ("555002", "ship_info", "Customs clearance completed", "customs", "title"),
        ("555003", "ship_info", "Return to seller failed", "return_failed", "title"),
        ("555004", "ship_info", "Delivery failed: address incomplete", "failed_delivery", "title"),
        ("555005", "delivered", "", "delivered", "detail_type"),
        ("555006", "ship_info", "Kurier hat gewechselt", "in_transit", "detail_type"),
    ],
)
def test_checkpoint_meaning_comes_from_the_table(code, dtype, title, want, by) -> None:
    match = classify(Checkpoint(code, T0, title=title, detail_type=dtype))
    assert (match.milestone, match.by) == (want, by)


def test_an_event_nothing_matches_is_kept_shown_and_counted() -> None:
    odd = cp("777777", 3, title="Parcel information updated", detail_type="other")
    events = [cp("1200", 0, detail_type="ready_to"), cp("100013", 2), odd]
    assert milestone_of(odd) is None
    assert unmatched(events) == [odd]
    assert unlisted_codes(events) == {"777777": 1}
    # never dropped, never a crash: it is still the parcel's latest event
    info = stuck_status(["shipped"], events, now=T0 + timedelta(days=30))
    assert info.last_code == "777777" and info.stuck
    assert (
        sorting_center(events, rts_at=T0, now=T0 + timedelta(days=3)).arrived_at
        == events[1].event_time
    )


def test_sorting_centre_arrival_from_numeric_codes_and_inferred_from_later_ones() -> None:
    events = [cp("1200", 0), cp("1210", 1), cp("100013", 9, "Arrived at Main Logistics Facility")]
    info = sorting_center(events, rts_at=ready_to_ship_time(events), now=T0 + timedelta(days=10))
    assert info.arrived_at == T0 + timedelta(days=9) and info.flagged and not info.inferred
    later = [cp("1200", 0), cp("100102", 3), cp("1400", 12)]
    info = sorting_center(later, rts_at=T0, now=T0 + timedelta(days=20))
    assert info.inferred and info.arrived_at == T0 + timedelta(days=3) and not info.flagged


def test_extra_milestones_from_settings_file_json_and_environment(tmp_path, monkeypatch) -> None:
    odd = cp("888001", 1, title="Scan at Guangzhou consolidation", detail_type="x")
    assert milestone_of(odd) is None
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps({"codes": [{"code": "888001", "milestone": "sort_centre_inbound"}]}),
        encoding="utf-8",
    )
    settings = RuleSettings(extra_milestones=str(extra))
    assert M.table_for(settings).milestone("888001") == "sort_centre_inbound"
    info = sorting_center([cp("1200", 0), odd], rts_at=T0, now=T0, settings=settings)
    assert info.arrived_at == odd.event_time
    # inline JSON, from the Settings sheet
    inline = RuleSettings.from_mapping(
        {
            "Extra milestones": '{"title_patterns": [{"pattern": "consolidation", "milestone": "left_origin"}]}'
        }
    )
    assert M.table_for(inline).milestone("888002", "", "At consolidation") == "left_origin"
    # environment: the shipped table plus the file, with no settings at all
    monkeypatch.setenv(M.ENV_VAR, str(extra))
    assert M.milestone_table().milestone("888001") == "sort_centre_inbound"
    assert M.milestone_table().milestone("1400") == "delivered"  # shipped entries stay


def test_a_bad_extra_table_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"codes": [{"code": "1", "milestone": "teleported"}]}', encoding="utf-8")
    with pytest.raises(M.MilestoneTableError, match="unknown milestone 'teleported'"):
        M.table_for(RuleSettings(extra_milestones=str(bad)))
    with pytest.raises(M.MilestoneTableError, match="cannot read"):
        M.load_extra(str(tmp_path / "missing.json"))
    with pytest.raises(M.MilestoneTableError, match="not JSON"):
        M.load_extra("{nope")


def test_the_shipped_table_covers_every_milestone_the_rules_need() -> None:
    table = M.default_table()
    needed = {
        "packed",
        "handed_over",
        "sort_centre_inbound",
        "left_origin",
        "customs",
        "arrived_destination",
        "out_for_delivery",
        "delivered",
        "failed_delivery",
        "returned",
        "lost",
        "damaged",
    }
    assert needed <= set(table.codes.values())
    assert set(M.MILESTONES) >= M.FINAL and set(M.MILESTONES) >= M.AFTER_SORT_CENTRE


# -- ready_to_ship_pending ------------------------------------------------------------------------
def test_ready_to_ship_pending_is_still_under_the_48_hour_rule() -> None:
    assert "ready_to_ship_pending" in PRE_RTS_STATUSES
    assert "ready_to_ship_pending" in STATUS_FILTERS["toship"]
    created = T0
    now = T0 + timedelta(hours=60)
    promised = T0 + timedelta(hours=48)
    assert display_status(["ready_to_ship_pending"], promised_shipping_time=promised, now=now) == (
        "Delayed"
    )
    assert (
        display_status(["ready_to_ship_pending"], promised_shipping_time=promised, now=T0)
        == "Pending"
    )
    info = rts_status(created, None, now, cross_border=False, done=False)
    assert info.late and info.hours_left is not None and info.hours_left < 0


# -- login health -----------------------------------------------------------------------------------
def test_refresh_expires_in_zero_means_no_refresh() -> None:
    now = T0
    t = Token.from_wire(
        {"access_token": "a" * 10, "refresh_token": "r" * 10, "expires_in": 7 * 86400,
         "refresh_expires_in": 0},
        now,
    )  # fmt: skip
    assert not t.refreshable and t.refresh_expired(now) and t.login_ends_at == t.expires_at
    assert Token.from_dict(t.to_dict()).refreshable is False
    unknown = Token.from_wire(
        {"access_token": "a" * 10, "refresh_token": "r" * 10, "expires_in": 86400}, now
    )
    assert unknown.refreshable  # not sent: assumed refreshable for its access lifetime


@pytest.mark.parametrize(
    ("access_days", "refresh_days", "can", "level"),
    [
        (25, 170, True, "ok"),
        (3, 5, True, "warn"),  # refreshing cannot help: the login itself ends in 5 days
        (25, 170, False, "warn"),  # cannot refresh at all
        (-1, -1, True, "expired"),
        (-1, 3, True, "warn"),  # access expired but still refreshable
    ],
)
def test_login_health_levels(access_days, refresh_days, can, level) -> None:
    h = token_health_of(
        "myshop",
        T0 + timedelta(days=access_days),
        T0 + timedelta(days=refresh_days),
        can_refresh=can,
        now=T0,
    )
    assert h.level == level
    assert "myshop" in h.message
    if level != "ok":
        assert "xl-lazada login" in h.message and h.needs_login
    if level == "warn" and can:
        assert "does not extend" in h.message


# -- AUTH_TYPE_UNSUPPORTED (the sandbox's apps can all refresh: a mock answers this one) ------
def test_an_app_that_cannot_refresh_is_told_to_log_in_and_not_asked_again() -> None:
    import httpx

    from xl_lazada.config import Connection
    from xl_lazada.lazada.client import LazadaClient
    from xl_lazada.lazada.dates import utcnow
    from xl_lazada.lazada.errors import RefreshUnsupportedError
    from xl_lazada.lazada.retry import NO_RETRY
    from xl_lazada.secret import Secret

    refreshes = []

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/token/refresh"):
            refreshes.append(1)
            return httpx.Response(
                200,
                json={
                    "type": "ISV",
                    "code": "AUTH_TYPE_UNSUPPORTED",
                    "message": "x",
                    "request_id": "r",
                },
            )
        return httpx.Response(200, json={"code": "0", "data": {"seller_id": 1}, "request_id": "r"})

    now = utcnow()
    token = Token(
        access_token=Secret("access-1234"),
        refresh_token=Secret("refresh-1234"),
        expires_at=now + timedelta(hours=10),  # due for an early refresh
        refresh_expires_at=now + timedelta(days=20),
        issued_at=now - timedelta(days=6),
    )
    saved: list[Token] = []
    conn = Connection(
        base_url="https://api.lazada.com.my/rest",
        app_key="123",
        app_secret=Secret("secret-1234"),
        access_token=token.access_token,
        refresh_token=token.refresh_token,
        auth_url="https://auth.lazada.com/rest",
    )
    with LazadaClient(
        conn,
        transport=httpx.MockTransport(server),
        retry=NO_RETRY,
        token=token,
        on_token=saved.append,
    ) as client:
        assert client.seller().seller_id == "1"  # the current token still works
        assert client.seller().seller_id == "1"
        assert refreshes == [1]  # asked once, never again
        assert client.token is not None and not client.token.refreshable
        assert saved and not saved[-1].refreshable  # remembered for `shops` / `doctor`
        health = token_health_of("s", client.token.expires_at, client.token.refresh_expires_at,
                                 can_refresh=client.token.refreshable)  # fmt: skip
        assert health.level == "warn" and "cannot be refreshed" in health.message
        with pytest.raises(RefreshUnsupportedError, match="log in"):
            client._refresh(stale=client.token.access_token, reason="test")


def test_shops_and_doctor_warn_before_the_login_ends(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from xl_lazada.cli import cli
    from xl_lazada.lazada.dates import utcnow
    from xl_lazada.profiles import Profile, save_profile, token_health

    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path))
    for var in ("XL_LAZADA_APP_KEY", "XL_LAZADA_APP_SECRET", "XL_LAZADA_ACCESS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    now = utcnow()

    def profile(name: str, access_days: float, refresh_days: float) -> Profile:
        return Profile(
            name=name,
            venture="MY",
            base_url="https://api.lazada.com.my/rest",
            app_key="123",
            token_expires_at=(now + timedelta(days=access_days)).isoformat(),
            refresh_expires_at=(now + timedelta(days=refresh_days)).isoformat(),
        )

    save_profile(profile("fine", 25, 170), make_default=True)
    save_profile(profile("soon", 2, 3))
    assert token_health().level == "ok"  # the default shop
    assert token_health("soon").level == "warn" and token_health("soon").days_left < 4
    runner = CliRunner()
    shops = runner.invoke(cli, ["shops"], catch_exceptions=False).output
    assert "WARNING: shop 'soon'" in shops and "xl-lazada login --name soon" in shops
    assert "WARNING: shop 'fine'" not in shops
    doctor = runner.invoke(cli, ["doctor", "--cache", str(tmp_path / "none.sqlite3")])
    assert doctor.exit_code == 0 and "[warn] shop 'soon'" in doctor.output
    save_profile(profile("gone", -2, -1))
    doctor = runner.invoke(cli, ["doctor", "--cache", str(tmp_path / "none.sqlite3")])
    assert doctor.exit_code == 1 and "[expired] shop 'gone'" in doctor.output
