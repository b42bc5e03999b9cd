"""What the providers cost: one report for `usage` (CLI) and the usage page (GUI).

Totals come from ``storage.usage_stats.usage_summary`` (one GROUP BY in the database), so the CLI
and the page can never disagree. Costs stay ``None`` when no call's price was known. Cancelled
calls (speculative requests the pipeline dropped) are their own count, not failures (#21).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage import usage_stats


@dataclass
class UsageTotals:
    calls: int = 0
    failures: int = 0
    cancelled: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    characters: int = 0
    audio_seconds: float = 0.0
    cost_usd: Decimal | None = None
    cost_unknown_calls: int = 0

    def add(self, row: usage_stats.UsageSummaryRow) -> None:
        self.calls += row.calls
        self.failures += row.failures
        self.cancelled += row.cancelled
        self.tokens_in += row.tokens_in
        self.tokens_out += row.tokens_out
        self.characters += row.characters
        self.audio_seconds += row.audio_seconds
        self.cost_unknown_calls += row.cost_unknown_calls
        if row.cost_usd is not None:
            self.cost_usd = (self.cost_usd or Decimal(0)) + row.cost_usd


@dataclass
class UsageReport:
    rows: list[usage_stats.UsageSummaryRow]
    totals: UsageTotals
    by_provider: dict[str, UsageTotals] = field(default_factory=dict)


def usage_report(
    s: Session, user_id: int | None, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
    by_day: bool = True,
) -> UsageReport:
    """Rows per (day,) provider, model plus overall and per-provider totals."""
    if since is not None and until is not None and until <= since:
        raise UsageError(f"the range is empty: --until {until.date()} is not after --since {since.date()}")
    rows = usage_stats.usage_summary(s, user_id, since=since, until=until, by_day=by_day)
    totals = UsageTotals()
    by_provider: dict[str, UsageTotals] = {}
    for row in rows:
        totals.add(row)
        by_provider.setdefault(row.provider, UsageTotals()).add(row)
    return UsageReport(rows, totals, by_provider)


PROVIDER_NAMES = {
    "openai": "OpenAI", "anthropic": "Anthropic", "gemini": "Google Gemini", "ollama": "Ollama",
    "elevenlabs": "ElevenLabs", "piper": "Piper", "local-whisper": "Whisper (local)",
}


def provider_name(provider: str) -> str:
    """What people call a provider ("ElevenLabs", not the id "elevenlabs")."""
    return PROVIDER_NAMES.get(provider, provider)


def cost_decimals(costs: list[Decimal | None]) -> int:
    """Decimals that show every cost of a table the same way: 2, or up to 6 for fractions of a cent."""
    need = 2
    for c in costs:
        if c is None or c == 0 or abs(c) >= Decimal("0.01"):
            continue
        need = max(need, min(6, -abs(c).adjusted() + 1))  # two significant digits of a fraction of a cent
    return need


def format_cost(cost: Decimal | None, unknown_calls: int = 0, decimals: int | None = None) -> str:
    """"$0.05", "$0.000042", "$0.00" (free), "unknown"; "+?" when some calls' cost is unknown.

    One rule for every cost (issue #21: "$0.000000" next to "$0.05"): two decimals, more only for
    amounts below a cent, and a table passes the same ``decimals`` for all its rows."""
    if cost is None:
        return "unknown" if unknown_calls else "-"
    places = decimals if decimals is not None else cost_decimals([cost])
    q = Decimal(1).scaleb(-places)
    text = f"${cost.quantize(q):.{places}f}"
    if cost > 0 and cost.quantize(q) == 0:
        text = f"<${q}"
    return text + ("+?" if unknown_calls else "")
