"""Enhanced mode: a pooled random number picks the LLM sampling seed and a temperature jitter for one turn.

Never on the hot path: one indexed DB read (or the CSPRNG at once when the pool is empty or
unreadable). The record returned goes into the assistant message's ``timings["randomness"]``
and the consumed block names the user message uid, so a reply's randomness is traceable.
Anthropic's Messages API has no seed parameter: there only the temperature jitter applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthbot_desktop.config import Settings
from synthbot_desktop.randomness.pool import DRAW_TIMEOUT_S, draw
from synthbot_desktop.setting_keys import LLM_TEMPERATURE, QUANTUM_POOL_WAIT_MS
from synthbot_desktop.storage.db import Database

SEED_PROVIDERS = ("openai", "gemini", "ollama")  # OpenAI `seed`, Gemini generationConfig.seed, Ollama options.seed
JITTER = 0.2  # +/- around the persona's (or setting's) temperature
TEMP_BOUNDS = (0.0, 2.0)


def pool_wait_s(settings: Settings) -> float:
    """``quantum.pool_wait_ms`` in seconds: how long a turn's draw may wait for the pool."""
    return settings.value(QUANTUM_POOL_WAIT_MS) / 1000


@dataclass
class TurnSampling:
    seed: int | None
    temperature: float
    record: dict[str, Any]
    notice: str | None  # one line for the user when the CSPRNG stood in


def sampling_for_turn(db: Database, consumer: str, provider: str, base_temperature: float,
                      bounds: tuple[float, float] = TEMP_BOUNDS, *, wait_s: float = DRAW_TIMEOUT_S) -> TurnSampling:
    """Seed and temperature for one turn from the pool; ``consumer`` is the user message uid.

    ``wait_s`` is ``quantum.pool_wait_ms``: past it the CSPRNG stands in (the pool's deadline).
    """
    d = draw(db, consumer, timeout_s=wait_s)
    seed = (d.value >> 33) if provider in SEED_PROVIDERS else None  # 31 bits: every provider accepts it
    frac = (d.value & 0xFFFFFFFF) / 0xFFFFFFFF  # low 32 bits -> [0, 1]
    lo, hi = max(bounds[0], base_temperature - JITTER), min(bounds[1], base_temperature + JITTER)
    temperature = round(lo + (hi - lo) * frac, 4)
    record = {"mode": "enhanced", "source": d.source, "backend": d.backend, "block_id": d.block_id,
              "seed": seed, "temperature": temperature, "base_temperature": base_temperature,
              "seed_supported": provider in SEED_PROVIDERS, "fallback": d.fallback_reason}
    notice = f"enhanced mode: {d.fallback_reason}; using the OS CSPRNG for this turn" if d.fallback_reason else None
    return TurnSampling(seed, temperature, record, notice)


class TurnSampler:
    """The pipeline's ``Sampler`` for voice turns (``talk --mode enhanced``, the window's switch).

    The turn engine calls it with the user message uid (the block's ``consumed_by``, as `chat`
    does) and stores the returned record on the assistant message; ``records`` keeps every
    turn's record in order (``talk --json``). ``default_temperature`` (``llm.temperature``)
    applies when the conversation sets none.
    """

    def __init__(self, db: Database, provider: str, default_temperature: float, *,
                 wait_s: float = DRAW_TIMEOUT_S) -> None:
        self._db, self._provider, self._default, self._wait_s = db, provider, default_temperature, wait_s
        self.records: list[dict[str, Any]] = []

    @classmethod
    def from_settings(cls, db: Database, provider: str, settings: Settings) -> TurnSampler:
        """The sampler the window and ``talk`` use: ``llm.temperature`` and ``quantum.pool_wait_ms``."""
        return cls(db, provider, settings.value(LLM_TEMPERATURE), wait_s=pool_wait_s(settings))

    def __call__(self, consumer: str, temperature: float | None) -> TurnSampling:
        turn = sampling_for_turn(self._db, consumer, self._provider,
                                 self._default if temperature is None else temperature, wait_s=self._wait_s)
        self.records.append(turn.record)
        return turn

