"""The ElevenLabs voice catalog of one app context: read the cached copy, refresh it, tell listeners.

Both front ends use it: ``voices list/refresh`` and the window (the Voice page refreshes it, the
main window's voice switcher and the pickers listen). It replaces the GUI's process-wide
``CATALOG_SIGNALS`` bus (issue #13): listeners belong to the context whose catalog they show, and
nothing here knows about Qt — a GUI listener marshals to its own thread (a queued Qt signal).

The network fetch runs on the caller's loop (the engine loop in the GUI, ``asyncio.run`` in the
CLI); database reads and writes go through ``asyncio.to_thread`` so the loop never blocks on them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from synthbot_desktop.storage import voices as repo
from synthbot_desktop.storage.voices import CatalogVoice

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)

PROVIDER = "elevenlabs"
Listener = Callable[[list[CatalogVoice]], None]


class VoiceCatalog:
    """The cached catalog of ``ctx``'s database and who wants to hear when it changes."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = weakref.ref(ctx)
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    @property
    def ctx(self) -> AppContext:
        ctx = self._ctx()
        if ctx is None:
            raise RuntimeError("the app context of this voice catalog is gone")
        return ctx

    def cached(self) -> list[CatalogVoice]:
        """The voices stored by the last refresh (blocking: a database read)."""
        ctx = self.ctx
        with ctx.db.session() as s:
            return repo.list_voices(s, PROVIDER)

    def names(self) -> dict[str, str]:
        """voice id → name, from the cached catalog (blocking)."""
        return {v.voice_id: v.name for v in self.cached()}

    async def refresh(self) -> list[CatalogVoice]:
        """Fetch the account's voices, store them, tell every listener; returns the stored catalog."""
        from synthbot_desktop.tts.voice_service import api_for
        from synthbot_desktop.tts.voice_settings import to_json

        ctx = self.ctx
        api = await asyncio.to_thread(api_for, ctx)  # keyring read
        try:
            voices = await api.voices()
        finally:
            await api.aclose()
        rows = [CatalogVoice(PROVIDER, v.voice_id, v.name, v.category, dict(v.labels), v.description, v.preview_url,
                             to_json(v.settings) if v.settings else None) for v in voices]

        def store() -> list[CatalogVoice]:
            with ctx.db.session() as s:
                repo.replace_catalog(s, PROVIDER, rows)
                return repo.list_voices(s, PROVIDER)

        catalog = await asyncio.to_thread(store)
        self._notify(catalog)
        return catalog

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(catalog)`` after each refresh (on the refreshing thread); returns an
        unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _notify(self, catalog: list[CatalogVoice]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(list(catalog))
            except Exception:  # one broken listener must not hide the news from the others
                log.exception("voice catalog listener failed")


_CATALOGS: weakref.WeakKeyDictionary[AppContext, VoiceCatalog] = weakref.WeakKeyDictionary()
_CATALOGS_LOCK = threading.Lock()


def voice_catalog(ctx: AppContext) -> VoiceCatalog:
    """The one catalog service of ``ctx`` (made on first use, gone with the context)."""
    with _CATALOGS_LOCK:
        catalog = _CATALOGS.get(ctx)
        if catalog is None:
            catalog = _CATALOGS[ctx] = VoiceCatalog(ctx)
        return catalog
