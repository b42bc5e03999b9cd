"""`synthbot-desktop chat TEXT`: one turn with the configured LLM, streamed and stored.

The turn lands in a conversation session (a new one unless ``--session`` continues an old
one, whose earlier turns become context), as a user message, an assistant message (marked
incomplete with the error when the stream broke, or interrupted on Ctrl-C) and one usage row.
A failed call still stores the user's text and the usage row, then exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.config import LLM_PROVIDERS, REGISTRY
from synthbot_desktop.errors import UsageError
from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.llm.context import build_context
from synthbot_desktop.llm.registry import create_chat_provider
from synthbot_desktop.llm.turn import ChatResult, run_chat
from synthbot_desktop.llm.usage import usage_record
from synthbot_desktop.pricing import load_prices
from synthbot_desktop.services import features
from synthbot_desktop.services.history import message_id_for
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.recorder import WriteUnit
from synthbot_desktop.storage.records import MessageRecord


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "chat", _chat, "send TEXT to the LLM, stream the reply and store the turn")
    p.add_argument("text", help="what to say (use - to read it from stdin)")
    p.add_argument("--provider", choices=LLM_PROVIDERS, help="LLM provider (default: setting llm.provider)")
    p.add_argument("--model", help="model id (default: setting providers.<provider>.model)")
    p.add_argument("--session", type=int, metavar="ID", help="continue this conversation session")
    p.add_argument("--system", help="system prompt for this turn (default: setting llm.system_prompt)")
    p.add_argument("--temperature", type=float, help="sampling temperature (default: setting llm.temperature)")
    p.add_argument("--max-tokens", type=int, help="longest reply in tokens (default: setting llm.max_tokens)")
    p.add_argument("--mode", choices=("normal", "enhanced"), default="normal",
                   help="enhanced: pooled quantum random numbers pick the seed and temperature (docs/enhanced-mode.md)")
    add_json_flag(p)


def _history(ctx: AppContext, session_id: int) -> list[ChatMessage]:
    with ctx.db.session() as s:
        session = repo.get_session(s, session_id, ctx.user_id)
        if session is None:
            raise UsageError(f"there is no conversation session {session_id}",
                             hint="list sessions with `synthbot-desktop history list`, or omit --session")
        return [ChatMessage(m.role, m.content) for m in repo.session_messages(s, session_id)  # type: ignore[arg-type]
                if m.role in ("user", "assistant") and m.content]


def _new_session(ctx: AppContext, provider: str, model: str) -> int:
    with ctx.db.session() as s:
        return repo.create_session(s, ctx.user_id, provider=provider, model=model).id


def _chat(ctx: AppContext, args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    text = text.strip()
    if not text:
        raise UsageError("the message is empty", hint='give the text to send, e.g. synthbot-desktop chat "Hello"')
    settings = ctx.settings
    provider_name = args.provider or str(settings.get("llm.provider"))
    features.require(ctx, f"provider.{provider_name}", f"the {provider_name} LLM provider")  # issue #18
    if args.mode == "enhanced":
        features.require(ctx, "feature.enhanced_mode")
    provider = create_chat_provider(provider_name, ctx)  # fails early on a missing key or bad URL
    model = args.model or provider.default_model
    if not model:
        raise UsageError(f"no model is set for {provider_name}",
                         hint=f"pass --model or run `synthbot-desktop config set providers.{provider_name}.model NAME`")
    system = args.system if args.system is not None else str(settings.get("llm.system_prompt"))
    temperature = float(REGISTRY["llm.temperature"].coerce(  # CLI values obey the settings' bounds
        args.temperature if args.temperature is not None else settings.get("llm.temperature")))
    max_tokens = int(REGISTRY["llm.max_tokens"].coerce(
        args.max_tokens if args.max_tokens is not None else settings.get("llm.max_tokens")))
    if args.session is not None and not 0 < args.session < 2**63:
        raise UsageError(f"--session must be a session id (a positive number), got {args.session}",
                         hint="list sessions with `synthbot-desktop history list`, or omit --session")
    prices = load_prices(ctx.paths.config_dir)

    history = _history(ctx, args.session) if args.session is not None else []
    session_id = args.session if args.session is not None else _new_session(ctx, provider_name, model)
    # issue #16: remembered facts join a NEW session's system context (unless turned off, #18)
    if args.session is None and features.enabled(ctx, "feature.memory"):
        from synthbot_desktop.storage.memory import with_memory

        system = with_memory(ctx.db, ctx.user_id, system or None) or ""
    context = build_context(history, system or None, int(settings.get("llm.context_tokens")),
                            new_message=ChatMessage("user", text))
    if context.trimmed_chars:
        print(f"note: the message is too long for the model's context: its first {context.trimmed_chars} "
              f"of {len(text)} characters were cut for the request (stored whole)", file=sys.stderr)
    user_msg = MessageRecord(session_id=session_id, role="user", content=text)
    randomness = None
    if args.mode == "enhanced":
        from synthbot_desktop.randomness.enhanced import sampling_for_turn

        turn = sampling_for_turn(ctx.db, user_msg.uid, provider_name, temperature)
        provider.sampling_seed, temperature, randomness = turn.seed, turn.temperature, turn.record  # type: ignore[attr-defined]
        if turn.notice:
            print(turn.notice, file=sys.stderr)
    endpoint = provider.endpoint(provider.build_chat_request(
        context.messages, model, system=None, temperature=None, max_tokens=None).url)

    def echo(delta: str) -> None:
        if not args.json:
            sys.stdout.write(delta)
            sys.stdout.flush()

    async def go() -> ChatResult:
        try:
            return await run_chat(provider, context.messages, model, system=context.system,
                                  temperature=temperature, max_tokens=max_tokens, on_delta=echo)
        except asyncio.CancelledError as exc:  # Ctrl-C: keep what arrived, then stop
            partial = exc.args[0] if exc.args and isinstance(exc.args[0], ChatResult) else None
            if partial is not None:
                _store(ctx, prices, endpoint, user_msg, partial, randomness)
            raise
        finally:
            await provider.aclose()

    result = asyncio.run(go())
    assistant_uid, usage = _store(ctx, prices, endpoint, user_msg, result, randomness)
    if not args.json:
        if result.text:
            sys.stdout.write("\n")
        elif result.error is None:
            print("(the model sent an empty reply)", file=sys.stderr)
        sys.stdout.flush()
    if args.json:
        print_json({
            "session_id": session_id, "provider": provider_name, "model": model,
            "reply": result.text, "complete": result.complete,
            "error": {"kind": str(result.error.kind), "message": result.error.one_line()} if result.error else None,
            "context": {"messages": len(context.messages), "dropped": context.dropped,
                        "trimmed_chars": context.trimmed_chars, "truncated": context.truncated,
                        "estimated_tokens": context.estimated_tokens},
            "usage": {"tokens_in": usage.tokens_in, "tokens_out": usage.tokens_out,
                      "tokens_estimated": usage.tokens_estimated, "latency_ms": usage.latency_ms,
                      "ttft_ms": usage.ttfb_ms, "request_id": usage.request_id, "status_code": usage.status_code,
                      "cost_usd": usage.cost_usd, "pricing_as_of": prices.as_of},
            "assistant_message_uid": assistant_uid,
            "assistant_message_id": message_id_for(ctx.db, assistant_uid),  # for `history rate` (#17)
            **({"randomness": randomness} if randomness else {}),
        })
    if result.error is not None:
        if result.text:
            print(f"(reply incomplete: {len(result.text)} characters kept in session {session_id})", file=sys.stderr)
        raise result.error
    return 0


def _store(ctx: AppContext, prices: Any, endpoint: str, user_msg: MessageRecord,
           result: ChatResult, randomness: dict[str, Any] | None = None) -> tuple[str | None, Any]:
    """Write the turn in one unit (spooled if the database is away); returns (assistant uid, usage)."""
    unit = WriteUnit(messages=[user_msg])
    assistant_uid = None
    if result.text or result.error is None:
        msg = MessageRecord(
            session_id=user_msg.session_id, role="assistant", content=result.text,
            interrupted=result.cancelled or result.error is not None,
            error=result.error.one_line() if result.error is not None else None,
            provider=result.usage.provider, model=result.usage.model,
            tokens_in=result.usage.tokens_in, tokens_out=result.usage.tokens_out,
            timings={"ttft_ms": result.usage.ttft_ms, "latency_ms": result.usage.latency_ms,
                     **({"randomness": randomness} if randomness else {})},
        )
        unit.messages.append(msg)
        assistant_uid = msg.uid
    usage = usage_record(result.usage, prices, endpoint=endpoint, error=result.error,
                         session_id=user_msg.session_id, message_uid=assistant_uid or user_msg.uid)
    unit.usage.append(usage)
    ctx.recorder.write_now(unit)
    return assistant_uid, usage
