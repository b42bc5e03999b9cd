"""The main window: talk page (conversation, talk button, meter, switchers), history and usage.

The window owns no conversation logic. It sends intents to a :class:`TalkService` and renders
the events that come back through the :class:`EventBridge`. Anything that touches the
database or the network goes through ``bridge.run_job`` so the window never freezes.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSystemTrayIcon,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.config import LLM_PROVIDERS
from synthbot_desktop.errors import ErrorKind, settings_action
from synthbot_desktop.gui.bridge import EventBridge, run_job
from synthbot_desktop.gui.talk_service import TalkService
from synthbot_desktop.gui.widgets.banner import ErrorBanner
from synthbot_desktop.gui.widgets.conversation import Bubble, ConversationView
from synthbot_desktop.gui.widgets.conversation_sidebar import ConversationSidebar
from synthbot_desktop.gui.widgets.edit_notice import EditNotice
from synthbot_desktop.gui.widgets.flow_layout import FlowLayout
from synthbot_desktop.gui.widgets.level_meter import LevelMeter
from synthbot_desktop.gui.widgets.offline_indicator import OfflineIndicator
from synthbot_desktop.gui.widgets.state_indicator import StateIndicator
from synthbot_desktop.gui.widgets.talk_button import TalkButton
from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.resources import resource_path
from synthbot_desktop.services.voice import VoiceChoice
from synthbot_desktop.setting_keys import (
    AUDIO_MODE,
    LLM_PROVIDER,
    TTS_ELEVENLABS_VOICE_ID,
    TTS_ENGINE,
    TTS_PIPER_VOICE,
    UI_PUSH_TO_TALK_KEY,
    UI_SHOW_TIMINGS,
    provider_model,
)

log = logging.getLogger(__name__)

IDLE_STATES = {ev.TurnState.IDLE, ev.TurnState.ERROR}
BUSY_STATES = {ev.TurnState.TRANSCRIBING, ev.TurnState.THINKING, ev.TurnState.SPEAKING}
TURN_STATES = BUSY_STATES | {ev.TurnState.HEARING}  # a turn is under way: its exchange cannot be redone


def format_timings(timings: dict[str, Any]) -> str:
    """Tooltip text for one turn: each stage in ms, in the order the engine reported them."""
    lines = []
    for key, value in timings.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown = f"{value * 1000:.0f} ms" if value < 100 else f"{value:.0f} ms"
            lines.append(f"{key.replace('_', ' ')}: {shown}")
        elif value is not None:
            lines.append(f"{key.replace('_', ' ')}: {value}")
    return "\n".join(lines) or "no timings"


def app_icon() -> QIcon:
    path = resource_path("icons", "synthbot.svg")
    return QIcon(str(path)) if path.exists() else QIcon()


def steady_width(button: QPushButton, texts: tuple[str, ...]) -> None:
    """Give ``button`` the width of its widest text, so changing the text never moves its
    neighbours (issue #21, defect 14: "Mute" → "Unmute" shifted the talk button)."""
    shown = button.text()
    widths = []
    for text in texts:
        button.setText(text)
        widths.append(button.sizeHint().width())
    button.setText(shown)
    button.setMinimumWidth(max(widths))


def _labelled(text: str, widget: QWidget) -> QWidget:
    """A caption and its control as one piece, so a wrapping bar never separates them."""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    label = QLabel(text)
    label.setBuddy(widget)
    row.addWidget(label)
    row.addWidget(widget)
    return holder


class _PushToTalkFilter(QObject):
    """Hold the push-to-talk key anywhere in the window except while typing."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not isinstance(event, QKeyEvent) or event.isAutoRepeat():
            return isinstance(event, QKeyEvent) and event.isAutoRepeat() and self._matches(event)
        if not self._matches(event) or (not self.window.isActiveWindow() and not self.window.testing_keys):
            return False
        focus = QApplication.focusWidget()
        typing = (QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QTextEdit)
        if isinstance(obj, typing) or isinstance(focus, typing):
            return False  # the key types a character there
        if not isinstance(obj, QWidget) or (obj is not self.window and not self.window.isAncestorOf(obj)):
            return False  # other windows (settings dialog), and the QWindow copy of the same event
        if self.window.tabs.currentWidget() is not self.window.talk_page:
            return False
        if event.type() == QEvent.Type.KeyPress:
            self.window.begin_push_to_talk()
        else:
            self.window.end_push_to_talk()
        return True

    def _matches(self, event: QKeyEvent) -> bool:
        return QKeySequence(event.keyCombination()) == self.window.ptt_key


class MainWindow(QMainWindow):
    settingsRequested = Signal(str)  # page name, "" for the first page
    _settingsSaved = Signal(object)  # set[str] of keys

    def __init__(self, ctx: AppContext, talk: TalkService, bridge: EventBridge) -> None:
        super().__init__()
        self.ctx = ctx
        self.talk = talk
        self.bridge = bridge
        self.state = ev.TurnState.IDLE
        self.session_id: int | None = None
        self.testing_keys = False  # tests drive keys without an active window
        self._timings: dict[str, dict[str, Any]] = {}
        self._providers_asked = 0  # refresh_allowed_providers: the newest request wins
        self._typed: list[str] = []
        self._last_said: str | None = None  # what Retry sends again
        self._editing: Bubble | None = None  # the question being edited in the message box
        self._turn_failed = False  # an error during this turn: its end shows Error, not Ready
        self._tray: QSystemTrayIcon | None = None
        self._voice_names: dict[str, str] = {}
        self._voice_picked = False
        self._plan_shown = 0  # the latest "show the planned voice" read; older ones are dropped
        self.persona_id: int | None = None
        self.setWindowTitle("SynthBot")
        self.setWindowIcon(app_icon())
        self.resize(980, 720)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("main_tabs")
        self.talk_page = self._build_talk_page()
        self.tabs.addTab(self.talk_page, "Talk")
        self.setCentralWidget(self.tabs)
        self.history_page: QWidget | None = None
        self.usage_page: QWidget | None = None
        self._build_menu()
        self._connect_bridge()
        self.ptt_key = QKeySequence(ctx.settings.value(UI_PUSH_TO_TALK_KEY) or "Space")
        self._ptt_filter = _PushToTalkFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._ptt_filter)
        self._setup_tray()
        # Settings may be written on any thread; the signal brings the news to the GUI thread.
        self._settingsSaved.connect(self.follow_settings)
        self._unlisten = ctx.settings.add_listener(self._settingsSaved.emit)
        self.set_hands_free(ctx.settings.value(AUDIO_MODE) == "hands_free", notify=False)

    # Layout ---------------------------------------------------------------------------------
    def _build_talk_page(self) -> QWidget:
        page = QWidget()
        page.setObjectName("talk_page")
        col = QVBoxLayout(page)
        col.setContentsMargins(12, 8, 12, 12)

        self.top_bar = QWidget()
        self.top_bar.setObjectName("top_bar")
        top = FlowLayout(self.top_bar)  # wraps in a narrow window (issue #21: 700 px was impossible)
        self.provider_box = QComboBox()
        self.provider_box.setObjectName("provider_box")
        self.provider_box.setToolTip("Which LLM answers")
        for p in LLM_PROVIDERS:
            self.provider_box.addItem(p.capitalize() if p != "openai" else "OpenAI", p)
        self.model_box = QComboBox()
        self.model_box.setObjectName("model_box")
        self.model_box.setEditable(True)
        self.model_box.setMinimumWidth(170)
        self.model_box.setToolTip("Model (type any name your provider knows)")
        self.voice_box = QComboBox()
        self.voice_box.setObjectName("voice_box")
        self.voice_box.setMinimumWidth(180)
        self.voice_box.setMaximumWidth(420)  # a long name never pushes the bar past a small window
        self.voice_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # names are never cut
        self.voice_box.setToolTip("Who speaks")
        self.new_button = QPushButton("New conversation")
        self.new_button.setObjectName("new_session")
        self.settings_button = QPushButton("Settings")
        self.settings_button.setObjectName("open_settings")
        self.persona_box = QComboBox()
        self.persona_box.setObjectName("persona_box")
        self.persona_box.setToolTip("Who the assistant is: a persona's prompt, model and voice (Settings → Personas)")
        self.persona_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.persona_box.setMaximumWidth(260)
        self.persona_box.addItem("No persona", None)
        self.mode_box = QComboBox()
        self.mode_box.setObjectName("mode_box")
        self.mode_box.addItem("Normal", "normal")
        self.mode_box.addItem("Enhanced", "enhanced")
        self.mode_box.setToolTip("Enhanced: pooled (quantum) random numbers pick each reply's seed and "
                                 "temperature (docs/enhanced-mode.md)")
        for label, w in (("Persona", self.persona_box), ("Provider", self.provider_box), ("Model", self.model_box),
                         ("Voice", self.voice_box), ("Mode", self.mode_box)):
            top.addWidget(_labelled(label, w))
        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.new_button)
        row.addWidget(self.settings_button)
        top.addWidget(buttons)
        col.addWidget(self.top_bar)

        self.banner = ErrorBanner()
        col.addWidget(self.banner)
        self.conversation = ConversationView()
        self.sidebar = ConversationSidebar()  # fed by gui/conversation_sidebar.py
        middle = QHBoxLayout()
        middle.setContentsMargins(0, 0, 0, 0)
        middle.setSpacing(0)
        middle.addWidget(self.sidebar)
        middle.addWidget(self.conversation, 1)
        col.addLayout(middle, 1)

        self.edit_notice = EditNotice()
        col.addWidget(self.edit_notice)

        typed = QHBoxLayout()
        self.input = QLineEdit()
        self.input.setObjectName("typed_input")
        self.input.setPlaceholderText("Type a message and press Enter")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("send")
        typed.addWidget(self.input, 1)
        typed.addWidget(self.send_button)
        col.addLayout(typed)

        controls = QHBoxLayout()
        self.indicator = StateIndicator()
        self.meter = LevelMeter()
        self.hands_free_box = QCheckBox("Hands-free")
        self.hands_free_box.setObjectName("hands_free")
        self.hands_free_box.setToolTip("Keep listening and answer each time you stop speaking")
        self.talk_button = TalkButton()
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop")
        self.stop_button.setToolTip("Interrupt the assistant (Esc)")
        self.stop_button.setEnabled(False)
        self.mute_button = QPushButton("Mute")
        self.mute_button.setObjectName("mute")
        self.mute_button.setCheckable(True)
        self.mute_button.setToolTip("Mute the microphone: nothing you say is heard until you unmute (Ctrl+M)")
        self.mute_button.setAccessibleName("Mute microphone")
        steady_width(self.mute_button, ("Mute", "Unmute"))
        left = QVBoxLayout()
        left.addWidget(self.indicator)
        left.addWidget(self.meter)
        left.addWidget(OfflineIndicator(self.ctx.pending_records, self))  # issue #14: "offline: N records waiting"
        controls.addLayout(left, 1)
        controls.addWidget(self.hands_free_box)
        controls.addWidget(self.mute_button)
        controls.addWidget(self.talk_button, 0)
        controls.addWidget(self.stop_button)
        col.addLayout(controls)

        self.provider_box.currentIndexChanged.connect(self._provider_changed)
        self.model_box.currentTextChanged.connect(self._model_changed)
        self.voice_box.currentIndexChanged.connect(self._voice_changed)
        self.persona_box.currentIndexChanged.connect(self._persona_changed)
        self.mode_box.currentIndexChanged.connect(lambda: self.talk.set_mode(str(self.mode_box.currentData())))
        self.mute_button.toggled.connect(self.set_muted)
        QShortcut(QKeySequence("Ctrl+M"), page, self.mute_button.toggle)
        self.new_button.clicked.connect(self.new_session)
        self.settings_button.clicked.connect(lambda: self.settingsRequested.emit(""))
        self.input.returnPressed.connect(self.send_typed)
        self.send_button.clicked.connect(self.send_typed)
        self.hands_free_box.toggled.connect(self.set_hands_free)
        self.talk_button.pressedToTalk.connect(self.begin_push_to_talk)
        self.talk_button.releasedToTalk.connect(self.end_push_to_talk)
        self.talk_button.clicked.connect(self._talk_clicked)
        self.stop_button.clicked.connect(self.talk.interrupt)
        self.banner.actionTriggered.connect(self._banner_action)
        self.banner.retryRequested.connect(self.retry_last)
        self.edit_notice.cancelled.connect(self.cancel_edit)
        QShortcut(QKeySequence("Escape"), page, self._escape)
        QShortcut(QKeySequence("Ctrl+N"), page, self.new_session)
        self._load_switchers()
        return page

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&SynthBot")
        settings = QAction("&Settings…", self, shortcut=QKeySequence("Ctrl+,"))
        settings.triggered.connect(lambda: self.settingsRequested.emit(""))
        quit_action = QAction("&Quit", self, shortcut=QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        menu.addAction(settings)
        menu.addSeparator()
        menu.addAction(quit_action)

    def add_page(self, widget: QWidget, title: str) -> None:
        self.tabs.addTab(widget, title)

    def _setup_tray(self) -> None:
        """A tray icon with Talk/Quit, only where the desktop has a tray (never headless)."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        tray = QSystemTrayIcon(app_icon(), self)
        menu = QMenu(self)
        menu.addAction("Show window", self.showNormal)
        menu.addAction("Talk (toggle hands-free)", lambda: self.hands_free_box.toggle())
        menu.addSeparator()
        menu.addAction("Quit", self.close)
        tray.setContextMenu(menu)
        tray.setToolTip("SynthBot")
        tray.show()
        self._tray = tray

    # Switchers ------------------------------------------------------------------------------
    def _load_switchers(self) -> None:
        self.refresh_personas(initial=True)
        self._sync_provider()
        self._sync_voice_items()
        self._show_planned_voice()
        self.refresh_allowed_providers()
        from synthbot_desktop.gui.catalog_relay import catalog_relay

        catalog_relay(self.ctx).changed.connect(self._fill_voices)
        run_job(self._voice_catalog, self._fill_voices, self._no_catalog)

    def _sync_provider(self) -> None:
        """Show the provider and model of the settings (without telling the service: it reads them too)."""
        s = self.ctx.settings
        provider = s.value(LLM_PROVIDER)
        self.provider_box.blockSignals(True)
        self.provider_box.setCurrentIndex(max(0, self.provider_box.findData(provider)))
        self.provider_box.blockSignals(False)
        self.provider_box.setEnabled(not s.is_locked("llm.provider"))
        self._fill_models(provider)

    def _sync_voice_items(self, name_now: bool = False) -> None:
        """The Piper voice and the settings' ElevenLabs voice are always in the list (``name_now``:
        name a new entry from the catalog read already, else it waits for the start-up read)."""
        s = self.ctx.settings
        current = self.voice_box.currentData()
        self.voice_box.blockSignals(True)
        piper = VoiceChoice("piper", s.value(TTS_PIPER_VOICE))
        label = "Joe" if piper.voice_id == "joe-us" else piper.voice_id
        for i in reversed(range(self.voice_box.count())):  # a Piper voice no longer set goes away
            if str(self.voice_box.itemData(i)).startswith("piper:") and self.voice_box.itemData(i) != piper.key:
                self.voice_box.removeItem(i)
        if self.voice_box.findData(piper.key) < 0:
            self.voice_box.insertItem(0, f"Piper — {label} (offline)", piper.key)
        el_voice = s.value(TTS_ELEVENLABS_VOICE_ID)
        if self.voice_box.findData(f"elevenlabs:{el_voice}") < 0:
            # The name comes from the cached catalog (a DB read, off the GUI thread); until then a
            # neutral label, never the bare id.
            self.voice_box.addItem("ElevenLabs — …", f"elevenlabs:{el_voice}")
            self.voice_box.setItemData(self.voice_box.count() - 1, f"voice id {el_voice}",
                                       Qt.ItemDataRole.ToolTipRole)
        if current is None:
            engine = s.value(TTS_ENGINE)
            self.voice_box.setCurrentIndex(self.voice_box.findData(
                piper.key if engine == "piper" else f"elevenlabs:{el_voice}"))
        self.voice_box.blockSignals(False)
        if name_now:
            self._fill_voices([])

    def _show_planned_voice(self) -> None:
        """Show the voice (and model) the next turn will use: the service's own rule (services.conversation:
        persona, then the default voice and its saved preference), read off the GUI thread."""
        from synthbot_desktop.services.conversation import plan_conversation

        persona = self.persona_id
        self._plan_shown += 1
        ticket = self._plan_shown

        def plan() -> Any:
            return plan_conversation(self.ctx, persona_id=persona)

        def show(plan: Any) -> None:
            if ticket != self._plan_shown:
                return  # an older read (e.g. the start-up one) finishing late must not undo a newer choice
            if self.model_box.currentText() != plan.model:
                self.model_box.blockSignals(True)
                self.model_box.setCurrentText(plan.model)  # the persona's model, if it has one
                self.model_box.blockSignals(False)
            self._show_voice(plan.voice)

        run_job(plan, show, lambda _e: None)

    def follow_settings(self, keys: set[str] | None = None) -> None:
        """Settings were saved: the switchers show them and the next turn uses them (issue #21)."""
        keys = keys or set()
        chat_keys = not keys or any(k.startswith(("llm.", "providers.")) for k in keys)
        speech_keys = not keys or any(k.startswith("tts.") for k in keys)
        if not (chat_keys or speech_keys):
            self.talk.follow_settings(keys)  # audio/turn settings reach a running hands-free loop
            return  # audio, ui, database… settings: the switchers' choices stand
        if chat_keys:
            self._sync_provider()
        if speech_keys:
            self._voice_picked = False  # a voice chosen in Settings is newer than the switcher's pick
            self._sync_voice_items(name_now=True)
        self._show_planned_voice()
        self.talk.follow_settings(keys)

    def refresh_allowed_providers(self) -> None:
        """Providers the admin turned off are not offered (issue #18; a DB read, off the GUI thread)."""
        from synthbot_desktop.services import features

        # Only the newest request's answer counts: under load the start-up read (before an admin's
        # change) could arrive after a later one and show a provider that was just turned off.
        self._providers_asked += 1
        asked = self._providers_asked

        def done(allowed: list[str]) -> None:
            if asked == self._providers_asked:
                self._hide_providers(allowed)

        run_job(lambda: features.allowed_providers(self.ctx), done, lambda _e: None)

    def _hide_providers(self, allowed: list[str]) -> None:
        view = self.provider_box.view()
        if isinstance(view, QListView):  # the current one stays visible: choosing it says why it is off
            for i in range(self.provider_box.count()):
                view.setRowHidden(i, self.provider_box.itemData(i) not in allowed
                                  and i != self.provider_box.currentIndex())

    def _fill_models(self, provider: str) -> None:
        model = self.ctx.settings.value(provider_model(provider))
        self.model_box.blockSignals(True)
        self.model_box.clear()
        self.model_box.addItem(model)
        self.model_box.setCurrentText(model)
        self.model_box.blockSignals(False)

    def _show_voice(self, choice: VoiceChoice) -> None:
        """Select the voice the service will use (services.voice's rule), without re-telling it."""
        if self._voice_picked:  # the person chose already: their choice stands
            return
        if self.voice_box.findData(choice.key) < 0:
            piper = choice.engine == "piper"
            self.voice_box.addItem(f"Piper — {choice.voice_id} (offline)" if piper else "ElevenLabs — …", choice.key)
            self._fill_voices([])  # names it from what the catalog already told us, else by id
        self.voice_box.blockSignals(True)
        self.voice_box.setCurrentIndex(self.voice_box.findData(choice.key))
        self.voice_box.blockSignals(False)

    def _voice_catalog(self) -> list[Any]:
        from synthbot_desktop.storage.voices import list_voices

        with self.ctx.db.session() as s:
            return list_voices(s, "elevenlabs")

    def _no_catalog(self, error: BaseException) -> None:
        log.info("voice catalog unavailable: %s", error)
        self._fill_voices([])

    def _fill_voices(self, voices: list[Any]) -> None:
        """Name every ElevenLabs voice from the catalog; one not (yet) in it is shown by its id."""
        current = self.voice_box.currentData()
        self.voice_box.blockSignals(True)
        # Names only accumulate: a start-up read that raced a catalog refresh must not undo it.
        self._voice_names.update({v.voice_id: v.name for v in voices})
        names = self._voice_names
        for v in voices:
            data = f"elevenlabs:{v.voice_id}"
            if self.voice_box.findData(data) < 0:
                self.voice_box.addItem("", data)
        for i in range(self.voice_box.count()):
            engine, _, voice_id = str(self.voice_box.itemData(i)).partition(":")
            if engine == "elevenlabs":
                name = names.get(voice_id)
                short = voice_id if len(voice_id) <= 10 else voice_id[:8] + "…"  # the tooltip has it whole
                self.voice_box.setItemText(i, f"ElevenLabs — {name}" if name else f"ElevenLabs — voice {short}")
                self.voice_box.setItemData(i, f"voice id {voice_id}", Qt.ItemDataRole.ToolTipRole)
        self.voice_box.setCurrentIndex(max(0, self.voice_box.findData(current)))
        self.voice_box.blockSignals(False)

    # Personas -------------------------------------------------------------------------------
    def refresh_personas(self, initial: bool = False) -> None:
        """(Re)read the personas off the GUI thread; at start-up the default persona is chosen."""
        from synthbot_desktop.storage.personas import list_personas

        def load() -> list[Any]:
            with self.ctx.db.session() as s:
                return list_personas(s, self.ctx.user_id)

        run_job(load, lambda personas: self._fill_personas(personas, initial),
                lambda e: log.info("personas unavailable: %s", e))

    def _fill_personas(self, personas: list[Any], initial: bool) -> None:
        current = self.persona_box.currentData()
        self.persona_box.blockSignals(True)
        self.persona_box.clear()
        self.persona_box.addItem("No persona", None)
        for p in personas:
            self.persona_box.addItem(p.name, p.id)
            self.persona_box.setItemData(self.persona_box.count() - 1, p.system_prompt[:200],
                                         Qt.ItemDataRole.ToolTipRole)
        default = next((p.id for p in personas if p.is_default), None)
        want = default if initial else current
        index = self.persona_box.findData(want) if want is not None else 0
        self.persona_box.setCurrentIndex(max(0, index))
        self.persona_box.blockSignals(False)
        chosen = self.persona_box.currentData()
        if chosen != self.persona_id:  # the default persona at start-up, or the chosen one was deleted
            self._persona_changed()

    def _persona_changed(self) -> None:
        data = self.persona_box.currentData()
        self.persona_id = int(data) if data is not None else None
        self._voice_picked = False  # the persona's voice is heard now (services.voice's rule)
        self.talk.set_persona(self.persona_id)
        self._show_planned_voice()

    def set_muted(self, muted: bool) -> None:
        """Mute button: the microphone hears nothing; the button and the state say so."""
        self.mute_button.blockSignals(True)
        self.mute_button.setChecked(muted)
        self.mute_button.blockSignals(False)
        self.mute_button.setText("Unmute" if muted else "Mute")
        self.talk.set_muted(muted)
        self.indicator.set_state(self.state, muted=muted)

    def _provider_changed(self) -> None:
        provider = str(self.provider_box.currentData())
        self._fill_models(provider)
        self.talk.configure(provider=provider, model=self.model_box.currentText())

    def _model_changed(self, text: str) -> None:
        if text.strip():
            self.talk.configure(model=text.strip())

    def _voice_changed(self) -> None:
        data = str(self.voice_box.currentData() or "")
        if data:
            self._voice_picked = True
            self.talk.configure(voice=VoiceChoice.parse(data))

    # Talking --------------------------------------------------------------------------------
    def set_hands_free(self, on: bool, notify: bool = True) -> None:
        was_on = self.talk_button.hands_free  # the box itself has already flipped when toggled fires
        self.hands_free_box.blockSignals(True)
        self.hands_free_box.setChecked(on)
        self.hands_free_box.blockSignals(False)
        self.talk_button.set_hands_free(on)
        self.talk_button.set_state(self.state)
        if notify and not on and (was_on or self.state not in IDLE_STATES):
            # Whatever the shown state: after a reply the loop still runs (issue #21).
            self.talk.stop_listening()

    def begin_push_to_talk(self) -> None:
        if self.hands_free_box.isChecked():
            return
        if self.state in BUSY_STATES:
            self.talk.interrupt()  # talking over the assistant is a barge-in
        self.talk.start_listening(hands_free=False)

    def end_push_to_talk(self) -> None:
        if not self.hands_free_box.isChecked():
            self.talk.stop_listening()

    def _talk_clicked(self) -> None:
        if not self.hands_free_box.isChecked():
            return  # push-to-talk is handled by press/release
        if self.state == ev.TurnState.SPEAKING:
            self.talk.interrupt()
        elif self.state in (ev.TurnState.LISTENING, ev.TurnState.HEARING):
            self.talk.stop_listening()
        else:
            self.talk.start_listening(hands_free=True)

    def toggle_talk(self) -> None:
        """The global shortcut: press to start talking, press again to stop (or to interrupt)."""
        if self.state in (ev.TurnState.LISTENING, ev.TurnState.HEARING):
            self.talk.stop_listening()
        elif self.state == ev.TurnState.SPEAKING:
            self.talk.interrupt()
        else:
            self.talk.start_listening(hands_free=self.hands_free_box.isChecked())

    def send_typed(self) -> None:
        text = self.input.text().strip()
        if not text:
            return
        if self._editing is not None and self._send_edited(text):
            return
        self.input.clear()
        self.conversation.add_user(text)
        self._typed.append(text)  # the engine echoes it as the turn's transcript: show it once
        self._last_said = text
        self.talk.send_text(text)

    def retry_last(self) -> None:
        """The banner's Retry: send the last message again (a spoken one as its transcript)."""
        if self._last_said:
            self.input.setText(self._last_said)
            self.send_typed()

    def regenerate_last(self, bubble: Any = None) -> bool:
        """Regenerate on the last reply: it leaves the screen and the same question is answered
        again through the service's turn path (``TalkService.regenerate``). Only the last reply,
        and never while a turn runs (its answer would race the new one)."""
        last = self.conversation.last_reply()
        if last is None or (bubble is not None and bubble is not last) or self.state in BUSY_STATES:
            return False
        question = self.conversation.question_before(last)
        if not question:
            return False
        self.conversation.remove_reply(last)
        self._typed.append(question)  # the engine echoes it as the turn's transcript: shown once already
        self._last_said = question
        self.talk.regenerate(question)
        return True

    def edit_last(self, bubble: Any = None) -> bool:
        """Edit on the last question: its text goes back in the message box; sending it then
        replaces that question and its answer (``_send_edited``). Never while a turn runs."""
        last = self.conversation.last_question()
        if last is None or (bubble is not None and bubble is not last) or self.state in TURN_STATES:
            return False
        self._editing = last
        self.input.setText(last.text())
        self.input.selectAll()
        self.input.setFocus(Qt.FocusReason.OtherFocusReason)
        self.edit_notice.show()
        return True

    def cancel_edit(self) -> None:
        if self._editing is not None:
            self._editing = None
            self.input.clear()
        self.edit_notice.hide()

    def _send_edited(self, text: str) -> bool:
        """The edited question in place of the last one, through the service's turn path
        (``TalkService.resend_edited``: the old exchange leaves the model's context). False when
        the edit no longer applies (another turn came meanwhile): then it is sent as a new message."""
        question, self._editing = self._editing, None
        self.edit_notice.hide()
        if question is None or question is not self.conversation.last_question() or self.state in TURN_STATES:
            return False
        old = question.text()
        self.input.clear()
        self.conversation.remove_exchange(question)
        self.conversation.add_user(text)
        self._typed.append(text)  # the engine echoes it as the turn's transcript: show it once
        self._last_said = text
        self.talk.resend_edited(old, text)
        return True

    def _escape(self) -> None:
        """Esc: leave an edit, and stop the assistant (as always)."""
        if self._editing is not None:
            self.cancel_edit()
        self.talk.interrupt()

    def new_session(self) -> None:
        self.cancel_edit()
        self._last_said = None
        self.conversation.clear()
        self.session_id = None
        self.banner.hide()
        self.talk.new_session()

    def resume_session(self, session_id: int) -> None:
        """Show a past conversation and continue it (History's "Open and continue", the sidebar)."""
        self.cancel_edit()
        self.tabs.setCurrentWidget(self.talk_page)
        self.session_id = session_id
        self.talk.resume_session(session_id)

        def load() -> list[Any]:
            from synthbot_desktop.services.reply_feedback import shown_messages

            return shown_messages(self.ctx.db, session_id)

        def show(messages: list[Any]) -> None:
            from synthbot_desktop.gui.conversation_actions import show_past_messages

            show_past_messages(self, messages)

        run_job(load, show, lambda e: self.show_error(ev.ErrorEvent(f"could not open the conversation: {e}")))

    # Events from the engine -----------------------------------------------------------------
    def _connect_bridge(self) -> None:
        b = self.bridge
        b.stateChanged.connect(self._on_state)
        b.inputLevel.connect(self._on_level)
        b.partialTranscript.connect(lambda e: self.conversation.show_partial(e.text))
        b.finalTranscript.connect(self._on_final)
        b.turnRetracted.connect(lambda e: self.conversation.remove_turn(e.turn_id))
        b.assistantDelta.connect(lambda e: self.conversation.append_assistant(e.turn_id, e.text))
        b.assistantDone.connect(self._on_done)
        b.turnTimings.connect(self._on_timings)
        b.error.connect(self.show_error)
        b.sessionChanged.connect(self._on_session)

    def _on_state(self, event: ev.StateChanged) -> None:
        if event.state == ev.TurnState.IDLE and self._turn_failed:
            event = ev.StateChanged(ev.TurnState.ERROR, event.turn_id)  # not "Ready" after a failure
        elif event.state not in IDLE_STATES:
            self._turn_failed = False
        self.state = event.state
        self.indicator.set_state(event.state, muted=self.mute_button.isChecked())
        self.talk_button.set_state(event.state)
        self.stop_button.setEnabled(event.state in BUSY_STATES)
        if event.state in IDLE_STATES:
            self.bridge.drop_pending_level()
            self.meter.reset()

    def _on_level(self, rms_dbfs: float, peak_dbfs: float) -> None:
        if self.state not in IDLE_STATES:  # a late level must not light the meter at rest
            self.meter.set_level(rms_dbfs, peak_dbfs)

    def _on_final(self, event: ev.FinalTranscript) -> None:
        if event.text in self._typed:
            self._typed.remove(event.text)
            return
        if event.text.strip():
            self._last_said = event.text
            bubble = self.conversation.add_user(event.text)
            bubble.setProperty("turn_id", event.turn_id)  # so a withdrawn turn can be taken back

    def _on_done(self, event: ev.AssistantDone) -> None:
        bubble = self.conversation.finish_assistant(event.turn_id, event.text, interrupted=event.interrupted,
                                                    full_text=event.full_text, error=event.error)
        timings = self._timings.pop(event.turn_id, None)
        if timings and self.ctx.settings.value(UI_SHOW_TIMINGS):
            bubble.setToolTip(format_timings(timings))
        bubble.setProperty("turn_id", event.turn_id)

    def _on_timings(self, event: ev.TurnTimings) -> None:
        if not self.ctx.settings.value(UI_SHOW_TIMINGS):
            return
        for bubble in self.conversation.bubbles():
            if bubble.role == "assistant" and bubble.property("turn_id") == event.turn_id:
                bubble.setToolTip(format_timings(event.timings))
                return
        self._timings[event.turn_id] = dict(event.timings)

    def _on_session(self, event: ev.SessionChanged) -> None:
        self.session_id = event.session_id
        self.setWindowTitle(f"SynthBot — {event.title}" if event.title else "SynthBot")

    def show_error(self, event: ev.ErrorEvent) -> None:
        """The banner: what went wrong, "Open settings" where the kind has a page, "Retry" when a
        turn failed; the state then shows Error until the next turn starts."""
        action = event.action
        if action is None and event.kind:
            try:
                action = settings_action(ErrorKind(str(event.kind)))
            except ValueError:  # a kind this version does not know: no page to offer
                action = None
        in_turn = self.state in BUSY_STATES or self.state == ev.TurnState.HEARING
        if self.state not in IDLE_STATES:
            self._turn_failed = True  # shown when the turn (or the attempt to listen) ends
        elif self.state == ev.TurnState.IDLE and event.kind not in (None, "audio"):
            self._on_state(ev.StateChanged(ev.TurnState.ERROR))
        self.banner.show_error(event.message, event.hint, action, retry=in_turn and bool(self._last_said))

    def _banner_action(self, action: str) -> None:
        name, _, arg = action.partition(":")
        if name == "open_settings":
            self.settingsRequested.emit(arg)
        elif name == "retry":
            self.retry_last()

    # Lifetime -------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self._unlisten()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._ptt_filter)
        if self._tray is not None:
            self._tray.hide()
        super().closeEvent(event)


__all__ = ["MainWindow", "format_timings"]
