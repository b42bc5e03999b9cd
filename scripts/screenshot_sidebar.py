"""Take docs/screenshots/talk-sidebar.png: the Talk tab with its conversation sidebar open.

The real app against the fake OpenAI and ElevenLabs servers, with a few stored conversations;
one is opened from the sidebar (as a click does) and continued with a typed question, so the
picture shows the list, the highlighted conversation and the last question's Edit button.
Nothing is drawn by hand:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_sidebar.py
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

from screenshot_common import pump

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots" / "talk-sidebar.png"

STORED = [  # title, age, question, answer
    ("Packing list for Lisbon", dt.timedelta(days=6), "What should I pack for Lisbon in March?",
     "Layers, a light rain jacket and comfortable shoes: the streets are steep and cobbled."),
    ("Soup for four", dt.timedelta(days=2, hours=3), "A quick soup for four people?",
     "A leek and potato soup takes 30 minutes."),
    ("Ten of clubs", dt.timedelta(hours=26), "Ten of clubs.", "Noted: the ten of clubs."),
    ("Trivia night", dt.timedelta(hours=3), "Who wrote Hamlet?", "William Shakespeare, around 1600."),
    ("Morning timer", dt.timedelta(minutes=40), "Set a timer for five minutes.", "Timer set for 5 minutes."),
]




def main() -> int:
    sys.path.insert(0, str(ROOT))
    import keyring

    from tests.conftest import MemoryKeyring
    from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
    from tests.support.fake_llm import base_url, start_fake_llm

    tmp = Path(tempfile.mkdtemp(prefix="synthbot-sidebar-"))
    llm = start_fake_llm("openai", "Hamlet was probably first performed in 1600 or 1601, at the Globe.",
                         first_token_delay=0.05, tokens_per_second=80)
    el = start_fake_elevenlabs()
    os.environ.update({"SYNTHBOT_CONFIG_DIR": str(tmp / "config"), "SYNTHBOT_DATA_DIR": str(tmp / "data"),
                       "SYNTHBOT_OPENAI_BASE_URL": base_url("openai", llm), "SYNTHBOT_ELEVENLABS_BASE_URL": el.url,
                       "SYNTHBOT_SET__LLM__PROVIDER": "openai", "SYNTHBOT_SET__AUDIO__MODE": "push_to_talk"})
    store = MemoryKeyring()
    store.set_password("synthbot-desktop", "openai", "sk-screenshot-0000")
    store.set_password("synthbot-desktop", "elevenlabs", FAKE_API_KEY)
    keyring.set_keyring(store)

    from synthbot_desktop.gui.application import build, ensure_qapp
    from synthbot_desktop.pipeline import events as ev
    from synthbot_desktop.pipeline.memory_output import MemoryOutput
    from synthbot_desktop.storage import repositories as repo
    from synthbot_desktop.storage.records import MessageRecord

    app = ensure_qapp()
    gui = build(output_factory=lambda _c: MemoryOutput(realtime=False))
    ctx, w = gui.ctx, gui.window
    now = dt.datetime.now(dt.UTC)
    ids = {}
    with ctx.db.session() as s:
        for title, age, question, answer in STORED:
            sid = repo.create_session(s, ctx.user_id, title=title, provider="openai", model="gpt-4o-mini").id
            repo.add_message(s, MessageRecord(session_id=sid, role="user", content=question, created_at=now - age))
            repo.add_message(s, MessageRecord(session_id=sid, role="assistant", content=answer,
                                              created_at=now - age + dt.timedelta(seconds=3)))
            ids[title] = sid
    w.resize(1000, 680)
    w.show()
    w.sidebar_controller.refresh()
    pump(app, 0.6)
    w.sidebar_controller.open(ids["Trivia night"])  # what a click on the row does
    pump(app, 0.6)
    w.input.setText("When was it first performed?")
    w.send_typed()
    deadline = time.monotonic() + 30
    while w.state != ev.TurnState.IDLE or len(w.conversation.bubbles()) < 4:
        if time.monotonic() > deadline:
            raise SystemExit("the turn did not finish")
        pump(app, 0.05)
    pump(app, 1.0)  # the list is read again after the turn: the conversation moves to the top
    OUT.parent.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(OUT))
    gui.close()
    el.stop()
    llm.stop()
    print(OUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
