"""Voice conversations (`talk`, the window) when MySQL is unreachable at the START (issue #14 item 1).

Through the same wiring as `talk` and the window (services.conversation.open_conversation), on
MariaDB behind a proxy the test owns and cuts before anything starts: a new conversation's
turn runs and is spooled (the session itself is created later, with its first message), a
second process continues that conversation by its session uid with the whole context from the
local cache, and once the server is back one replay stores one session, its four messages in
order and every provider call's usage row linked to its message.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from synthbot_desktop.app import AppContext
from synthbot_desktop.pipeline.ports import Transcription
from synthbot_desktop.pipeline.turn import UserInput
from synthbot_desktop.services.conversation import chat_for, open_conversation, plan_conversation, speech_for
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage, ConversationSession
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
from tests.support.fake_http import FakeServer
from tests.support.fake_llm import base_url, install_fake_llm
from tests.support.mariadb import TcpProxy

REPLY = "The tide is coming in. It will be high at noon."


def _turn(session: int | str | None, text: str) -> tuple[Any, Any]:
    """One voice turn in a fresh AppContext (a new process, as far as the app can tell)."""
    async def go() -> tuple[Any, Any]:
        ctx = AppContext()
        plan = plan_conversation(ctx, provider="ollama", model="m", engine="elevenlabs", voice_id="voice-x")
        engine = await open_conversation(ctx, plan, chat=chat_for(ctx, plan), speech=speech_for(ctx, plan.voice),
                                         output=None, stt=None, sink=None, session_id=session)
        result = await engine.run_turn(UserInput(transcription=Transcription(text, "en", 0.9, 1.5, "fake"),
                                                 stt_latency_ms=5.0, speech_end=time.monotonic()))
        await engine.chat.aclose()
        if engine.speech is not None:
            await engine.speech.aclose()
        ctx.flush()
        pending = ctx.pending_records()
        ctx.close()
        return engine.conversation, (result, pending)

    return asyncio.run(go())


@pytest.mark.mysql
def test_voice_turns_run_offline_from_the_start_and_land_once(
        app_env: dict[str, str], memory_keyring: object, mysql_url: str, proxy: TcpProxy,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    monkeypatch.setenv("SYNTHBOT_SET__database__connect_timeout", "2")
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", mysql_url.replace(":3306/", f":{proxy.port}/"))
    tts = start_fake_elevenlabs()
    llm = FakeServer()
    llm.start()
    try:
        install_fake_llm(llm, "ollama", REPLY)
        monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", base_url("ollama", llm))
        monkeypatch.setenv("SYNTHBOT_ELEVENLABS_BASE_URL", tts.url)
        monkeypatch.setenv("SYNTHBOT_ELEVENLABS_API_KEY", FAKE_API_KEY)
        proxy.cut()  # gone before the first command starts: not even the schema exists yet

        conv, (first, pending) = _turn(None, "When is high tide?")
        assert first.reply == REPLY and first.error is None
        assert conv.session_id is None and conv.session_uid == first.user_uid
        assert pending >= 4  # STT + LLM + two spoken sentences, each durable as it ended, + the turn

        conv2, (second, _) = _turn(conv.session_uid, "And low tide?")
        assert second.reply == REPLY and conv2.session_uid == conv.session_uid and conv2.resumed
        sent = [m["content"] for m in llm.requests[-1].json()["messages"] if m["role"] != "system"]
        assert sent == ["When is high tide?", REPLY, "And low tide?"], "offline context incomplete"

        proxy.restore()
        ctx = AppContext()
        assert ctx.db is not None and ctx.pending_records() == 0  # replayed on first use
        ctx.close()
    finally:
        llm.stop()
        tts.stop()

    engine = create_engine(mysql_url)
    try:
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(ConversationSession)) == 1
            contents = list(s.scalars(select(ConversationMessage.content).order_by(ConversationMessage.id)))
            usage = list(s.execute(select(ApiUsageLog.endpoint, ApiUsageLog.session_id, ApiUsageLog.message_id)))
    finally:
        engine.dispose()
    assert contents == ["When is high tide?", REPLY, "And low tide?", REPLY]
    assert len(usage) == len(first.usage) + len(second.usage)
    assert all(sid is not None and mid is not None for _, sid, mid in usage), usage
