"""The admin settings page (issue #18): shown to an account that may read all users, with the usage
report across users and the feature flags; a flag turned off there is off for the app; a banner
the window shows lands in error_logs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from synthbot_desktop.app import AppContext
from synthbot_desktop.config import FEATURE_FLAGS
from synthbot_desktop.gui.settings.dialog import SettingsDialog
from synthbot_desktop.services import admin as admin_service
from synthbot_desktop.services import error_reports, features
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.models import ErrorLog, FeatureFlag
from synthbot_desktop.storage.records import UsageRecord

pytestmark = pytest.mark.gui

DAY = dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin_ctx(app_env: dict[str, str], memory_keyring: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SYNTHBOT_USER", "root-admin")
    ctx = AppContext()
    with ctx.db.session() as s:
        for name, tokens in (("alice", 11), ("bob", 22)):
            uid = repo.get_or_create_user(s, name).id
            repo.add_usage(s, UsageRecord("openai", model="m1", tokens_in=tokens, cost_usd=Decimal("0.01"),
                                          created_at=DAY), uid)
    yield ctx
    ctx.close()


def _cell(table: Any, row: int, col: int) -> str:
    item = table.item(row, col)
    return item.text() if item is not None else ""


def test_admin_page_shows_usage_and_flags_and_turns_a_flag_off(qtbot: Any, admin_ctx: AppContext) -> None:
    dialog = SettingsDialog(admin_ctx)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "admin" in dialog.pages, timeout=10000)
    page = dialog.pages["admin"]
    assert dialog.nav.item(dialog.nav.count() - 1).text() == "Admin"
    qtbot.waitUntil(lambda: page.loaded >= 1, timeout=10000)
    table = page.usage_table
    rows = {(_cell(table, r, 0), _cell(table, r, 1)): _cell(table, r, 4) for r in range(table.rowCount())}
    assert rows == {("alice", "openai"): "11", ("bob", "openai"): "22"}  # column 4: tokens_in
    assert page.flag_names == sorted(FEATURE_FLAGS)
    assert page.flags_table.rowCount() == len(FEATURE_FLAGS)

    row = page.flag_names.index("provider.openai")
    page.flags_table.selectRow(row)
    assert page.selected_flag() == "provider.openai"
    page.off_button.click()
    qtbot.waitUntil(lambda: page.loaded >= 2 and _cell(page.flags_table, row, 1) == "off", timeout=10000)
    assert _cell(page.flags_table, row, 2) == "off"  # "Here": the app now hides it
    with admin_ctx.db.session() as s:
        assert s.scalars(select(FeatureFlag.enabled).where(FeatureFlag.name == "provider.openai")).one() is False
    assert not features.enabled(admin_ctx, "provider.openai")
    assert "openai" not in features.allowed_providers(admin_ctx, cached=True)
    page.clear_button.click()
    qtbot.waitUntil(lambda: page.loaded >= 3 and _cell(page.flags_table, row, 1) == "-", timeout=10000)
    assert features.enabled(admin_ctx, "provider.openai")


def test_admin_page_edits_per_user_overrides(qtbot: Any, admin_ctx: AppContext) -> None:
    from synthbot_desktop.storage import feature_flags as store

    dialog = SettingsDialog(admin_ctx)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "admin" in dialog.pages, timeout=10000)
    page = dialog.pages["admin"]
    qtbot.waitUntil(lambda: page.loaded >= 1, timeout=10000)
    assert page.overrides_table.isVisibleTo(page) and page.override_user.isVisibleTo(page)
    users = [page.override_user.itemText(i) for i in range(page.override_user.count())]
    assert users == ["alice", "bob", "root-admin"]  # the database's users to choose from
    row = page.flag_names.index("tool.open")
    page.flags_table.selectRow(row)
    assert page.overrides_table.rowCount() == 0

    page.override_user.setEditText("bob")
    page.user_off_button.click()
    qtbot.waitUntil(lambda: page.loaded >= 2 and page.overrides_table.rowCount() == 1, timeout=10000)
    assert (_cell(page.overrides_table, 0, 0), _cell(page.overrides_table, 0, 1)) == ("bob", "off")
    assert _cell(page.flags_table, row, 3) == "bob=off" and _cell(page.flags_table, row, 2) == "on"
    with admin_ctx.db.session() as s:
        assert store.effective_for_user(s, "bob")["tool.open"] is False
        assert store.effective_for_user(s, "alice")["tool.open"] is True  # nobody else changed

    page.override_user.setEditText("carol")  # a seat that has not started yet
    page.user_on_button.click()
    qtbot.waitUntil(lambda: page.loaded >= 3 and page.overrides_table.rowCount() == 2, timeout=10000)
    assert _cell(page.flags_table, row, 3) == "bob=off, carol=on"

    page.overrides_table.selectRow(0)  # picking an override row picks its user
    assert page.override_user.currentText() == "bob"
    page.user_clear_button.click()
    qtbot.waitUntil(lambda: page.loaded >= 4 and page.overrides_table.rowCount() == 1, timeout=10000)
    assert _cell(page.overrides_table, 0, 0) == "carol"
    with admin_ctx.db.session() as s:
        assert store.effective_for_user(s, "bob")["tool.open"] is True  # back to the everyone-value

    page.override_user.setEditText("  ")
    page.user_off_button.click()
    assert page.status.text() == "Choose or type a user first."


def test_admin_page_lists_the_errors_users_were_shown(qtbot: Any, admin_ctx: AppContext) -> None:
    from synthbot_desktop.storage import error_log

    with admin_ctx.db.session() as s:
        bob = repo.get_or_create_user(s, "bob").id
        error_log.add(s, "cli.chat", "older one", kind="timeout", user_id=bob, created_at=DAY)
        error_log.add(s, "gui.banner", "the key sk-proj-" + "A1" * 12 + " was refused", user_id=bob,
                      created_at=DAY + dt.timedelta(minutes=5))
    dialog = SettingsDialog(admin_ctx)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "admin" in dialog.pages, timeout=10000)
    page = dialog.pages["admin"]
    qtbot.waitUntil(lambda: page.loaded >= 1, timeout=10000)
    table = page.errors_table
    assert table.isVisibleTo(page) and table.rowCount() == 2
    newest = [_cell(table, 0, c) for c in range(5)]
    assert newest[:4] == ["2025-07-01 09:05:00", "bob", "gui.banner", "-"]
    assert "[REDACTED]" in newest[4] and "A1A1" not in newest[4]  # stored redacted, shown as stored
    assert [_cell(table, 1, c) for c in range(5)] == ["2025-07-01 09:00:00", "bob", "cli.chat", "timeout",
                                                      "older one"]
    assert "2 error(s)" in page.status.text()


def test_a_limited_account_sees_the_flags_read_only_with_only_its_own_override(
        qtbot: Any, admin_ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    admin_service.set_flag(admin_ctx, "tool.open", False, ["root-admin"])
    admin_service.set_flag(admin_ctx, "tool.open", True, ["alice"])
    admin_service.set_flag(admin_ctx, "provider.gemini", False)
    monkeypatch.setattr(admin_service, "can_read_all_users", lambda ctx: False)
    dialog = SettingsDialog(admin_ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.admin_probe.finished, timeout=10000):
        pass
    assert "admin" not in dialog.pages
    assert "Admin" not in [dialog.nav.item(i).text() for i in range(dialog.nav.count())]
    page = dialog.pages["flags"]
    assert dialog.nav.item(dialog.nav.count() - 1).text() == "Feature flags"
    qtbot.waitUntil(lambda: page.loaded >= 1, timeout=10000)
    table = page.flags_table
    assert table.horizontalHeaderItem(3).text() == "Your override"
    cells = {page.flag_names[r]: [_cell(table, r, c) for c in range(4)] for r in range(table.rowCount())}
    assert cells["tool.open"] == ["tool.open", "on", "off", "off"]  # everyone on, this user off
    assert cells["provider.gemini"] == ["provider.gemini", "off", "off", "-"]
    texts = " ".join(_cell(table, r, c) for r in range(table.rowCount()) for c in range(table.columnCount()))
    assert "alice" not in texts  # other users' overrides are not shown to them
    for widget in (page.off_button, page.on_button, page.clear_button, page.user_off_button,
                   page.override_user, page.usage_table, page.errors_table):
        assert not widget.isVisibleTo(page)
    table.selectRow(page.flag_names.index("provider.gemini"))
    assert page._change(True) is None  # nothing can be changed from here
    assert not features.enabled(admin_ctx, "provider.gemini")


def test_a_banner_is_filed_in_error_logs(qtbot: Any, admin_ctx: AppContext) -> None:
    from synthbot_desktop.gui.widgets.banner import ErrorBanner

    error_reports.bind(admin_ctx)
    try:
        banner = ErrorBanner()
        qtbot.addWidget(banner)
        banner.show_error("the openai service could not be reached", "check the network")

        def rows() -> list[tuple[str, str]]:
            with admin_ctx.db.session() as s:
                return [(e.source, e.message) for e in s.scalars(select(ErrorLog))]

        qtbot.waitUntil(lambda: bool(rows()), timeout=10000)
        assert rows() == [("gui.banner", "the openai service could not be reached — check the network")]
        assert banner.text().startswith("the openai service")
    finally:
        assert error_reports.flush(10)
        error_reports.bind(None)


def test_the_window_does_not_offer_a_provider_the_admin_turned_off(qtbot: Any, gui: Any) -> None:
    from PySide6.QtCore import QThreadPool

    from synthbot_desktop.storage import feature_flags as store

    # Start-up first (two proof runs under load): its storage job and first provider check could
    # read the flags before the change below and fill the features cache after the invalidate.
    assert gui.startup.wait(60)
    QThreadPool.globalInstance().waitForDone(20000)
    box = gui.window.provider_box
    view = box.view()
    row = box.findData("gemini")
    qtbot.waitUntil(lambda: not view.isRowHidden(row), timeout=10000)
    with gui.ctx.db.session() as s:
        store.set_flag(s, "provider.gemini", False)
    features.invalidate(gui.ctx)
    gui.window.refresh_allowed_providers()
    qtbot.waitUntil(lambda: view.isRowHidden(row), timeout=10000)
    current = box.currentIndex()
    assert not view.isRowHidden(current)  # the chosen provider is never hidden under the person
    assert [box.itemData(i) for i in range(box.count()) if view.isRowHidden(i)] == ["gemini"]


def test_a_late_answer_from_an_older_provider_check_does_not_undo_a_newer_one(
        qtbot: Any, gui: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a CI proof run under load: the start-up check (read before the admin turned Gemini
    off) delivered its answer after the newer check and showed Gemini again."""
    import threading

    from PySide6.QtCore import QThreadPool

    box = gui.window.provider_box
    view = box.view()
    row = box.findData("gemini")
    qtbot.waitUntil(lambda: not view.isRowHidden(row), timeout=10000)
    QThreadPool.globalInstance().waitForDone(10000)  # the window's own start-up check is over
    release_old = threading.Event()
    answers = iter([["openai", "anthropic", "gemini", "ollama"], ["openai", "anthropic", "ollama"]])
    lock = threading.Lock()

    old_entered = threading.Event()

    def allowed(_ctx: Any) -> list[str]:
        with lock:
            mine = next(answers)
        if "gemini" in mine:  # the older read: it answers last
            old_entered.set()
            release_old.wait(10)
        return mine

    monkeypatch.setattr(features, "allowed_providers", allowed)
    gui.window.refresh_allowed_providers()  # older: Gemini still on
    assert old_entered.wait(10)  # it has read (so the newer request below reads second)
    gui.window.refresh_allowed_providers()  # newer: Gemini off
    qtbot.waitUntil(lambda: view.isRowHidden(row), timeout=10000)
    release_old.set()
    QThreadPool.globalInstance().waitForDone(10000)
    qtbot.wait(200)  # the older answer reaches the GUI thread
    assert view.isRowHidden(row)
