"""Every built-in tool and LLM provider can be switched off by a feature flag (issue #18): a tool or
provider added without a flag would be impossible for an admin to turn off."""

from __future__ import annotations

from synthbot_desktop.config import FEATURE_FLAGS, LLM_PROVIDERS, REGISTRY
from synthbot_desktop.tools.builtins import Timers, builtin_tools
from synthbot_desktop.tools.memory_tools import memory_tools


def test_every_tool_and_provider_has_a_flag_and_a_lockable_setting() -> None:
    tools = [t.name for t in builtin_tools(Timers(lambda _label: None))] + [t.name for t in memory_tools(None, 0)]
    missing = [f"tool.{n}" for n in tools if f"tool.{n}" not in FEATURE_FLAGS]
    missing += [f"provider.{p}" for p in LLM_PROVIDERS if f"provider.{p}" not in FEATURE_FLAGS]
    assert missing == []
    for name in FEATURE_FLAGS:
        spec = REGISTRY[f"flags.{name}"]
        assert spec.type is bool and spec.default is True
    assert {"feature.enhanced_mode", "feature.tts.elevenlabs", "feature.tts.piper"} <= set(FEATURE_FLAGS)
