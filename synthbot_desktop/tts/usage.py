"""One api_usage_logs row per ElevenLabs request: characters, timings, request id and cost.

Cost comes from the shared pricing table (``[tts.elevenlabs]``, priced per text character with
the model's multiplier already in it, so the ``character-cost`` credits header is kept apart);
a model the table does not know costs None (unknown), never a made-up zero.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from synthbot_desktop.pricing import characters_cost
from synthbot_desktop.storage.records import UsageRecord
from synthbot_desktop.tts.metrics import SpeechMetrics

log = logging.getLogger(__name__)

UsageSink = Callable[[UsageRecord], None]


def character_cost_usd(provider: str, model: str | None, characters: int,
                       *, config_dir: Path | None = None) -> Decimal | None:
    """Price of ``characters`` from the shared pricing table, with the user's ``pricing.toml``
    in ``config_dir`` applied as for chat (None when it has no price)."""
    try:
        return characters_cost(provider, model, characters, config_dir=config_dir)
    except Exception as exc:  # a broken user price file must not break speech
        log.warning("no TTS price for %s/%s: %s", provider, model, exc)
        return None


def usage_from_metrics(m: SpeechMetrics, endpoint: str, *, error_message: str | None = None,
                       config_dir: Path | None = None) -> UsageRecord:
    return UsageRecord(
        provider=m.engine, endpoint=endpoint, model=m.model_id, request_id=m.request_id,
        characters=m.characters, audio_seconds=round(m.audio_seconds, 3) or None,
        latency_ms=m.latency_ms, ttfb_ms=m.ttfb_ms, status_code=m.status_code,
        success=m.error_kind is None, error_kind=m.error_kind,
        error_message=error_message[:1000] if error_message else None,
        cost_usd=(character_cost_usd(m.engine, m.model_id, m.characters, config_dir=config_dir)
                  if m.status_code == 200 else None),
    )
