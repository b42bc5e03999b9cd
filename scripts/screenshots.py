"""Take the README screenshots: main window mid-conversation, settings → voice, usage page.

Runs the real app against local fake providers with seeded history/usage, so the pictures
can be refreshed at any time:

    xvfb-run -a -s '-screen 0 1280x800x24' .venv/bin/python scripts/screenshots.py

(QT_QPA_PLATFORM=offscreen also works.) Writes docs/screenshots/*.png.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from screenshot_common import pump

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"




def main() -> int:
    sys.path.insert(0, str(ROOT))
    import keyring

    from tests.conftest import MemoryKeyring
    from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
    from tests.support.fake_llm import base_url, start_fake_llm

    tmp = Path(tempfile.mkdtemp(prefix="synthbot-shots-"))
    llm = start_fake_llm("openai", "Sure! Lisbon is the capital of Portugal. It sits on seven hills by the "
                         "Tagus river, and its trams are famous.", first_token_delay=0.2, tokens_per_second=15)
    el = start_fake_elevenlabs()
    os.environ.update({"SYNTHBOT_CONFIG_DIR": str(tmp / "config"), "SYNTHBOT_DATA_DIR": str(tmp / "data"),
                       "SYNTHBOT_OPENAI_BASE_URL": base_url("openai", llm), "SYNTHBOT_ELEVENLABS_BASE_URL": el.url,
                       "SYNTHBOT_SET__LLM__PROVIDER": "openai", "SYNTHBOT_SET__AUDIO__MODE": "push_to_talk",
                       "SYNTHBOT_SET__TTS__ELEVENLABS__VOICE_ID": "FAKEvoice000000000001"})  # "Rachel" in the fake
    store = MemoryKeyring()
    store.set_password("synthbot-desktop", "openai", "sk-screenshot-0000")
    store.set_password("synthbot-desktop", "elevenlabs", FAKE_API_KEY)
    keyring.set_keyring(store)

    from synthbot_desktop.gui.application import build, ensure_qapp
    from synthbot_desktop.pipeline import events as ev
    from synthbot_desktop.pipeline.memory_output import MemoryOutput
    from synthbot_desktop.storage import repositories as repo
    from synthbot_desktop.storage.records import UsageRecord

    app = ensure_qapp()
    gui = build(output_factory=lambda _c: MemoryOutput(realtime=False))
    ctx = gui.ctx
    import asyncio

    # The fake's voice catalog, for the voice page; a refresh tells every listener (the window's relay).
    from synthbot_desktop.services.voice_catalog import voice_catalog

    asyncio.run(voice_catalog(ctx).refresh())
    now = dt.datetime.now(dt.UTC)
    with ctx.db.session() as s:
        for day in range(7):
            when = now - dt.timedelta(days=day, hours=1)
            repo.add_usage(s, UsageRecord("openai", model="gpt-4o-mini", tokens_in=900 + 150 * day,
                                          tokens_out=300 + 40 * day, cost_usd=Decimal("0.0004"), created_at=when),
                           ctx.user_id)
            repo.add_usage(s, UsageRecord("elevenlabs", model="eleven_flash_v2_5", characters=1200 + 300 * day,
                                          audio_seconds=70 + 20 * day, cost_usd=Decimal("0.06"), created_at=when),
                           ctx.user_id)
    OUT.mkdir(parents=True, exist_ok=True)
    w = gui.window
    w.resize(1100, 720)
    w.show()
    pump(app, 0.5)
    w.input.setText("What's the capital of Portugal?")
    w.send_typed()
    deadline = time.monotonic() + 30
    while w.state != ev.TurnState.IDLE or len(w.conversation.bubbles()) < 2:  # ~2 s at 15 tokens/s
        if time.monotonic() > deadline:
            raise SystemExit("the conversation did not finish")
        pump(app, 0.05)
    w.input.setText("And how many people live there?")
    w.send_typed()
    pump(app, 0.7)  # mid-stream: the reply is still coming in
    gui.bridge.sink(ev.InputLevel(-22.0, -9.0))
    pump(app, 0.2)
    w.grab().save(str(OUT / "main-window.png"))
    pump(app, 4)
    w.resize(700, 500)  # the smallest size people use it at (issue #21): the top bar wraps
    pump(app, 0.8)
    w.grab().save(str(OUT / "main-window-700x500.png"))
    w.resize(1100, 720)
    pump(app, 0.3)
    # Both appearances (ui.theme; "system" follows the desktop): listening, with an error banner.
    w.bridge.sink(ev.StateChanged(ev.TurnState.LISTENING))
    w.bridge.sink(ev.InputLevel(-24.0, -12.0))
    w.show_error(ev.ErrorEvent("ElevenLabs is not reachable", hint="speaking with the offline voice"))
    w.mute_button.setChecked(True)  # the muted state, as people see it
    for scheme in ("light", "dark"):
        ctx.settings.set("ui.theme", scheme)
        pump(app, 0.6)
        w.grab().save(str(OUT / f"main-window-{scheme}.png"))
    ctx.settings.set("ui.theme", "light")
    w.mute_button.setChecked(False)
    w.banner.hide()
    # Live captions (ui.live_captions, issue #12): the words so far, in a pale bubble, while speaking.
    w.bridge.sink(ev.StateChanged(ev.TurnState.HEARING))
    w.bridge.sink(ev.InputLevel(-18.0, -8.0))
    w.bridge.sink(ev.PartialTranscript("And what's the weather like there this"))
    pump(app, 0.5)
    w.grab().save(str(OUT / "main-window-caption.png"))
    w.bridge.sink(ev.StateChanged(ev.TurnState.IDLE))
    pump(app, 0.3)

    dialog = gui.open_settings("voice")
    dialog.resize(900, 700)
    pump(app, 1.5)
    dialog.grab().save(str(OUT / "settings-voice.png"))
    dialog.show_page("providers")
    pump(app, 1.0)
    dialog.grab().save(str(OUT / "settings-providers.png"))
    dialog.close()

    w.tabs.setCurrentWidget(gui.usage)
    pump(app, 2.0)
    w.grab().save(str(OUT / "usage.png"))
    ctx.settings.set("ui.theme", "dark")
    pump(app, 0.8)
    w.grab().save(str(OUT / "usage-dark.png"))
    ctx.settings.set("ui.theme", "light")
    pump(app, 0.5)
    w.tabs.setCurrentWidget(gui.history)
    pump(app, 1.5)
    gui.history.table.selectRow(0)  # the preview pane shows the conversation
    pump(app, 1.0)
    w.grab().save(str(OUT / "history.png"))
    gui.close()
    llm.stop()
    el.stop()
    for p in sorted(OUT.glob("*.png")):
        print(p.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
