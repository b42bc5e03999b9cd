"""`python -m synthbot_desktop` behaves exactly like the `synthbot-desktop` command."""

from synthbot_desktop.cli.main import main

raise SystemExit(main())
