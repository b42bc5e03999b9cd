"""Providers: API keys (masked, in the OS keyring), base URLs and default models.

Keys are never shown: a stored key appears as its fingerprint. "Test key" builds the provider
with the key as typed (or stored) and calls ``validate_key`` on the engine's asyncio loop in a
worker thread, so a slow or dead server never freezes the dialog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from synthbot_desktop.app import AppContext
from synthbot_desktop.config import KEYED_PROVIDERS, LLM_PROVIDERS, PROVIDERS, REGISTRY
from synthbot_desktop.errors import SynthbotError, describe
from synthbot_desktop.gui.bridge import await_coro, run_job
from synthbot_desktop.gui.settings.base import Busy, SettingsPage
from synthbot_desktop.keystore import KeyStore, fingerprint
from synthbot_desktop.setting_keys import ELEVENLABS_TIMEOUT_S

log = logging.getLogger(__name__)

NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "gemini": "Google Gemini", "ollama": "Ollama (local)",
         "elevenlabs": "ElevenLabs", "piper": "Piper"}


class _OverrideKeyStore(KeyStore):
    """The app's keystore, except one provider answers with the key typed in the dialog."""

    def __init__(self, base: KeyStore, provider: str, key: str) -> None:
        super().__init__(env={})
        self._base = base
        self._provider = provider
        self._key = key

    def get(self, provider: str) -> str | None:
        return self._key if provider == self._provider else self._base.get(provider)


def _run(coro: Any) -> Any:
    return await_coro(coro)


def validate_key_blocking(ctx: AppContext, provider: str, key: str | None) -> str:
    """Ask the provider whether the key works; returns a short success sentence or raises."""
    keystore: KeyStore = _OverrideKeyStore(ctx.keystore, provider, key) if key else ctx.keystore
    if provider == "elevenlabs":
        from synthbot_desktop.tts.elevenlabs_api import ElevenLabsApi, ElevenLabsConfig

        config = ElevenLabsConfig(api_key=keystore.require("elevenlabs"),
                                  base_url=ctx.settings.provider_base_url("elevenlabs"),
                                  timeout_s=ctx.settings.value(ELEVENLABS_TIMEOUT_S))

        async def check_el() -> str:
            api = ElevenLabsApi(config)
            try:
                sub = await api.subscription()
            finally:
                await api.aclose()
            return f"key works — {sub.remaining:,} characters left this period"

        return str(_run(check_el()))
    from synthbot_desktop.llm.registry import create_chat_provider

    async def check_llm() -> str:
        chat = create_chat_provider(provider, settings=ctx.settings, keystore=keystore)
        try:
            await chat.validate_key()
        finally:
            await chat.aclose()
        return "key works"

    return str(_run(check_llm()))


def list_models_blocking(ctx: AppContext, provider: str) -> list[str]:
    from synthbot_desktop.llm.registry import create_chat_provider

    async def go() -> list[str]:
        chat = create_chat_provider(provider, ctx)
        try:
            return list(await chat.list_models())
        finally:
            await chat.aclose()

    return list(_run(go()))


