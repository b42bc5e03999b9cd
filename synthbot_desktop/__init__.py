"""SynthBot Desktop: a desktop voice assistant.

The core (audio, stt, llm, tts, pipeline, storage) is plain Python and never imports Qt;
only :mod:`synthbot_desktop.gui` does.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("synthbot-desktop")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

APP_NAME = "synthbot-desktop"
APP_DISPLAY_NAME = "SynthBot Desktop"

__all__ = ["APP_DISPLAY_NAME", "APP_NAME", "__version__"]
