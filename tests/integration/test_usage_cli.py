"""`usage` totals equal the sums of the rows written, per provider and over a date range."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.records import UsageRecord

DAY1 = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2025, 3, 2, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def usage_db(app_env: dict[str, str], memory_keyring: object, any_db_url: str,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[list[UsageRecord]]:
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    database = Database(make_engine(any_db_url))
    migrate.upgrade(database.engine)
    database.dispose()
    records = [
        UsageRecord("openai", model="gpt-4o-mini", tokens_in=120, tokens_out=40, cost_usd=Decimal("0.000042"),
                    created_at=DAY1),
        UsageRecord("openai", model="gpt-4o-mini", tokens_in=80, tokens_out=10, cost_usd=Decimal("0.000018"),
                    created_at=DAY2),
        UsageRecord("elevenlabs", model="eleven_flash_v2_5", characters=321, audio_seconds=19.5, created_at=DAY2),
        UsageRecord("openai", model="gpt-4o-mini", success=False, status_code=429, error_kind="rate_limit",
                    created_at=DAY2),
    ]
    ctx = AppContext()
    with ctx.db.session() as s:
        for r in records:
            repo.add_usage(s, r, ctx.user_id)
    ctx.close()
    yield records


def test_usage_json_totals_match_rows(usage_db: list[UsageRecord], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usage", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    totals = doc["totals"]
    assert totals["calls"] == 4 and totals["failures"] == 1
    assert totals["tokens_in"] == sum(r.tokens_in or 0 for r in usage_db)
    assert totals["tokens_out"] == sum(r.tokens_out or 0 for r in usage_db)
    assert totals["characters"] == 321
    assert totals["audio_seconds"] == pytest.approx(19.5)
    assert Decimal(totals["cost_usd"]) == Decimal("0.000060")
    assert totals["cost_unknown_calls"] == 2  # the TTS call and the failed call: not shown as free
    days = {(r["day"], r["provider"]) for r in doc["rows"]}
    assert days == {("2025-03-01", "openai"), ("2025-03-02", "openai"), ("2025-03-02", "elevenlabs")}
    assert doc["by_provider"]["elevenlabs"]["cost_usd"] is None


def test_usage_date_range_and_table(usage_db: list[UsageRecord], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usage", "--since", "2025-03-02", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["tokens_in"] == 80 and doc["totals"]["calls"] == 3

    assert main(["usage", "--until", "2025-03-02", "--total"]) == 0
    out = capsys.readouterr().out
    assert "gpt-4o-mini" in out and "eleven_flash" not in out
    assert "$0.000042" in out  # small costs keep their precision

    assert main(["usage", "--since", "2025-03-05", "--until", "2025-03-01"]) == 2
    assert "the range is empty" in capsys.readouterr().err