class ProvidersPage(SettingsPage):
    name = "providers"
    title = "Providers"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.key_inputs: dict[str, QLineEdit] = {}
        self.key_status: dict[str, QLabel] = {}
        self.test_buttons: dict[str, QPushButton] = {}
        self.remove_buttons: dict[str, QPushButton] = {}
        self.model_boxes: dict[str, QComboBox] = {}
        self.status = self.status_line("providers_status")

        note = QLabel("Keys are stored in your system keyring, never in the settings file or database. "
                      "Leave a key empty to keep the stored one.")
        note.setWordWrap(True)
        self.column.addWidget(note)
        grid = QGridLayout()
        for row, provider in enumerate(KEYED_PROVIDERS):
            grid.addWidget(QLabel(NAMES[provider]), row, 0)
            status = QLabel("…")
            status.setObjectName(f"key_status_{provider}")
            self.key_status[provider] = status
            grid.addWidget(status, row, 1)
            edit = QLineEdit()
            edit.setObjectName(f"key_{provider}")
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText("paste a new key to set or replace")
            edit.setAccessibleName(f"{NAMES[provider]} API key")
            edit.textEdited.connect(self.status.clear_transient)
            self.key_inputs[provider] = edit
            grid.addWidget(edit, row, 2)
            test = QPushButton("Test key")
            test.setObjectName(f"test_{provider}")
            test.setAccessibleName(f"Test the {NAMES[provider]} key")
            Busy.reserve(test, "Testing…")
            test.clicked.connect(lambda _=False, p=provider: self.test_key(p))
            self.test_buttons[provider] = test
            grid.addWidget(test, row, 3)
            remove = QPushButton("Remove")
            remove.setObjectName(f"remove_{provider}")
            remove.setAccessibleName(f"Remove the {NAMES[provider]} key")
            remove.clicked.connect(lambda _=False, p=provider: self.remove_key(p))
            self.remove_buttons[provider] = remove
            grid.addWidget(remove, row, 4)
        self.column.addLayout(grid)
        self.column.addWidget(self.status)

        urls = self.form("Addresses and default models")
        for provider in PROVIDERS:
            key = f"providers.{provider}.base_url"
            if key in REGISTRY:
                self.binder.row(urls, key, f"{NAMES[provider]} URL")
            if provider in LLM_PROVIDERS:
                box = self.binder.row(urls, f"providers.{provider}.model", f"{NAMES[provider]} model",
                                      editable_choices=())
                assert isinstance(box, QComboBox)
                self.model_boxes[provider] = box
                load = QPushButton("Load models")
                load.setObjectName(f"load_models_{provider}")
                load.setAccessibleName(f"Load the {NAMES[provider]} models")
                load.clicked.connect(lambda _=False, p=provider: self.load_models(p))
                holder = QWidget()
                h = QHBoxLayout(holder)
                h.setContentsMargins(0, 0, 0, 0)
                h.addWidget(load)
                h.addStretch(1)
                urls.addRow("", holder)
        self.binder.row(urls, "llm.provider", "Answer with")
        self.finish()

    # Keys -----------------------------------------------------------------------------------------
    def load(self) -> None:
        super().load()
        self.refresh_key_status()

    def refresh_key_status(self) -> None:
        def read() -> dict[str, tuple[str | None, str]]:
            out: dict[str, tuple[str | None, str]] = {}
            for p in KEYED_PROVIDERS:
                try:
                    info = self.ctx.keystore.info(p)
                    out[p] = (info.fingerprint, info.source)
                except SynthbotError as exc:
                    out[p] = (None, describe(exc))
            return out

        def show(infos: dict[str, tuple[str | None, str]]) -> None:
            for p, (fp, source) in infos.items():
                label = self.key_status[p]
                label.setText(f"✓ {fp}" if fp else "no key")
                label.setToolTip(source)
                self.remove_buttons[p].setEnabled(bool(fp) and source.startswith("keyring"))

        run_job(read, show, self._fail)

    def check(self) -> list[str]:
        problems = super().check()
        for p, edit in self.key_inputs.items():
            key = edit.text().strip()
            if key and any(c.isspace() for c in key):
                problems.append(f"the {NAMES[p]} key contains spaces or line breaks; paste only the key")
        for key in self.binder.editors:
            if key.endswith(".base_url") and not self.binder.value(key).startswith(("http://", "https://")):
                problems.append(f"{key} must start with http:// or https://")
        return problems

    def save(self) -> None:
        super().save()
        for provider, edit in self.key_inputs.items():
            key = edit.text().strip()
            if not key:
                continue
            edit.clear()
            self._store_key(provider, key)

    def _store_key(self, provider: str, key: str, done: Callable[[str], None] | None = None) -> None:
        def store() -> str:
            fp = self.ctx.keystore.set(provider, key)
            self._remember(provider, fp)
            return fp

        def stored(fp: str) -> None:
            self.status.show_message(f"Stored the {NAMES[provider]} key ({fp}).", transient=True)
            self.refresh_key_status()
            if done:
                done(fp)

        run_job(store, stored, self._fail)

    def _remember(self, provider: str, fp: str) -> None:
        """Fingerprint only, so other front ends can tell which key is in use."""
        from synthbot_desktop.storage import repositories as repo

        try:
            with self.ctx.db.session() as s:
                repo.upsert_api_configuration(s, self.ctx.user_id, provider, key_fingerprint=fp)
                repo.add_audit(s, "key.set" if fp else "key.delete", user_id=self.ctx.user_id,
                               entity_type="api_configuration", entity_id=provider, details={"fingerprint": fp})
        except SynthbotError as exc:
            log.warning("key stored, but the database could not be updated: %s", exc.one_line())

    def remove_key(self, provider: str) -> None:
        def remove() -> bool:
            removed = self.ctx.keystore.delete(provider)
            if removed:
                self._remember(provider, "")
            return removed

        def removed(ok: bool) -> None:
            self.status.show_message(f"Removed the {NAMES[provider]} key." if ok
                                     else f"No {NAMES[provider]} key was stored.", transient=True)
            self.refresh_key_status()

        run_job(remove, removed, self._fail)

    def test_key(self, provider: str) -> None:
        typed = self.key_inputs[provider].text().strip() or None
        button = self.test_buttons[provider]
        if Busy.is_busy(button):
            return
        Busy.start(button, "Testing…")  # not disabled: the focus stays on it (issue #21, defect 13)
        self.status.show_message(f"Testing the {NAMES[provider]} key…" + (f" ({fingerprint(typed)})" if typed else ""))

        def ok(message: str) -> None:
            Busy.stop(button)
            self.status.show_message(f"{NAMES[provider]}: {message}.", transient=True)

        def fail(error: BaseException) -> None:
            Busy.stop(button)
            self._fail(error, prefix=f"{NAMES[provider]}: ")

        run_job(lambda: validate_key_blocking(self.ctx, provider, typed), ok, fail)

    def load_models(self, provider: str) -> None:
        box = self.model_boxes[provider]
        self.status.show_message(f"Asking {NAMES[provider]} for its models…")

        def show(models: list[str]) -> None:
            current = box.currentText()
            box.clear()
            box.addItems(models)
            box.setCurrentText(current if current in models or not models else models[0])
            self.status.show_message(f"{NAMES[provider]} offers {len(models)} models.", transient=True)

        run_job(lambda: list_models_blocking(self.ctx, provider), show,
                lambda e: self._fail(e, prefix=f"{NAMES[provider]}: "))

    def _fail(self, error: BaseException, prefix: str = "") -> None:
        text = describe(error)
        from synthbot_desktop.redaction import redact

        self.status.show_message(prefix + redact(text))
