"""The application layer: what the CLI commands and the GUI pages both call.

Front ends are thin adapters over these services (argument parsing / widgets on top, nothing
domain-specific); the services never import Qt or ``cli/``. ``conversation`` builds a turn engine
(session, persona, voice, recorder and usage wiring) the same way for ``talk`` and for the window;
``voice`` turns the user's wishes into one typed :class:`~synthbot_desktop.services.voice.VoiceChoice`.
"""
