"""ElevenLabs REST calls other than speech: voices, models, voice settings, subscription.

Plain httpx against the documented wire format (no SDK), so any base URL works: the real API,
a proxy, or the local fake server used by tests and benchmarks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import httpx

from synthbot_desktop.errors import ProviderError, ProviderErrorKind
from synthbot_desktop.tts.base import VoiceSettings
from synthbot_desktop.tts.elevenlabs_errors import PROVIDER, error_from_response
from synthbot_desktop.tts.voice_settings import from_json

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
DEFAULT_VOICE_ID = "21m00Tcm4TlvDq8ikWAM"  # Rachel, the SynthBot schema's default
DEFAULT_MODEL_ID = "eleven_flash_v2_5"


@dataclass(frozen=True)
class ElevenLabsConfig:
    """Where and how to reach ElevenLabs; the key is only held in memory."""

    api_key: str
    base_url: str = DEFAULT_BASE_URL
    timeout_s: float = 30.0

    def __repr__(self) -> str:  # never show the key in tracebacks or logs
        return f"ElevenLabsConfig(base_url={self.base_url!r}, timeout_s={self.timeout_s})"


def make_client(config: ElevenLabsConfig, **kw: Any) -> httpx.AsyncClient:
    """One pooled client per provider: keep-alive saves a TLS handshake per sentence."""
    timeout = httpx.Timeout(config.timeout_s, connect=min(config.timeout_s, 10.0))
    return httpx.AsyncClient(base_url=config.base_url.rstrip("/"), timeout=timeout,
                             headers={"xi-api-key": config.api_key, "accept": "*/*"}, **kw)


@dataclass(frozen=True)
class VoiceInfo:
    voice_id: str
    name: str
    category: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    preview_url: str | None = None
    settings: VoiceSettings | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VoiceInfo:
        labels = data.get("labels") or {}
        return cls(
            voice_id=str(data["voice_id"]), name=str(data.get("name") or data["voice_id"]),
            category=data.get("category"),
            labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
            description=data.get("description"), preview_url=data.get("preview_url"),
            settings=from_json(data["settings"]) if isinstance(data.get("settings"), dict) else None,
        )


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    name: str
    can_do_text_to_speech: bool
    max_characters: int | None
    languages: tuple[str, ...] = ()
    cost_multiplier: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelInfo:
        rates = data.get("model_rates") or {}
        limit = data.get("maximum_text_length_per_request") or data.get("max_characters_request_subscribed_user")
        return cls(
            model_id=str(data["model_id"]), name=str(data.get("name") or data["model_id"]),
            can_do_text_to_speech=bool(data.get("can_do_text_to_speech")),
            max_characters=int(limit) if limit else None,
            languages=tuple(str(lang.get("language_id")) for lang in data.get("languages") or []
                            if isinstance(lang, dict)),
            cost_multiplier=rates.get("character_cost_multiplier") if isinstance(rates, dict) else None,
        )


@dataclass(frozen=True)
class Subscription:
    tier: str | None
    character_count: int
    character_limit: int
    next_reset: dt.datetime | None
    status: str | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.character_limit - self.character_count)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Subscription:
        reset = data.get("next_character_count_reset_unix")
        return cls(
            tier=data.get("tier"), character_count=int(data.get("character_count") or 0),
            character_limit=int(data.get("character_limit") or 0),
            next_reset=dt.datetime.fromtimestamp(int(reset), tz=dt.UTC) if reset else None,
            status=data.get("status"),
        )


class ElevenLabsApi:
    """Catalog and account calls; raises ProviderError on every failure."""

    def __init__(self, config: ElevenLabsConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._client = client or make_client(config)
        self._own_client = client is None

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            resp = await self._client.get(path, params=params)
        except httpx.TimeoutException:
            raise ProviderError(PROVIDER, ProviderErrorKind.TIMEOUT, f"GET {path} timed out") from None
        except httpx.HTTPError as exc:
            raise ProviderError(PROVIDER, ProviderErrorKind.CONNECTION, f"{type(exc).__name__}") from None
        if resp.status_code != 200:
            raise error_from_response(resp.status_code, resp.headers, resp.content)
        try:
            return resp.json()
        except ValueError:
            raise ProviderError(PROVIDER, ProviderErrorKind.PROTOCOL, f"GET {path} did not return JSON",
                                status_code=resp.status_code) from None

    async def voices(self, *, page_size: int = 100) -> list[VoiceInfo]:
        """All voices of the account: /v2/voices page by page, or /v1/voices where v2 is absent."""
        out: list[VoiceInfo] = []
        token: str | None = None
        try:
            for _ in range(1000):  # a hard stop in case a server repeats its page token
                params: dict[str, Any] = {"page_size": page_size}
                if token:
                    params["next_page_token"] = token
                data = await self._get("/v2/voices", params)
                out.extend(VoiceInfo.from_json(v) for v in data.get("voices") or [])
                token = data.get("next_page_token")
                if not data.get("has_more") or not token:
                    return out
            return out
        except ProviderError as exc:
            if exc.info.status_code not in (404, 405):
                raise
        data = await self._get("/v1/voices")
        return [VoiceInfo.from_json(v) for v in data.get("voices") or []]

    async def models(self) -> list[ModelInfo]:
        data = await self._get("/v1/models")
        if not isinstance(data, list):
            raise ProviderError(PROVIDER, ProviderErrorKind.PROTOCOL, "/v1/models did not return a list")
        return [ModelInfo.from_json(m) for m in data]

    async def voice_settings(self, voice_id: str) -> VoiceSettings:
        return from_json(await self._get(f"/v1/voices/{voice_id}/settings"))

    async def default_settings(self) -> VoiceSettings:
        return from_json(await self._get("/v1/voices/settings/default"))

    async def subscription(self) -> Subscription:
        return Subscription.from_json(await self._get("/v1/user/subscription"))
