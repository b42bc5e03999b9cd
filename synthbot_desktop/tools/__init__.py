"""Tools the assistant can call: a registry, argument validation, and the executor the tool loop uses."""
