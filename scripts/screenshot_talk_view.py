"""Take docs/screenshots/talk-conversation.png: a reply with Markdown, a tool row and the buttons.

The real app and turn path against a scripted local OpenAI-wire server (a `get_current_time`
tool round, then a Markdown answer) and the fake ElevenLabs; nothing is drawn by hand:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_talk_view.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from screenshot_common import pump

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots" / "talk-conversation.png"

ANSWER = ("It is **14:05** in Lisbon. To print the time yourself:\n\n"
          "```python\nfrom datetime import datetime\nfrom zoneinfo import ZoneInfo\n"
          "print(datetime.now(ZoneInfo(\"Europe/Lisbon\")).strftime(\"%H:%M\"))  # a long line wraps, never cut\n"
          "```\n\n- Lisbon is on **WET** (UTC+0) in winter\n- and on WEST (UTC+1) in summer\n\n"
          "More on [time zones](https://en.wikipedia.org/wiki/Time_zone).")




def main() -> int:
    sys.path.insert(0, str(ROOT))
    import keyring

    from tests.conftest import MemoryKeyring
    from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
    from tests.support.fake_http import FakeServer
    from tests.support.fake_tools_llm import install_script

    tmp = Path(tempfile.mkdtemp(prefix="synthbot-talkview-"))
    el = start_fake_elevenlabs()
    with FakeServer() as llm:
        install_script(llm, [[("c1", "get_current_time", "{}")], ANSWER])
        os.environ.update({"SYNTHBOT_CONFIG_DIR": str(tmp / "config"), "SYNTHBOT_DATA_DIR": str(tmp / "data"),
                           "SYNTHBOT_OPENAI_BASE_URL": llm.url + "/v1", "SYNTHBOT_ELEVENLABS_BASE_URL": el.url,
                           "SYNTHBOT_SET__LLM__PROVIDER": "openai", "SYNTHBOT_SET__AUDIO__MODE": "push_to_talk"})
        store = MemoryKeyring()
        store.set_password("synthbot-desktop", "openai", "sk-screenshot-0000")
        store.set_password("synthbot-desktop", "elevenlabs", FAKE_API_KEY)
        keyring.set_keyring(store)

        from synthbot_desktop.gui.application import build, ensure_qapp
        from synthbot_desktop.pipeline import events as ev
        from synthbot_desktop.pipeline.memory_output import MemoryOutput

        app = ensure_qapp()
        gui = build(output_factory=lambda _c: MemoryOutput(realtime=False))
        w = gui.window
        w.resize(900, 760)
        w.show()
        pump(app, 0.5)
        w.input.setText("What time is it in Lisbon?")
        w.send_typed()
        deadline = time.monotonic() + 30
        while w.state != ev.TurnState.IDLE or len(w.conversation.bubbles()) < 2:
            if time.monotonic() > deadline:
                raise SystemExit("the conversation did not finish")
            pump(app, 0.05)
        pump(app, 0.5)
        rows = w.conversation.tool_rows()
        if rows:
            rows[0].set_expanded(True)  # one row opened, to show what it holds
        pump(app, 0.5)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        w.grab().save(str(OUT))
        gui.close()
    el.stop()
    print(OUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
