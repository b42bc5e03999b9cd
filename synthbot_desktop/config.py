"""Settings: built-in defaults < admin policy defaults < user file < environment < policy locks.

The registry below is the single list of settings: each key has a type, a default, bounds and
a description, so the settings file, the admin policy, the CLI, and the GUI all validate the
same way. Files are TOML; nested tables and dotted keys mean the same thing
(``[audio]\\nsilence_ms = 400`` is ``audio.silence_ms``). The user file is rewritten with
tomlkit so a person's comments survive.

Environment variables win over locks on purpose: they are set by whoever starts the process
(tests, automation), never by the GUI, so they cannot be used to bypass a lock interactively.
"""

from __future__ import annotations

import getpass
import logging
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from synthbot_desktop.errors import ConfigError, PolicyLockedError
from synthbot_desktop.platform_paths import AppPaths, resolve_paths
from synthbot_desktop.setting_keys import Key, T

log = logging.getLogger(__name__)

SettingValue = bool | int | float | str

LLM_PROVIDERS = ("openai", "anthropic", "gemini", "ollama")
# Built-in tools (synthbot_desktop/tools/): each has a tools.<name>.enabled switch.
BUILTIN_TOOLS = ("get_current_time", "set_timer", "open", "clipboard_read", "clipboard_write", "search_history",
                 "remember", "list_memory", "forget")
TTS_ENGINES = ("elevenlabs", "piper")
PROVIDERS = (*LLM_PROVIDERS, *TTS_ENGINES)
# Providers that authenticate with an API key kept in the keyring.
KEYED_PROVIDERS = ("openai", "anthropic", "gemini", "elevenlabs")

# Feature flags (issue #18): what an admin can turn off for everyone or chosen users in the database
# (`synthbot-desktop admin flags`). Each is also a setting ``flags.<name>`` (default on) that a policy
# file can lock; a lock wins over the database. tests/unit/test_feature_flags.py checks every
# built-in tool and LLM provider has one.
FEATURE_FLAGS: dict[str, str] = {
    **{f"provider.{p}": f"the {p} LLM provider" for p in LLM_PROVIDERS},
    "tool.get_current_time": "the get_current_time tool",
    "tool.set_timer": "the set_timer tool",
    "tool.open": "the open tool (opens URLs and files)",
    "tool.remember": "the remember tool",
    "tool.list_memory": "the list_memory tool",
    "tool.forget": "the forget tool",
    "tool.clipboard_read": "the clipboard_read tool",
    "tool.clipboard_write": "the clipboard_write tool",
    "tool.search_history": "the search_history tool",
    "feature.enhanced_mode": "enhanced mode (quantum-seeded sampling, --mode enhanced)",
    "feature.tts.elevenlabs": "speaking with ElevenLabs voices",
    "feature.tts.piper": "speaking with the offline Piper voice",
    "feature.memory": "remembered facts added to new sessions",
    "feature.quantum.ibm": "filling the randomness pool from IBM Quantum",
}

DEFAULT_SYSTEM_PROMPT = (
    "You are SynthBot, a friendly voice assistant. Your replies are spoken aloud, so answer in "
    "short, natural sentences without markdown, lists or code unless asked."
)


