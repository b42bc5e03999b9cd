"""PyInstaller entry script: the frozen `synthbot-desktop` runs exactly the console script.

PyInstaller needs a script file, not a `module:function` reference; this is that file.
No arguments opens the desktop app, subcommands run headless (synthbot_desktop.cli.main).
"""

from synthbot_desktop.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
