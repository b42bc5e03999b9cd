"""Warm connections (issue #12): warm() opens the provider's keep-alive connection before the turn,
and the turn's request then travels on that same connection (the fake server sees one connection)."""

from __future__ import annotations

import asyncio

from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.llm.providers.openai import OpenAIChatProvider
from tests.support.fake_llm import start_fake_llm


class CountingProxy:
    """A loopback TCP relay in front of the fake server that counts the connections clients open."""

    def __init__(self, port: int) -> None:
        self.target_port = port
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


def test_warm_opens_the_connection_the_turn_reuses() -> None:
    async def scenario() -> None:
        with start_fake_llm("openai", reply_text="Hi there.") as server:
            proxy = CountingProxy(int(server.url.rsplit(":", 1)[1]))
            port = await proxy.start()
            provider = OpenAIChatProvider(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test-warm",
                                          default_model="gpt-4o-mini")
            try:
                await provider.warm()
                assert proxy.connections == 1, "warm() did not connect"
                assert [r.method for r in server.requests] == ["GET"]  # the free model list, no tokens
                text = ""
                async for item in provider.stream([ChatMessage("user", "hello")], "gpt-4o-mini"):
                    text += getattr(item, "text", "")
                assert "Hi there" in text
                assert proxy.connections == 1, "the turn opened a new connection instead of the warm one"
                assert [r.method for r in server.requests] == ["GET", "POST"]
            finally:
                await provider.aclose()
                await proxy.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_warm_failure_is_silent() -> None:
    async def scenario() -> None:
        provider = OpenAIChatProvider(base_url="http://127.0.0.1:9/v1", api_key="sk-x", default_model="m")
        try:
            await provider.warm()  # nothing listens on port 9: logged, not raised
        finally:
            await provider.aclose()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_tts_warm_opens_the_connection_the_speech_request_reuses() -> None:
    from synthbot_desktop.tts.base import SpeechRequest
    from synthbot_desktop.tts.elevenlabs_api import ElevenLabsConfig
    from synthbot_desktop.tts.elevenlabs_speech import ElevenLabsSpeech
    from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs

    async def scenario() -> None:
        server = start_fake_elevenlabs()
        try:
            proxy = CountingProxy(int(server.url.rsplit(":", 1)[1]))
            port = await proxy.start()
            speech = ElevenLabsSpeech(ElevenLabsConfig(FAKE_API_KEY, f"http://127.0.0.1:{port}", timeout_s=10))
            try:
                await speech.warm()
                assert proxy.connections == 1, "warm() did not connect"
                assert [r.method for r in server.requests] == ["GET"]  # the free model list, no characters
                chunks = [c async for c in speech.stream(SpeechRequest("Hello there."))]
                assert sum(len(c.pcm) for c in chunks) > 0
                assert proxy.connections == 1, "the TTS request opened a new connection instead of the warm one"
                assert [r.method for r in server.requests] == ["GET", "POST"]
            finally:
                await speech.aclose()
                await proxy.stop()
        finally:
            server.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))
