"""`history import` of hostile files: one clear line, nothing stored, counts that match the rows."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthbot_desktop.cli.main import main
from synthbot_desktop.errors import UsageError
from synthbot_desktop.services.history_import import load_export, validate

GOOD: dict[str, Any] = {"format": "synthbot-desktop.session", "version": 1, "session": {"title": "t"},
                        "messages": [{"role": "user", "content": "hi", "uid": "u-1"},
                                     {"role": "assistant", "content": "hello", "uid": "u-2",
                                      "interrupted": False, "tokens_out": 3}]}


def _with(**changes: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        target = doc
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        target[leaf] = value
    return doc


@pytest.mark.parametrize("doc,needle", [
    (_with(version="abc"), "'version'"), (_with(version=None), "'version'"), (_with(session="oops"), "'session'"),
    (_with(messages__1__interrupted="false"), "'interrupted'"), (_with(messages__1__tokens_out="abc"), "'tokens_out'"),
    (_with(messages__1__uid="u-1"), "repeats"), (_with(messages__0__created_at="yesterday"), "'created_at'"),
    (_with(messages__1__tokens_out=2**40), "'tokens_out'"), (_with(messages="x"), "'messages'"),
])
def test_wrong_types_are_rejected_with_one_line(doc: dict[str, Any], needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        validate(doc)


def test_deep_nesting_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "deep.json"
    f.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(UsageError, match="nested"):
        load_export(f)


def test_cli_import_counts_what_it_stores(app_env: dict[str, str], memory_keyring: object, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "dup.json"
    f.write_text(json.dumps(_with(messages__1__uid="u-1")))
    assert main(["history", "import", str(f)]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error:") and "repeats" in err
    f.write_text(json.dumps(GOOD))
    assert main(["history", "import", str(f), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["messages_added"] == 2
    assert main(["history", "show", str(doc["session_ids"][0]), "--json"]) == 0
    shown = capsys.readouterr().out
    assert '"hi"' in shown and '"hello"' in shown


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=4), max_leaves=20)
_field = st.sampled_from(["role", "content", "uid", "interrupted", "tokens_in", "tokens_out", "created_at",
                          "audio_duration_s", "timings", "model", "error"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.one_of(
    _json,
    st.builds(lambda msgs, v, sess: {"format": "synthbot-desktop.session", "version": v, "session": sess,
                                     "messages": msgs},
              st.lists(st.dictionaries(_field, _json, max_size=6) | _json, max_size=4),
              _json | st.integers(), _json),
))
def test_fuzzed_import_documents_never_crash(doc: Any) -> None:
    with contextlib.suppress(UsageError):
        validate(doc)


_export_items = st.lists(_json, max_size=6)


@settings(max_examples=200, deadline=None)
@given(items=_export_items, cut=st.integers(min_value=0, max_value=400), chunk=st.integers(min_value=1, max_value=64))
def test_streamed_lists_match_json_or_stop_cleanly(items: list[Any], cut: int, chunk: int) -> None:
    """The streaming reader (#17) yields exactly json's elements, in any chunking; a cut file
    yields a prefix of them and then TruncatedFile, never another exception."""
    import io

    from synthbot_desktop.services import history_importers as imp

    text = json.dumps(items, ensure_ascii=False)
    old = imp.CHUNK
    imp.CHUNK = chunk
    try:
        assert list(imp.iter_array(io.StringIO(text))) == items
        got: list[Any] = []
        with contextlib.suppress(imp.TruncatedFile, UsageError):
            for item in imp.iter_array(io.StringIO(text[:cut])):
                got.append(item)
        assert got == items[:len(got)]
    finally:
        imp.CHUNK = old
