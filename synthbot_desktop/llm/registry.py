"""Build a configured chat provider by name: base URL, key, default model and timeouts.

The one place that knows how settings and keys map onto provider classes, so the CLI, the
conversation loop, the GUI and benchmarks all get identically configured clients. Base URLs
come from ``providers.<name>.base_url`` (the ``SYNTHBOT_<NAME>_BASE_URL`` environment variable
overrides it through the settings layer); keys from the keystore (env or keyring).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from synthbot_desktop.config import LLM_PROVIDERS, Settings
from synthbot_desktop.errors import SecretStoreError, UsageError
from synthbot_desktop.http_retry import RetryPolicy
from synthbot_desktop.keystore import KeyStore, env_key_name
from synthbot_desktop.llm.http_provider import HttpChatProvider
from synthbot_desktop.llm.providers import anthropic, gemini, ollama, openai

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

_CLASSES: dict[str, type[HttpChatProvider]] = {
    "openai": openai.OpenAIChatProvider,
    "anthropic": anthropic.AnthropicChatProvider,
    "gemini": gemini.GeminiChatProvider,
    "ollama": ollama.OllamaChatProvider,
}
_OFFICIAL_HOSTS = {
    "openai": "api.openai.com",
    "anthropic": "api.anthropic.com",
    "gemini": "generativelanguage.googleapis.com",
}


def _needs_key(name: str, base_url: str) -> bool:
    """Keys are required by the official services; a local or proxy URL may need none."""
    if name == "ollama":
        return False
    try:
        host = httpx.URL(base_url).host
    except httpx.InvalidURL:
        return True
    return host == _OFFICIAL_HOSTS.get(name)


def default_model(name: str, settings: Settings) -> str:
    return str(settings.get(f"providers.{name}.model"))


def create_chat_provider(
    name: str,
    ctx: AppContext | None = None,
    *,
    settings: Settings | None = None,
    keystore: KeyStore | None = None,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **overrides: Any,
) -> HttpChatProvider:
    """A ready provider for ``name`` configured from ``ctx`` (or ``settings`` + ``keystore``).

    Raises UsageError for an unknown name and SecretStoreError when a required key is missing.
    """
    if name not in _CLASSES:
        raise UsageError(f"unknown LLM provider {name!r}; expected one of: {', '.join(LLM_PROVIDERS)}")
    if ctx is not None:
        settings = settings or ctx.settings
        keystore = keystore or ctx.keystore
    if settings is None:
        raise ValueError("create_chat_provider needs an AppContext or Settings")
    base_url = settings.provider_base_url(name)
    if not base_url.startswith(("http://", "https://")):
        raise UsageError(f"providers.{name}.base_url must start with http:// or https://, got {base_url!r}",
                         hint=f"fix it with `synthbot-desktop config set providers.{name}.base_url URL`")
    api_key: str | None = None
    if name != "ollama" and keystore is not None:
        api_key = keystore.get(name)
    if not api_key and name != "ollama" and _needs_key(name, base_url):
        raise SecretStoreError(f"no API key is set for {name}",
                               hint=f"run `synthbot-desktop keys set {name}` or set {env_key_name(name)}")
    kwargs: dict[str, Any] = {
        "base_url": base_url,
        "api_key": api_key,
        "default_model": default_model(name, settings),
        "timeout_s": float(settings.get(f"providers.{name}.timeout_s")),
        "retry": retry,
        "transport": transport,
    }
    kwargs.update(overrides)
    return _CLASSES[name](**kwargs)
