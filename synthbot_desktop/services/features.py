"""Is this provider, tool or feature allowed here? One answer for the CLI and the GUI (issue #18).

Precedence, strongest first:

1. a policy lock (or an environment override) of ``flags.<name>``; and a policy that locks
   ``llm.provider`` / ``tts.engine`` to something keeps that provider/engine on — the admin's
   file on this machine wins over the shared database;
2. the database: the user's override in ``user_feature_access``, else the ``feature_flags`` row;
3. the settings (user file < policy default < built-in default: on).

The database answer is cached per :class:`AppContext` for :data:`TTL_S` seconds and on disk
(``<data>/cache/feature_flags.json``) as the last known state. When the database does not answer,
the last known state (else step 3) applies and the database is not asked again for
:data:`RETRY_S` seconds, so a dead server costs at most one connect timeout, never one per check.
GUI code on the GUI thread uses :func:`enabled_cached` (never touches the database) and refreshes
with :func:`refresh` from a pool job.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from synthbot_desktop.config import FEATURE_FLAGS, LLM_PROVIDERS
from synthbot_desktop.errors import PolicyLockedError, UsageError
from synthbot_desktop.setting_keys import LLM_PROVIDER, TTS_ENGINE

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext
    from synthbot_desktop.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

TTL_S = 60.0
RETRY_S = 60.0
CACHE_FILE = "feature_flags.json"


class FeatureDisabledError(PolicyLockedError):
    """The admin turned this provider, tool or feature off for this user."""


@dataclass
class _State:
    db_values: dict[str, bool] | None = None  # None: never read (nor found on disk)
    source: str = "defaults"  # database | cache | defaults
    loaded_at: float = 0.0
    failed_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATES: weakref.WeakKeyDictionary[AppContext, _State] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def _state(ctx: AppContext) -> _State:
    with _STATES_LOCK:
        st = _STATES.get(ctx)
        if st is None:
            st = _STATES[ctx] = _State()
        return st


def check_name(name: str) -> str:
    if name not in FEATURE_FLAGS:
        raise UsageError(f"unknown feature flag {name!r}",
                         hint="list them with `synthbot-desktop admin flags list`")
    return name


def _cache_key(ctx: AppContext) -> str:
    from synthbot_desktop.storage.db import masked

    return f"{masked(ctx.database_url())}|{ctx.settings.user_name}"


def _cache_path(ctx: AppContext):  # type: ignore[no-untyped-def]
    return ctx.paths.data_dir / "cache" / CACHE_FILE


def _read_disk(ctx: AppContext) -> dict[str, bool] | None:
    try:
        doc = json.loads(_cache_path(ctx).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("key") != _cache_key(ctx) or not isinstance(doc.get("flags"), dict):
        return None  # another database or user: not this seat's last known state
    return {str(k): bool(v) for k, v in doc["flags"].items()}


def _write_disk(ctx: AppContext, values: dict[str, bool]) -> None:
    path = _cache_path(ctx)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": _cache_key(ctx), "flags": values}, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:  # the cache is a convenience; the database stays the truth
        log.debug("could not write the feature-flag cache: %s", exc)


def refresh(ctx: AppContext) -> bool:
    """Read the flags from the database now (blocking); False when it did not answer."""
    from synthbot_desktop.storage import feature_flags as store

    st = _state(ctx)
    try:
        with ctx.db.session() as s:
            values = store.effective_for_user(s, ctx.settings.user_name)
    except Exception as exc:  # unreachable, locked, old schema: the last known state applies
        log.warning("feature flags unavailable, using the last known state: %s", exc)
        with st.lock:
            st.failed_at = time.monotonic()
            if st.db_values is None:
                st.db_values = _read_disk(ctx)
            st.source = "cache" if st.db_values is not None else "defaults"  # what we knew, not fresh
        return False
    with st.lock:
        st.db_values, st.source, st.loaded_at, st.failed_at = values, "database", time.monotonic(), 0.0
    _write_disk(ctx, values)
    return True


def _db_values(ctx: AppContext, *, allow_db: bool) -> dict[str, bool]:
    st = _state(ctx)
    now = time.monotonic()
    with st.lock:
        fresh = st.source == "database" and now - st.loaded_at < TTL_S
        backing_off = st.failed_at and now - st.failed_at < RETRY_S
        if st.db_values is None and not allow_db:
            st.db_values = _read_disk(ctx)
            st.source = "cache" if st.db_values is not None else "defaults"
    if allow_db and not fresh and not backing_off:
        refresh(ctx)
    with st.lock:
        return dict(st.db_values or {})


def _policy_decision(ctx: AppContext, name: str) -> bool | None:
    """A decision the admin made in this machine's policy file (or the launcher in the env)."""
    settings = ctx.settings
    key = f"flags.{name}"
    if settings.source(key) in ("locked", "env"):
        return bool(settings.get(key))
    if name.startswith("provider.") and settings.is_locked("llm.provider") \
            and settings.value(LLM_PROVIDER) == name.split(".", 1)[1]:
        return True
    if name.startswith("feature.tts.") and settings.is_locked("tts.engine") \
            and settings.value(TTS_ENGINE) == name.rsplit(".", 1)[1]:
        return True
    return None


