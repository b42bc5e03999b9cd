"""The application layer shared by the CLI and the GUI (neither imports the other)."""
