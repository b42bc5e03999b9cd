"""Cost of provider calls from a price table kept as data (``resources/pricing.toml``).

Prices change more often than code, so they live in a TOML file with an ``as_of`` date, and a
``pricing.toml`` in the user's config directory overrides or extends any entry. A model found
in neither file has an unknown cost (``None``), never a silent zero: a usage report that
shows $0.00 for a paid model would be worse than one that says "unknown".

LLM entries are USD per million tokens (input/output); TTS entries USD per 1,000 characters.
Model names are matched after dropping what providers add to them: a ``models/`` prefix,
dated snapshot suffixes (``-2024-08-06``, ``-20250929``) and ``-latest``. A ``"*"`` entry
prices every model of that provider (local engines).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from synthbot_desktop.config import read_toml
from synthbot_desktop.errors import ConfigError
from synthbot_desktop.resources import resource_path

MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1000)
MICRO = Decimal("0.000001")  # the database stores money with 6 decimals

_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")


@dataclass(frozen=True)
class TokenPrice:
    input_per_mtok: Decimal
    output_per_mtok: Decimal


@dataclass(frozen=True)
class CharPrice:
    per_1k_chars: Decimal


def normalise_model(model: str) -> list[str]:
    """Names to try for ``model``, most specific first."""
    names = [model]
    base = model.removeprefix("models/")
    for candidate in (base, base.removesuffix("-latest"), _DATE_SUFFIX.sub("", base)):
        if candidate not in names:
            names.append(candidate)
    return names


def _price(value: Any, where: str, field: str, path: Path) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{where}: {field} must be a number, got {value!r}", path=str(path))
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: {field} must be a number, got {value!r}", path=str(path)) from None
    if d < 0 or not d.is_finite():
        raise ConfigError(f"{where}: {field} must be zero or more, got {value!r}", path=str(path))
    return d


class PriceTable:
    """Prices merged from the bundled file and the optional user override."""

    def __init__(self) -> None:
        self.as_of: str | None = None
        self.currency = "USD"
        self.sources: list[str] = []
        self.llm: dict[str, dict[str, TokenPrice]] = {}
        self.tts: dict[str, dict[str, CharPrice]] = {}

    @classmethod
    def load(cls, user_file: Path | None = None, bundled: Path | None = None) -> PriceTable:
        table = cls()
        table.merge_file(bundled or resource_path("pricing.toml"))
        if user_file is not None and user_file.exists():
            table.merge_file(user_file)
        return table

    def merge_file(self, path: Path) -> None:
        data, _text = read_toml(path)
        if not data:
            return
        self.sources.append(str(path))
        if "as_of" in data:
            self.as_of = str(data["as_of"])
        if "currency" in data and str(data["currency"]).upper() != "USD":
            raise ConfigError("only USD prices are supported", path=str(path), key="currency")
        for provider, models in (data.get("llm") or {}).items():
            if not isinstance(models, dict):
                raise ConfigError(f"[llm.{provider}] must be a table of models", path=str(path))
            for model, entry in models.items():
                where = f"llm.{provider}.{model}"
                if not isinstance(entry, dict) or not {"input_per_mtok", "output_per_mtok"} <= set(entry):
                    raise ConfigError(f"{where} needs input_per_mtok and output_per_mtok", path=str(path),
                                      hint='e.g. "my-model" = { input_per_mtok = 0.5, output_per_mtok = 1.5 }')
                self.llm.setdefault(provider, {})[model] = TokenPrice(
                    _price(entry["input_per_mtok"], where, "input_per_mtok", path),
                    _price(entry["output_per_mtok"], where, "output_per_mtok", path))
        for provider, models in (data.get("tts") or {}).items():
            if not isinstance(models, dict):
                raise ConfigError(f"[tts.{provider}] must be a table of models", path=str(path))
            for model, entry in models.items():
                where = f"tts.{provider}.{model}"
                if not isinstance(entry, dict) or "per_1k_chars" not in entry:
                    raise ConfigError(f"{where} needs per_1k_chars", path=str(path),
                                      hint='e.g. "eleven_flash_v2_5" = { per_1k_chars = 0.05 }')
                self.tts.setdefault(provider, {})[model] = CharPrice(
                    _price(entry["per_1k_chars"], where, "per_1k_chars", path))

    @staticmethod
    def _find(models: dict[str, Any], model: str | None) -> Any:
        if model:
            for name in normalise_model(model):
                if name in models:
                    return models[name]
        return models.get("*")

    def llm_price(self, provider: str, model: str | None) -> TokenPrice | None:
        return self._find(self.llm.get(provider, {}), model)

    def tts_price(self, provider: str, model: str | None) -> CharPrice | None:
        return self._find(self.tts.get(provider, {}), model)

    def llm_cost(self, provider: str, model: str | None, tokens_in: int | None,
                 tokens_out: int | None) -> Decimal | None:
        """USD for one call; None when the model has no price or token counts are missing."""
        price = self.llm_price(provider, model)
        if price is None or tokens_in is None or tokens_out is None:
            return None
        cost = (Decimal(tokens_in) * price.input_per_mtok + Decimal(tokens_out) * price.output_per_mtok) / MILLION
        return cost.quantize(MICRO)

    def characters_cost(self, provider: str, model: str | None, characters: int | None) -> Decimal | None:
        """USD for synthesising ``characters`` characters (TTS); None when unpriced."""
        price = self.tts_price(provider, model)
        if price is None or characters is None:
            return None
        return (Decimal(characters) * price.per_1k_chars / THOUSAND).quantize(MICRO)


_CACHE: dict[tuple[str, float], PriceTable] = {}
_LOCK = threading.Lock()


def user_pricing_file(config_dir: Path) -> Path:
    return config_dir / "pricing.toml"


def load_prices(config_dir: Path | None = None) -> PriceTable:
    """The merged table, reloaded when the user's file changes."""
    user_file = user_pricing_file(config_dir) if config_dir is not None else None
    mtime = user_file.stat().st_mtime if user_file is not None and user_file.exists() else 0.0
    key = (str(user_file), mtime)
    with _LOCK:
        table = _CACHE.get(key)
        if table is None:
            table = PriceTable.load(user_file)
            _CACHE.clear()
            _CACHE[key] = table
        return table


def llm_cost(provider: str, model: str | None, tokens_in: int | None, tokens_out: int | None,
             *, config_dir: Path | None = None) -> Decimal | None:
    return load_prices(config_dir).llm_cost(provider, model, tokens_in, tokens_out)


def characters_cost(provider: str, model: str | None, characters: int | None,
                    *, config_dir: Path | None = None) -> Decimal | None:
    """TTS cost by characters (e.g. ElevenLabs), from the ``[tts.<provider>]`` tables."""
    return load_prices(config_dir).characters_cost(provider, model, characters)
