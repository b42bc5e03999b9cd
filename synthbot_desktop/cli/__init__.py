"""Command-line front end: `synthbot-desktop` and its subcommands (DESIGN §8 contract)."""
