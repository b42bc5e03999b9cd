"""`synthbot-desktop models [--provider P]`: the models each LLM provider offers, with prices.

Without ``--provider`` every LLM provider is asked; one that cannot be reached (no key, Ollama
not running) is reported on its own line and does not hide the others.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.config import LLM_PROVIDERS
from synthbot_desktop.errors import SynthbotError
from synthbot_desktop.llm.registry import create_chat_provider
from synthbot_desktop.pricing import load_prices
from synthbot_desktop.redaction import redact
from synthbot_desktop.services import error_reports
from synthbot_desktop.setting_keys import provider_model


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "models", _models, "list the models of the LLM providers")
    p.add_argument("--provider", choices=LLM_PROVIDERS, help="only this provider")
    add_json_flag(p)


async def _list(ctx: AppContext, name: str) -> list[str]:
    provider = create_chat_provider(name, ctx)
    try:
        return await provider.list_models()
    finally:
        await provider.aclose()


def _models(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.services import features

    if args.provider:
        features.require(ctx, f"provider.{args.provider}", f"the {args.provider} LLM provider")
    names = [args.provider] if args.provider else features.allowed_providers(ctx)  # hidden when off (#18)
    prices = load_prices(ctx.paths.config_dir)
    results: list[dict[str, Any]] = []
    for name in names:
        default = ctx.settings.value(provider_model(name))
        try:
            models = asyncio.run(_list(ctx, name))
        except SynthbotError as exc:
            if args.provider:
                raise
            results.append({"provider": name, "error": redact(exc.one_line()), "models": []})
            continue
        rows = []
        for m in models:
            price = prices.llm_price(name, m)
            rows.append({"id": m, "default": m == default,
                         "input_per_mtok": price.input_per_mtok if price else None,
                         "output_per_mtok": price.output_per_mtok if price else None})
        results.append({"provider": name, "error": None, "models": rows})
    if args.json:
        print_json({"pricing_as_of": prices.as_of, "providers": results})
    else:
        for r in results:
            if r["error"]:
                print(f"{r['provider']}: unavailable — {r['error']}", file=sys.stderr)
                error_reports.shown("cli.models", f"{r['provider']}: {r['error']}")
                continue
            for m in r["models"]:
                label = (f"${m['input_per_mtok']}/${m['output_per_mtok']} per 1M tokens"
                         if m["input_per_mtok"] is not None else "price unknown")
                print(f"{r['provider']:<10} {m['id']:<40} {label}{'  (default)' if m['default'] else ''}")
    return 0 if any(r["error"] is None for r in results) else 1
