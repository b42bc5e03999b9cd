"""Validate a model's tool arguments against the tool's JSON schema (the subset tools declare).

Models send malformed arguments often enough (invalid JSON, a string where a number belongs, a
missing field) that the loop must answer them with an error they can correct, never crash. We
check the subset of JSON Schema tool definitions use: ``type`` (object, string, integer, number,
boolean, array), ``properties``, ``required``, ``enum``, ``items`` and ``additionalProperties:
false`` — no dependency for a few dozen lines.
"""

from __future__ import annotations

import json
from typing import Any


class ArgumentsError(ValueError):
    """The arguments do not fit the schema; the message is what the model is told."""


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "string": (str,), "integer": (int,), "number": (int, float),
    "boolean": (bool,), "array": (list,), "null": (type(None),),
}


def parse_arguments(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """JSON text -> validated dict, or :class:`ArgumentsError` with a one-line reason."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ArgumentsError(f"arguments are not valid JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:  # a model (or a hostile MCP echo) nesting thousands of brackets deep
        raise ArgumentsError("arguments are nested too deeply") from None
    if not isinstance(value, dict):
        raise ArgumentsError("arguments must be a JSON object")
    validate(value, schema, "arguments")
    return value


def validate(value: Any, schema: dict[str, Any], where: str) -> None:
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _TYPES:
        ok = isinstance(value, _TYPES[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))
        if not ok:
            raise ArgumentsError(f"{where} must be of type {kind}, got {type(value).__name__}")
    if "enum" in schema and value not in schema["enum"]:
        raise ArgumentsError(f"{where} must be one of {schema['enum']}")
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                raise ArgumentsError(f"{where}.{name} is required")
        for name, item in value.items():
            if name in props:
                validate(item, props[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                raise ArgumentsError(f"{where}.{name} is not a known parameter")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{where}[{i}]")
