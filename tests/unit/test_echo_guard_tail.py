"""The echo guard outlives playback by a short tail (issue #15, measured on the speaker-to-mic path).

Under load, blocks of the assistant's own echo are read after playback has ended; the guard used to
drop the instant ``engine.speaking`` turned false, and an onset held back 2.5 s as echo was accepted
20 ms later as an (empty) turn. Blocks are now judged by when they were captured.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

from synthbot_desktop.pipeline.voice_loop import LoopConfig, VoiceLoop
from tests.support.loop_fakes import BLOCK, Block, PushMic, ScriptedEndpointer


def _loop(**cfg: object) -> tuple[VoiceLoop, SimpleNamespace, ScriptedEndpointer]:
    engine = SimpleNamespace(speaking=True)
    ep = ScriptedEndpointer({})
    loop = VoiceLoop(engine, PushMic(), ep, config=LoopConfig(echo_cancelled=True, **cfg))  # type: ignore[arg-type]
    return loop, engine, ep


def _block(at: float) -> Block:
    return Block(np.zeros(BLOCK, dtype=np.float32), at)


def test_blocks_captured_just_after_playback_are_still_guarded() -> None:
    loop, engine, ep = _loop()
    t0 = time.monotonic()
    loop._on_block(_block(t0))
    assert ep.confirm_threshold == 0.75  # playing: speech must pass the raised bar (and the veto)
    engine.speaking = False
    loop._on_block(_block(t0 - 1.0))  # echo captured during playback, read late (a loaded machine)
    assert ep.confirm_threshold == 0.75
    loop._on_block(_block(time.monotonic()))  # the room's tail, just after the last sample
    assert ep.confirm_threshold == 0.75
    loop._on_block(_block(time.monotonic() + 0.7))  # past the 600 ms tail: a person's reply
    assert ep.confirm_threshold is None
    assert ep.threshold == 0.5  # onsets were at the normal threshold all along (no first words lost)


def test_no_tail_with_headphones_or_when_set_to_zero() -> None:
    loop, engine, ep = _loop(headphones=True)
    loop._on_block(_block(time.monotonic()))
    assert ep.confirm_threshold is None  # headphones: no echo, no guard
    loop, engine, ep = _loop(playback_tail_ms=0)
    loop._on_block(_block(time.monotonic()))
    engine.speaking = False
    loop._on_block(_block(time.monotonic() + 0.001))
    assert ep.confirm_threshold is None
