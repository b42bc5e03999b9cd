"""First run: a short welcome that checks the microphone, offers to add keys, and explains
that the app works without any key (local Whisper + Piper + a local LLM server if one answers)."""

from __future__ import annotations

from typing import Any

import httpx
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
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
from synthbot_desktop.errors import describe
from synthbot_desktop.gui.bridge import run_job

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
        self.llm = QLabel("Local language model: checking…")
        self.llm.setObjectName("welcome_llm")
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

        def llm_text(model: Any) -> None:
            if model is None:
                self._set(self.llm, "Local language model: none answered at the Ollama address. Add a cloud key, "
                          "or install Ollama (ollama.com) and run `ollama pull llama3.2`.")
            else:
                self._set(self.llm, f"Local language model: ✓ Ollama answers{f' ({model})' if model else ''}.")

        run_job(lambda: probe_local_llm(self.ctx), llm_text,
                lambda e: self._set(self.llm, f"Local language model: the check failed: {e}"))

        def keys() -> list[str]:
            return [i.provider for i in self.ctx.keystore.list() if i.fingerprint]

        run_job(keys, lambda have: self._set(self.keys, "API keys: " + (
            ", ".join(have) if have else "none yet — optional; they stay in your system keyring.")),
            lambda e: self._set(self.keys, "API keys: " + describe(e)))

    def done(self, result: int) -> None:
        mark_done(self.ctx)
        super().done(result)
