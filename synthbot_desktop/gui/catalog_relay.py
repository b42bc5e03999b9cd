"""The voice catalog service's news as a Qt signal, per app context (GUI side of services.voice_catalog).

``voice_catalog(ctx)`` calls its listeners on the thread that refreshed it (the engine loop); the
relay re-emits on the GUI thread (a Qt signal emitted from another thread to an object living on
the GUI thread is queued). One relay per context, so two windows on two contexts never hear each
other's catalog (the old process-wide ``CATALOG_SIGNALS`` bus did).
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, Signal

from synthbot_desktop.app import AppContext
from synthbot_desktop.services.voice_catalog import voice_catalog


class CatalogRelay(QObject):
    changed = Signal(object)  # list[CatalogVoice]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.unsubscribe = voice_catalog(ctx).subscribe(self.changed.emit)


_RELAYS: weakref.WeakKeyDictionary[AppContext, CatalogRelay] = weakref.WeakKeyDictionary()


def catalog_relay(ctx: AppContext) -> CatalogRelay:
    """The relay of ``ctx`` (create it on the GUI thread: it lives there)."""
    relay = _RELAYS.get(ctx)
    if relay is None:
        relay = _RELAYS[ctx] = CatalogRelay(ctx)
    return relay