@dataclass(frozen=True)
class SettingSpec:
    """One setting's contract: type, default, bounds and what it is for."""

    key: str
    type: type
    default: SettingValue
    description: str
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None

    def coerce(self, value: Any, *, from_text: bool = False) -> SettingValue:
        """Validate ``value`` (or parse it, for env vars and CLI text) against this spec."""
        t = self.type
        if from_text and isinstance(value, str):
            value = _parse_text(value, t, self.key)
        if t is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"expected true or false, got {value!r}", key=self.key)
        elif t is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"expected a whole number, got {value!r}", key=self.key)
        elif t is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"expected a number, got {value!r}", key=self.key)
            value = float(value)
            if not math.isfinite(value):  # NaN passes every range check and breaks JSON later
                raise ConfigError(f"expected a finite number, got {value!r}", key=self.key)
        elif t is str and not isinstance(value, str):
            raise ConfigError(f"expected text, got {value!r}", key=self.key)
        if self.choices is not None and value not in self.choices:
            raise ConfigError(
                f"{value!r} is not one of: {', '.join(self.choices)}", key=self.key
            )
        if self.min is not None and isinstance(value, int | float) and value < self.min:
            raise ConfigError(f"{value!r} is below the minimum {self.min:g}", key=self.key)
        if self.max is not None and isinstance(value, int | float) and value > self.max:
            raise ConfigError(f"{value!r} is above the maximum {self.max:g}", key=self.key)
        if self.key == "database.url" and value:
            _check_database_url(str(value))
        return value