def locked_here(ctx: AppContext, name: str) -> bool:
    """Whether this machine's policy (or environment) decides ``name``, whatever the database says."""
    return _policy_decision(ctx, check_name(name)) is not None


def invalidate(ctx: AppContext) -> None:
    """Forget the cached database answer (after an admin changed a flag in this process)."""
    st = _state(ctx)
    with st.lock:
        st.loaded_at = st.failed_at = 0.0
        if st.source == "database":
            st.source = "cache"


def _decide(ctx: AppContext, name: str, db_values: dict[str, bool]) -> bool:
    check_name(name)
    policy = _policy_decision(ctx, name)
    if policy is not None:
        return policy
    if name in db_values:
        return db_values[name]
    return bool(ctx.settings.get(f"flags.{name}"))


def enabled(ctx: AppContext, name: str) -> bool:
    """Whether ``name`` is allowed for this user (may read the database; see the module docstring)."""
    return _decide(ctx, name, _db_values(ctx, allow_db=True))


def enabled_cached(ctx: AppContext, name: str) -> bool:
    """Like :func:`enabled` but never touches the database: for the GUI thread."""
    return _decide(ctx, name, _db_values(ctx, allow_db=False))


def source(ctx: AppContext) -> str:
    """Where the database part of the last answer came from: database, cache or defaults."""
    return _state(ctx).source


def require(ctx: AppContext, name: str, what: str | None = None) -> None:
    """Raise :class:`FeatureDisabledError` (one clear line) when ``name`` is off."""
    if enabled(ctx, name):
        return
    thing = what or FEATURE_FLAGS[name]
    raise FeatureDisabledError(f"{thing} is turned off by your administrator (feature flag {name})",
                               hint=_hint(name))


def _hint(name: str) -> str:
    if name.startswith("provider."):
        others = [p for p in LLM_PROVIDERS if p != name.split(".", 1)[1]]
        return f"choose another provider (--provider {'|'.join(others)}) or ask your administrator"
    if name.startswith("feature.tts."):
        return "choose another voice engine (--engine) or ask your administrator"
    return "ask your administrator"


def allowed_providers(ctx: AppContext, *, cached: bool = False) -> list[str]:
    """LLM providers the GUI may offer."""
    check = enabled_cached if cached else enabled
    return [p for p in LLM_PROVIDERS if check(ctx, f"provider.{p}")]


def disabled_tools(ctx: AppContext, names: Iterable[str]) -> set[str]:
    """Which of these tool names are switched off (a tool without a flag stays allowed)."""
    return {n for n in names if f"tool.{n}" in FEATURE_FLAGS and not enabled(ctx, f"tool.{n}")}


def apply_to_tools(ctx: AppContext, registry: ToolRegistry) -> ToolRegistry:
    """Hide switched-off tools from the model: neither offered nor run (``ToolRegistry.disabled``)."""
    registry.disabled |= disabled_tools(ctx, registry.tools)
    return registry


def snapshot(ctx: AppContext) -> dict[str, bool]:
    """Every known flag's value for this user (what `admin flags list` calls 'here')."""
    values = _db_values(ctx, allow_db=True)
    return {name: _decide(ctx, name, values) for name in FEATURE_FLAGS}
