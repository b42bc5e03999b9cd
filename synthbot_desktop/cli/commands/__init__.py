"""One module per subcommand group; each exposes ``register(subparsers)``.

Modules here are discovered automatically, so adding a command means adding a file.
"""
