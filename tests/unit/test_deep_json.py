"""Text nested thousands of brackets deep overflows json's recursion: every reader of foreign JSON must
turn that into its ordinary "malformed" answer, not a RecursionError that kills the turn.

Found by the fuzz test in CI (an Ollama line of 2,000 '[' characters)."""

from __future__ import annotations

import pytest

from synthbot_desktop.llm.http_errors import error_from_response
from synthbot_desktop.llm.providers._json import arguments_object, loads_event
from synthbot_desktop.tools.schema import ArgumentsError, parse_arguments
from synthbot_desktop.tts.elevenlabs_errors import error_from_response as tts_error_from_response

DEEP = "[" * 100_000


def test_a_deep_stream_line_is_skipped_like_any_malformed_line() -> None:
    assert loads_event("ollama", DEEP) is None


def test_deep_stored_arguments_read_as_empty() -> None:
    assert arguments_object(DEEP) == {}


def test_deep_tool_arguments_are_a_one_line_error() -> None:
    with pytest.raises(ArgumentsError, match="nested too deeply"):
        parse_arguments('{"a": ' + DEEP, {"type": "object"})


def test_a_deep_error_body_still_maps_to_its_status() -> None:
    err = error_from_response("openai", 500, {}, DEEP.encode())
    assert err.info.status_code == 500
    assert tts_error_from_response(500, {}, DEEP.encode()).info.status_code == 500
