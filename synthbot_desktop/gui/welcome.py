"""First run: a short welcome that checks the microphone, offers to add keys, and explains
that the app works without any key (local Whisper + Piper + a local LLM server if one answers).

It checks the provider the settings chose (``llm.provider``), not only Ollama; it says which keys are
set and which are not; and it offers the models the server actually has — the configured default
("llama3.2") may not exist where the server has "llama3.2:1b" (issue #21, defect 11).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.config import KEYED_PROVIDERS
from synthbot_desktop.errors import describe
from synthbot_desktop.gui.bridge import run_job
from synthbot_desktop.gui.settings.base import choice_label
from synthbot_desktop.setting_keys import LLM_PROVIDER, provider_model

log = logging.getLogger(__name__)

FIRST_RUN_MARK = "first_run_done"
#: Wide enough for a check result on two lines; the height follows the text (word wrap).
DIALOG_WIDTH = 560


def is_first_run(ctx: AppContext) -> bool:
    return not (ctx.paths.data_dir / FIRST_RUN_MARK).exists()


def mark_done(ctx: AppContext) -> None:
    ctx.paths.data_dir.mkdir(parents=True, exist_ok=True)
    (ctx.paths.data_dir / FIRST_RUN_MARK).write_text("1\n", encoding="utf-8")


def probe_local_llm(ctx: AppContext) -> str | None:
    """The local Ollama server's first model when one answers (quickly), else None."""
    url = ctx.settings.provider_base_url("ollama")
    try:
        r = httpx.get(f"{url}/api/tags", timeout=1.5)
        r.raise_for_status()
        models = [m.get("name") for m in r.json().get("models", [])]
    except (httpx.HTTPError, ValueError):
        return None
    return str(models[0]) if models else ""


PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "gemini": "Google Gemini", "ollama": "Ollama",
                  "elevenlabs": "ElevenLabs"}


@dataclass
class LlmCheck:
    """What the chosen language model provider said (blocking probe, run in the pool)."""

    provider: str
    ok: bool
    message: str
    models: list[str] = field(default_factory=list)


def check_chosen_llm(ctx: AppContext) -> LlmCheck:
    """Probe ``llm.provider``: Ollama's model list, or (cloud) whether a key is set and works."""
    provider = ctx.settings.value(LLM_PROVIDER)
    name = PROVIDER_NAMES.get(provider, provider)
    if provider == "ollama":
        model = probe_local_llm(ctx)
        if model is None:
            return LlmCheck(provider, False, "none answered at the Ollama address. Add a cloud key, or install "
                            "Ollama (ollama.com) and run `ollama pull llama3.2:1b`.")
        models = ollama_models(ctx)
        if not models:
            return LlmCheck(provider, False, "Ollama answers but has no model yet: run `ollama pull llama3.2:1b`.")
        return LlmCheck(provider, True, f"Ollama answers ({len(models)} model{'s' if len(models) != 1 else ''}).",
                        models)
    try:
        has_key = bool(ctx.keystore.get(provider))
    except Exception as exc:  # the keyring itself failed: say so, in one line
        return LlmCheck(provider, False, describe(exc))
    if not has_key:
        return LlmCheck(provider, False, f"{name} is chosen but no {name} key is set: add one (Add API keys…) "
                        "or choose Ollama in Settings → Providers.")
    from synthbot_desktop.gui.settings.providers_page import list_models_blocking

    try:
        models = list_models_blocking(ctx, provider)
    except Exception as exc:  # a provider error: one redacted line, the app still starts
        return LlmCheck(provider, False, f"{name}: {describe(exc)}")
    return LlmCheck(provider, True, f"{name} answers ({len(models)} models).", models)


def ollama_models(ctx: AppContext) -> list[str]:
    url = ctx.settings.provider_base_url("ollama")
    try:
        r = httpx.get(f"{url}/api/tags", timeout=1.5)
        r.raise_for_status()
        return [str(m.get("name")) for m in r.json().get("models", []) if m.get("name")]
    except (httpx.HTTPError, ValueError):
        return []


def pick_model(configured: str, models: list[str]) -> str:
    """The configured model when the server has it (``name`` = ``name:latest``), else its first one."""
    if configured in models:
        return configured
    if f"{configured}:latest" in models:
        return f"{configured}:latest"
    return models[0] if models else configured


def same_model(a: str, b: str) -> bool:
    """Ollama treats ``name`` and ``name:latest`` as one model."""
    def norm(m: str) -> str:
        return m if ":" in m else f"{m}:latest"

    return norm(a) == norm(b)


def key_summary(infos: list[tuple[str, bool]]) -> str:
    have = [PROVIDER_NAMES.get(p, p) for p, ok in infos if ok]
    missing = [PROVIDER_NAMES.get(p, p) for p, ok in infos if not ok]
    parts = []
    if have:
        parts.append("set: " + ", ".join(f"✓ {n}" for n in have))
    if missing:
        parts.append("not set: " + ", ".join(missing))
    tail = " — optional; they stay in your system keyring." if not have else "."
    return "API keys " + "; ".join(parts) + tail


class WelcomeDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.open_keys = False
        self.setWindowTitle("Welcome to SynthBot")
        self.setObjectName("welcome")
        self.setMinimumWidth(DIALOG_WIDTH)
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 16, 20, 16)
        col.setSpacing(10)
        title = QLabel("<h2>Welcome to SynthBot</h2>")
        title.setObjectName("welcome_title")
        col.addWidget(title)
        intro = QLabel("Talk to your computer: it listens, answers with the language model you choose and speaks "
                       "back. Speech recognition and the Piper voice run on this computer, so it works without "
                       "any API key.")
        intro.setObjectName("welcome_intro")
        col.addWidget(intro)
        self.mic = QLabel("Microphone: checking…")
        self.mic.setObjectName("welcome_mic")
        provider = ctx.settings.value(LLM_PROVIDER)
        self.provider = provider
        self.llm = QLabel(f"Language model ({choice_label('llm.provider', provider)}): checking…")
        self.llm.setObjectName("welcome_llm")
        self.model_row = QWidget()
        model_h = QHBoxLayout(self.model_row)
        model_h.setContentsMargins(0, 0, 0, 0)
        model_label = QLabel("Answer with the model")
        self.model_box = QComboBox()
        self.model_box.setObjectName("welcome_model")
        self.model_box.setAccessibleName("Language model")
        model_label.setBuddy(self.model_box)
        model_h.addWidget(model_label)
        model_h.addWidget(self.model_box, 1)
        self.model_row.hide()
        self.keys = QLabel("API keys: checking…")
        self.keys.setObjectName("welcome_keys")
        self.labels = (intro, self.mic, self.llm, self.keys)
        for w in self.labels:
            # Word-wrapped labels report their height for the width they get; Minimum vertical policy
            # lets them grow to it instead of being squeezed (the overlap seen under Xvfb).
            w.setWordWrap(True)
            w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            w.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            if w is not intro:
                col.addWidget(w)
            if w is self.llm:
                col.addWidget(self.model_row)
        col.addStretch(1)
        row = QHBoxLayout()
        self.keys_button = QPushButton("Add API keys…")
        self.keys_button.setObjectName("welcome_add_keys")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.start_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setText("Start talking")
        row.addWidget(self.keys_button)
        row.addStretch(1)
        row.addWidget(buttons)
        col.addLayout(row)
        buttons.accepted.connect(self.accept)
        self.keys_button.clicked.connect(self._keys)
        self._fit()
        self.run_checks()

    def _set(self, label: QLabel, text: str) -> None:
        """New check text, then let the dialog grow to fit it (results arrive after the first layout)."""
        label.setText(text)
        QTimer.singleShot(0, self._fit)

    def _fit(self) -> None:
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        width = max(self.width(), DIALOG_WIDTH)
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.sizeHint().height()
        self.setMinimumHeight(height)
        if self.height() < height:
            self.resize(width, height)

    def _keys(self) -> None:
        self.open_keys = True
        self.accept()

    def run_checks(self) -> None:
        def mic() -> str:
            from synthbot_desktop.audio.devices import default_device

            return default_device("input").name

        run_job(mic, lambda name: self._set(self.mic, f"Microphone: ✓ {name}"),
                lambda e: self._set(self.mic, "Microphone: ✗ " + describe(e)))

        head = f"Language model ({choice_label('llm.provider', self.provider)}): "
        run_job(lambda: check_chosen_llm(self.ctx), self._llm_checked,
                lambda e: self._set(self.llm, head + "the check failed: " + describe(e)))

        def keys() -> list[tuple[str, bool]]:
            infos = {i.provider: bool(i.fingerprint) for i in self.ctx.keystore.list()}
            return [(p, infos.get(p, False)) for p in KEYED_PROVIDERS]

        run_job(keys, lambda infos: self._set(self.keys, key_summary(infos)),
                lambda e: self._set(self.keys, "API keys: " + describe(e)))

    def _llm_checked(self, result: LlmCheck) -> None:
        head = f"Language model ({choice_label('llm.provider', result.provider)}): "
        self.configured_model = self.ctx.settings.value(provider_model(result.provider))
        text = head + ("✓ " if result.ok else "✗ ") + result.message
        if result.ok and result.models:
            chosen = pick_model(self.configured_model, result.models)
            self.model_box.clear()
            self.model_box.addItems(result.models)
            self.model_box.setCurrentText(chosen)
            self.model_box.setEnabled(not self.ctx.settings.is_locked(f"providers.{result.provider}.model"))
            self.model_row.show()
            if not same_model(chosen, self.configured_model):
                text += f" “{self.configured_model}” is not on the server: {chosen} will answer."
        self._set(self.llm, text)

    def chosen_model(self) -> str | None:
        """The model picked in the dialog (None while no list was offered)."""
        return self.model_box.currentText() or None if self.model_row.isVisibleTo(self) else None

    def done(self, result: int) -> None:
        model = self.chosen_model()
        key = f"providers.{self.provider}.model"
        if model and not same_model(model, self.ctx.settings.get_str(key)) and not self.ctx.settings.is_locked(key):
            try:
                self.ctx.settings.update({key: model})
            except Exception as exc:  # never block closing the welcome over a settings write
                log.warning("could not save the chosen model: %s", describe(exc))
        mark_done(self.ctx)
        super().done(result)