def _check_database_url(url: str) -> None:
    """A database URL must parse and name a supported backend (the message never shows a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        raise ConfigError("not a database URL (use sqlite:///PATH or mysql+pymysql://user@host/db)",
                          key="database.url") from None
    if backend not in ("sqlite", "mysql", "mariadb"):
        raise ConfigError(f"unsupported database {backend!r} (SQLite or MySQL/MariaDB)", key="database.url")


def _sections() -> set[str]:
    """Every table name the registry implies ('audio', 'providers', 'providers.openai', ...)."""
    out: set[str] = set()
    for key in REGISTRY:
        parts = key.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return out


def _parse_text(text: str, t: type, key: str) -> Any:
    text = text.strip()
    if t is bool:
        low = text.lower()
        if low in {"1", "true", "yes", "on"}:
            return True
        if low in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"expected true or false, got {text!r}", key=key)
    if t is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"expected a whole number, got {text!r}", key=key) from None
    if t is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"expected a number, got {text!r}", key=key) from None
    return text


def _specs() -> list[SettingSpec]:
    s = SettingSpec
    specs = [
        s("user.name", str, "", "Local user name the data is filed under (empty: the OS login)."),
        s("database.url", str, "", "SQLAlchemy URL; empty means the SQLite file in the data dir. "
          "MySQL: mysql+pymysql://user@host/db?charset=utf8mb4 (password in the keyring)."),
        s("database.auto_upgrade_remote", bool, False,
          "Upgrade a remote MySQL schema automatically on start (normally an admin runs `db upgrade`)."),
        s("database.connect_timeout", int, 5, "Seconds to wait for the database server.", min=1, max=120),
        s("database.backup.every_hours", int, 0,
          "Back up the database at app start when the last backup is older than this (0 = off). "
          "On a shared MySQL server, leave it off on clients: each would dump everyone's data.",
          min=0, max=24 * 365),
        s("database.backup.keep", int, 7, "How many scheduled backups to keep in <data>/backups.", min=1, max=1000),
        s("secrets.allow_file_backend", bool, False,
          "Where no OS keyring exists, keep API keys in a private file (mode 0600) in the data dir."),
        s("audio.input_device", str, "", "Microphone by name or index; empty = system default."),
        s("audio.output_device", str, "", "Speaker by name or index; empty = system default."),
        s("audio.mode", str, "hands_free", "How a turn starts.", choices=("push_to_talk", "hands_free")),
        s("audio.vad_threshold", float, 0.5, "Speech probability that counts as speech.", min=0.05, max=0.99),
        s("audio.vad_threshold_during_playback", float, 0.85,
          "Higher threshold while the assistant speaks, so its own echo does not interrupt it.",
          min=0.05, max=0.99),
        s("audio.silence_ms", int, 600, "Silence that ends an utterance.", min=100, max=5000),
        s("audio.preroll_ms", int, 300, "Audio kept from before speech was detected.", min=0, max=2000),
        s("audio.min_speech_ms", int, 200, "Shorter sounds are ignored.", min=0, max=2000),
        s("audio.max_utterance_s", float, 60.0, "An utterance is cut after this long (0 = no limit).",
          min=0, max=3600),
        s("audio.barge_in", bool, True, "Speaking while the assistant talks interrupts it."),
        s("audio.headphones", bool, False,
          "You use headphones: no echo, so barge-in uses the normal threshold."),
        s("audio.wake_word", str, "none", "Hands-free wake phrase (offline, bundled models); none = off.",
          choices=("none", "hey_jarvis", "okay_nabu", "hey_mycroft", "alexa")),
        s("audio.wake_word_sensitivity", float, 0.5,
          "Wake-word sensitivity: 0.5 = the model's calibrated cutoff, higher wakes more easily.", min=0.0, max=1.0),
        s("audio.wake_word_refractory_s", float, 2.0, "A second detection within this time is ignored.",
          min=0.0, max=30.0),
        s("audio.wake_word_idle_s", float, 8.0, "Awake with no speech for this long: back to sleep.",
          min=1.0, max=600.0),
        s("audio.wake_word_preroll_ms", int, 300,
          "Audio kept from before the wake detection, so words run on after the phrase are not cut.",
          min=0, max=1500),
        s("audio.wake_word_earcons", bool, True, "A chime on wake and when it goes back to sleep."),
        s("audio.vad_threshold_during_playback_aec", float, 0.75,
          "With echo cancellation: the confirmation threshold while the assistant speaks (what the "
          "canceller leaves of its voice is quieter and distorted, a person's voice is not).",
          min=0.05, max=0.99),
        s("audio.echo_cancellation", str, "auto",
          "Cancel the assistant's own voice in the microphone: auto = on unless headphones are set.",
          choices=("auto", "on", "off")),
        s("stt.model", str, "tiny.en",
          "Whisper model: the bundled tiny.en, another faster-whisper model name, or a folder."),
        s("stt.language", str, "auto", "Spoken language code (en, de, ...) or auto."),
        s("stt.beam_size", int, 1, "Beam search width (1 is fastest; 5 was no more accurate on live turns).",
          min=1, max=10),
        s("stt.compute_type", str, "int8", "CTranslate2 compute type.",
          choices=("int8", "int8_float32", "int16", "float16", "float32", "default")),
        s("stt.device", str, "cpu", "Where Whisper runs.", choices=("cpu", "cuda", "auto")),
        s("stt.use_context_prompt", bool, True, "Give Whisper the last turns as context."),
        s("llm.provider", str, "ollama", "Which LLM answers.", choices=LLM_PROVIDERS),
        s("llm.temperature", float, 0.7, "Sampling temperature.", min=0.0, max=2.0),
        s("llm.max_tokens", int, 1024, "Longest reply in tokens.", min=16, max=65536),
        s("llm.context_tokens", int, 8000, "Token budget for previous turns sent as context.",
          min=256, max=2_000_000),
        s("llm.system_prompt", str, DEFAULT_SYSTEM_PROMPT, "Default system prompt (a persona may replace it)."),
        s("tts.engine", str, "auto", "Who speaks: auto = ElevenLabs when a key is set, else Piper.",
          choices=("auto", *TTS_ENGINES)),
        s("tts.fallback_to_piper", bool, True,
          "Speak with the offline Piper voice when ElevenLabs fails (quota, offline)."),
        s("tts.elevenlabs.voice_id", str, "21m00Tcm4TlvDq8ikWAM", "ElevenLabs voice (default Rachel)."),
        s("tts.elevenlabs.model_id", str, "eleven_flash_v2_5", "ElevenLabs model."),
        s("tts.elevenlabs.output_format", str, "pcm_24000", "Audio format asked of ElevenLabs.",
          choices=("pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100", "mp3_44100_128", "mp3_22050_32")),
        s("tts.elevenlabs.optimize_streaming_latency", int, 0,
          "ElevenLabs latency optimisation level (0 = off, 4 = max).", min=0, max=4),
        s("tts.piper.voice", str, "joe-us", "Piper voice: the bundled joe-us or a .onnx file path."),
        s("tts.piper.length_scale", float, 1.0, "Piper speaking pace (smaller is faster).", min=0.3, max=3.0),
        s("tts.piper.noise_scale", float, 0.667, "Piper voice variation.", min=0.0, max=2.0),
        s("tts.piper.noise_w", float, 0.8, "Piper phoneme length variation.", min=0.0, max=2.0),
        s("tts.piper.speaker_id", int, 0, "Speaker for multi-speaker Piper voices.", min=0, max=10000),
        s("pipeline.first_chunk_min_chars", int, 12,
          "Shortest first spoken clause; lower starts speaking sooner (a whole sentence, \"Sure.\", may be "
          "shorter).", min=1, max=500),
        s("pipeline.chunk_max_chars", int, 250, "Longest text sent to TTS at once.", min=40, max=5000),
        s("pipeline.first_chunk_max_words", int, 6,
          "With no clause boundary within this many words, the first spoken piece ends at a word (0 = off).",
          min=0, max=100),
        s("pipeline.incomplete_turn_hold_ms", int, 1200,
          "Total silence to wait before answering a transcript that sounds unfinished (0 = answer at once).",
          min=0, max=10000),
        s("pipeline.maybe_turn_hold_ms", int, 500,
          "Total silence to wait after a transcript that only may go on: a word or two, or a phrase with "
          "no verb (\"Ten of clubs\"). The reply is prepared meanwhile (0 = answer at once).",
          min=0, max=10000),
        s("pipeline.end_of_turn_model", str, "auto",
          "Ask the voice too (Smart Turn v3, offline): a short phrase that sounds finished is answered "
          "without the maybe hold. auto = the bundled model when installed, off, or an .onnx path."),
        s("pipeline.speculative_pause_ms", int, 180,
          "Start transcribing after this much silence, before the utterance is confirmed (0 = off); "
          "never more than half the end-of-speech silence.",
          min=0, max=5000),
        s("pipeline.speculative_turn", bool, True,
          "At that pause, if the words sound complete, already ask the model (nothing is played until the "
          "silence confirms it; a withdrawn request still counts as usage)."),
        s("ui.global_shortcut", str, "Ctrl+Alt+Space", "System-wide talk shortcut (where the OS allows)."),
        s("ui.push_to_talk_key", str, "Space", "Hold this key in the window to talk."),
        s("ui.show_timings", bool, True, "Show per-turn timing tooltips."),
        s("ui.theme", str, "system", "Appearance: follow the desktop's light/dark choice, or force one.",
          choices=("system", "light", "dark")),
        s("ui.sound_cues", bool, True,
          "Short generated tones when listening starts, when your turn is sent and on an error."),
        s("ui.spoken_errors", bool, True,
          "In voice mode, say a short sentence with the offline voice when a turn fails (besides the banner)."),
        s("ui.spoken_reminders", bool, True,
          "When a timer or reminder goes off, also say it aloud with the offline voice (besides the notification)."),
        s("ui.conversation_sidebar", str, "auto",
          "The Talk tab's list of recent conversations: auto = shown when the window is wide (900 px), "
          "else collapsed; open/closed = as you last left it.", choices=("auto", "open", "closed")),
        s("ui.live_captions", bool, True,
          "Show what you are saying while you speak (a short decode about once a second; never stored)."),
        s("quantum.pool_wait_ms", int, 300,
          "How long an enhanced turn waits for a block of the randomness pool before the OS CSPRNG "
          "stands in (a distant MySQL server may need more; a hung one then costs a turn this long).",
          min=20, max=10000),
        s("privacy.keep_recordings", bool, False, "Keep the audio of each utterance in the data dir."),
        s("history.keep_days", int, 0,
          "Delete conversations with no activity for this many days (0 = keep forever; tag `keep` exempts).",
          min=0, max=36500),
        s("tools.enabled", bool, True, "Offer tools (time, timers, clipboard, memory, MCP...) to the model."),
        s("tools.auto_confirm", bool, False,
          "Run tools with side effects (open, clipboard write, forget) without asking first."),
        s("tools.disabled", str, "",
          "Comma-separated tool names never offered to the model (MCP tools: server__tool)."),
        s("tools.max_rounds", int, 4, "Most tool rounds in one turn before the model must answer.", min=1, max=16),
        s("tools.filler_after_s", float, 1.0,
          "A tool running longer than this gets a spoken filler and a visible running state.", min=0.1, max=30),
        s("tools.mcp.enabled", bool, True, "Offer the tools of the configured MCP servers."),
        s("tools.mcp.timeout_s", float, 20.0, "Seconds an MCP tool call may take.", min=1, max=600),
        s("tools.mcp.start_timeout_s", float, 15.0, "Seconds an MCP server may take to start.", min=1, max=300),
    ]
    specs += [s(f"flags.{name}", bool, True,
                f"Allow {what} (an admin's database flag or a policy lock can turn it off).")
              for name, what in FEATURE_FLAGS.items()]
    for name in BUILTIN_TOOLS:  # one switch per built-in, so a policy can lock any of them off
        specs.append(s(f"tools.{name}.enabled", bool, True, f"Offer the built-in tool {name!r}."))
    defaults = {
        "openai": ("https://api.openai.com/v1", "gpt-4o-mini"),
        "anthropic": ("https://api.anthropic.com", "claude-3-5-haiku-latest"),
        "gemini": ("https://generativelanguage.googleapis.com", "gemini-2.0-flash"),
        "ollama": ("http://127.0.0.1:11434", "llama3.2"),
        "elevenlabs": ("https://api.elevenlabs.io", ""),
    }
    for provider, (url, model) in defaults.items():
        specs.append(s(f"providers.{provider}.base_url", str, url, f"{provider} API base URL."))
        if provider in LLM_PROVIDERS:
            specs.append(s(f"providers.{provider}.model", str, model, f"Default {provider} model."))
        specs.append(s(f"providers.{provider}.timeout_s", float, 30.0,
                       f"Seconds to wait for {provider} to start answering.", min=1, max=600))
    return specs


REGISTRY: dict[str, SettingSpec] = {spec.key: spec for spec in _specs()}


def env_overrides(env: Mapping[str, str]) -> dict[str, str]:
    """Map the documented environment variables to setting keys (raw text values)."""
    out: dict[str, str] = {}
    if env.get("SYNTHBOT_DATABASE_URL"):
        out["database.url"] = env["SYNTHBOT_DATABASE_URL"]
    for provider in PROVIDERS:
        name = f"SYNTHBOT_{provider.upper()}_BASE_URL"
        if env.get(name) and f"providers.{provider}.base_url" in REGISTRY:
            out[f"providers.{provider}.base_url"] = env[name]
    # Generic form for automation: SYNTHBOT_SET__audio__silence_ms=400
    for name, value in env.items():
        if name.startswith("SYNTHBOT_SET__"):
            out[name[len("SYNTHBOT_SET__"):].replace("__", ".").lower()] = value
    return out


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            yield from _flatten(v, key + ".")
        else:
            yield key, v


def _line_of(text: str, key: str) -> int | None:
    """Best-effort line number of ``key`` in TOML text (tomlkit keeps no positions)."""
    leaf = re.escape(key.rsplit(".", 1)[-1])
    full = re.escape(key)
    for pattern in (rf'^\s*"?{full}"?\s*=', rf"^\s*\[\[?\s*{full}\s*\]", rf"^\s*{leaf}\s*="):
        for i, line in enumerate(text.splitlines(), start=1):
            if re.match(pattern, line):
                return i
    return None


def _unwrap(value: Any) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file, turning every failure into a ConfigError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file ({exc.__class__.__name__}: {exc})", path=str(path),
                          hint="check the file's permissions and that it is UTF-8 text") from None
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(path), line=exc.line,
                          hint="fix the syntax or remove the file to start from defaults") from None
    return _unwrap(doc), text


def _validated(flat: Mapping[str, Any], path: Path, text: str) -> dict[str, SettingValue]:
    out: dict[str, SettingValue] = {}
    sections = _sections()
    for key, raw in flat.items():
        spec = REGISTRY.get(key)
        if spec is None and key in sections:
            raise ConfigError(f"'{key}' must be a table ([{key}]), not a value", path=str(path),
                              line=_line_of(text, key), hint="fix or remove that line")
        if spec is None:
            log.warning("%s: ignoring unknown setting %r", path, key)
            continue
        try:
            out[key] = spec.coerce(raw)
        except ConfigError as exc:
            raise ConfigError(exc.message.split(": ", 1)[-1], path=str(path), line=_line_of(text, key),
                              key=key, hint=f"{spec.description}") from None
    return out


@dataclass
class Policy:
    """What the administrator set: defaults users may change, and locked values they may not."""

    path: Path | None = None
    defaults: dict[str, SettingValue] = field(default_factory=dict)
    locked: dict[str, SettingValue] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, *, required: bool) -> Policy:
        if not path.exists():
            if required:
                raise ConfigError("the policy file does not exist", path=str(path),
                                  hint="fix SYNTHBOT_POLICY_FILE or create the file")
            return cls()
        data, text = read_toml(path)
        unknown = set(data) - {"defaults", "locked"}
        if unknown:
            raise ConfigError(f"unknown section(s) {sorted(unknown)}; expected [defaults] and [locked]",
                              path=str(path), line=_line_of(text, sorted(unknown)[0]))
        for section in ("defaults", "locked"):
            if section in data and not isinstance(data[section], Mapping):
                raise ConfigError(f"'{section}' must be a table", path=str(path), line=_line_of(text, section))
        defaults = _validated(dict(_flatten(data.get("defaults", {}))), path, text)
        locked = _validated(dict(_flatten(data.get("locked", {}))), path, text)
        return cls(path=path, defaults=defaults, locked=locked)


class Settings:
    """The merged, validated settings of this process; writes go to the user file only."""

    def __init__(self, paths: AppPaths, env: Mapping[str, str] | None = None) -> None:
        self.paths = paths
        self._env = dict(os.environ if env is None else env)
        self.policy = Policy.load(paths.policy_file, required=paths.policy_from_env)
        self._user, _ = self._load_user()
        # Told the keys after every write: a window showing a setting follows it at once.
        self._listeners: list[Callable[[AbstractSet[str]], None]] = []
        self._env_values: dict[str, SettingValue] = {}
        for key, text in env_overrides(self._env).items():
            spec = REGISTRY.get(key)
            if spec is None:
                raise ConfigError("unknown setting named by an environment variable", key=key)
            self._env_values[key] = spec.coerce(text, from_text=True)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> Settings:
        return cls(resolve_paths(env), env)

    def _load_user(self) -> tuple[dict[str, SettingValue], str]:
        data, text = read_toml(self.paths.settings_file)
        return _validated(dict(_flatten(data)), self.paths.settings_file, text), text

    def get(self, key: str) -> Any:
        spec = REGISTRY.get(key)
        if spec is None:
            raise KeyError(key)
        for layer in (self._env_values, self.policy.locked, self._user, self.policy.defaults):
            if key in layer:
                return layer[key]
        return spec.default

    def _typed(self, key: str, t: type) -> Any:
        """``get`` checked against the registry's declared type (a wrong getter is a bug, not user input)."""
        spec = REGISTRY.get(key)
        if spec is None:
            raise KeyError(key)
        if spec.type is not t:
            raise TypeError(f"setting {key} is {spec.type.__name__}, not {t.__name__}")
        return self.get(key)

    def value(self, key: Key[T]) -> T:
        """The value of a typed key (``synthbot_desktop.setting_keys``), of the registry's type."""
        return key.type(self._typed(key.name, key.type))

    def get_str(self, key: str) -> str:
        return str(self._typed(key, str))

    def get_int(self, key: str) -> int:
        return int(self._typed(key, int))

    def get_float(self, key: str) -> float:
        return float(self._typed(key, float))

    def get_bool(self, key: str) -> bool:
        return bool(self._typed(key, bool))

    def source(self, key: str) -> str:
        """Which layer decided ``key``: env, locked, user, policy or default."""
        for name, layer in (("env", self._env_values), ("locked", self.policy.locked),
                            ("user", self._user), ("policy", self.policy.defaults)):
            if key in layer:
                return name
        return "default"

    def is_locked(self, key: str) -> bool:
        return key in self.policy.locked

    def set(self, key: str, value: Any, *, from_text: bool = False) -> None:
        """Validate and persist one user setting (comments in the file are kept)."""
        spec = REGISTRY.get(key)
        if spec is None:
            raise ConfigError("no such setting", key=key)
        if self.is_locked(key):
            raise PolicyLockedError(f"'{key}' is locked by your administrator's policy "
                                    f"({self.policy.path})", hint="ask your administrator to change it")
        self.update({key: spec.coerce(value, from_text=from_text)})

    def update(self, values: Mapping[str, SettingValue]) -> None:
        """Persist several settings at once, atomically (one file write)."""
        for key, value in values.items():
            if self.is_locked(key):
                raise PolicyLockedError(f"'{key}' is locked by your administrator's policy")
            REGISTRY[key].coerce(value)
        path = self.paths.settings_file
        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
        except tomlkit.exceptions.ParseError as exc:
            raise ConfigError(f"not valid TOML: {exc}", path=str(path), line=exc.line) from None
        for key, value in values.items():
            parts = key.split(".")
            table: Any = doc
            for i, part in enumerate(parts[:-1]):
                if part not in table:
                    table[part] = tomlkit.table()
                elif not isinstance(table[part], Mapping):
                    raise ConfigError(f"'{'.'.join(parts[:i + 1])}' in the file is not a table",
                                      path=str(path), hint="fix or remove that line, then try again")
                table = table[part]
            table[parts[-1]] = value
            self._user[key] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
        os.replace(tmp, path)
        self._changed(set(values))

    def add_listener(self, fn: Callable[[AbstractSet[str]], None]) -> Callable[[], None]:
        """Call ``fn(keys)`` after each write (on the writer's thread); returns the remover.

        Why: settings are written in one place (the dialog, the welcome dialog, the CLI) and
        shown in another (the main window's switchers); without this they disagreed (issue #21)."""
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn) if fn in self._listeners else None

    def _changed(self, keys: AbstractSet[str]) -> None:
        for fn in list(self._listeners):
            try:
                fn(keys)
            except Exception:  # a broken listener must not undo a saved setting
                log.exception("settings listener failed")

    def reset(self, key: str) -> None:
        """Forget the user's value so the policy default or built-in default applies again."""
        path = self.paths.settings_file
        if key not in self._user or not path.exists():
            return
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        parts = key.split(".")
        table: Any = doc
        for part in parts[:-1]:
            table = table[part]
        del table[parts[-1]]
        del self._user[key]
        path.write_text(tomlkit.dumps(doc), encoding="utf-8")
        self._changed({key})

    def as_dict(self) -> dict[str, Any]:
        return {key: self.get(key) for key in REGISTRY}

    @property
    def env(self) -> Mapping[str, str]:
        return self._env

    @property
    def user_name(self) -> str:
        name = self.get("user.name") or self._env.get("SYNTHBOT_USER")  # kiosks and tests: one name per seat
        if name:
            return str(name)
        try:
            return getpass.getuser()
        except Exception:  # no login name (some containers): still file data somewhere stable
            return "default"

    def provider_base_url(self, provider: str) -> str:
        return str(self.get(f"providers.{provider}.base_url")).rstrip("/")
