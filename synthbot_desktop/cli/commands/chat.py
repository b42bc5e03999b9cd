"""`synthbot-desktop chat TEXT`: one turn with the configured LLM, streamed and stored.

The turn lands in a conversation session (a new one unless ``--session`` continues an old
one, whose earlier turns become context), as a user message, an assistant message (marked
incomplete with the error when the stream broke, or interrupted on Ctrl-C) and one usage row
per LLM round. The session is opened by ``services.conversation.open_session`` and the tools by
``services.tools`` — the builders `talk` and the window use — and the turn runs through the tool
loop: each tool call is stored as a ``tool`` message between question and answer (issue #16).
A failed call still stores the user's text and the usage row, then exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from decimal import Decimal
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.cli.tool_prompt import add_tool_flags
from synthbot_desktop.config import LLM_PROVIDERS, REGISTRY
from synthbot_desktop.errors import UsageError
from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.llm.context import build_context
from synthbot_desktop.llm.turn import ChatResult
from synthbot_desktop.llm.usage import usage_record
from synthbot_desktop.pricing import load_prices
from synthbot_desktop.storage.recorder import WriteUnit
from synthbot_desktop.storage.records import MessageRecord
from synthbot_desktop.tools.loop import run_tool_loop
from synthbot_desktop.tools.records import ToolTranscript
from synthbot_desktop.tools.registry import ToolRegistry


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
    add_tool_flags(p)
    add_json_flag(p)


def _open_session(ctx: AppContext, plan: Any, session_id: int | None) -> Any:
    """The one session builder of services.conversation (memory joins a NEW session's context)."""
    from synthbot_desktop.services.conversation import open_session

    try:
        return asyncio.run(open_session(ctx, plan, session_id=session_id, last_messages=None))
    except UsageError as exc:
        if session_id is None:
            raise
        raise UsageError(exc.message, hint="list sessions with `synthbot-desktop history list`, or omit --session") \
            from None


def _chat(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.services.conversation import chat_for, plan_conversation
    from synthbot_desktop.services.voice import VoiceChoice

    text = sys.stdin.read() if args.text == "-" else args.text
    text = text.strip()
    if not text:
        raise UsageError("the message is empty", hint='give the text to send, e.g. synthbot-desktop chat "Hello"')
    settings = ctx.settings
    # chat speaks nothing: an explicit voice keeps the plan from resolving one (no keyring, no DB)
    plan = plan_conversation(ctx, provider=args.provider, model=args.model,
                             voice=VoiceChoice("piper", settings.get_str("tts.piper.voice") or "none"))
    provider_name = plan.provider
    provider: Any = chat_for(ctx, plan)  # an HttpChatProvider; fails early on a missing key or bad URL
    model = plan.model
    if not model:
        raise UsageError(f"no model is set for {provider_name}",
                         hint=f"pass --model or run `synthbot-desktop config set providers.{provider_name}.model NAME`")
    system = args.system if args.system is not None else plan.system_prompt
    temperature = float(REGISTRY["llm.temperature"].coerce(  # CLI values obey the settings' bounds
        args.temperature if args.temperature is not None else plan.temperature))
    max_tokens = int(REGISTRY["llm.max_tokens"].coerce(
        args.max_tokens if args.max_tokens is not None else settings.get("llm.max_tokens")))
    if args.session is not None and not 0 < args.session < 2**63:
        raise UsageError(f"--session must be a session id (a positive number), got {args.session}",
                         hint="list sessions with `synthbot-desktop history list`, or omit --session")
    prices = load_prices(ctx.paths.config_dir)

    plan.system_prompt = system or ""
    conv = _open_session(ctx, plan, args.session)
    session_id = conv.session_id
    system = conv.system_prompt or ""
    context = build_context(conv.history, system or None, int(settings.get("llm.context_tokens")),
                            new_message=ChatMessage("user", text))
    if context.trimmed_chars:
        print(f"note: the message is too long for the model's context: its first {context.trimmed_chars} "
              f"of {len(text)} characters were cut for the request (stored whole)", file=sys.stderr)
    user_msg = MessageRecord(session_id=session_id, role="user", content=text)
    randomness = None
    if args.mode == "enhanced":
        from synthbot_desktop.randomness.enhanced import sampling_for_turn

        turn = sampling_for_turn(ctx.db, user_msg.uid, provider_name, temperature)
        provider.sampling_seed, temperature, randomness = turn.seed, turn.temperature, turn.record
        if turn.notice:
            print(turn.notice, file=sys.stderr)
    endpoint = provider.endpoint(provider.build_chat_request(
        context.messages, model, system=None, temperature=None, max_tokens=None).url)
    said: list[str] = []  # the reply over every round (a tool round's "Let me look." included)
    rounds: list[ChatResult] = []
    tool_log = ToolTranscript(session_id)

    def echo(delta: str) -> None:
        said.append(delta)
        if not args.json:
            sys.stdout.write(delta)
            sys.stdout.flush()

    def whole(result: ChatResult) -> ChatResult:
        return dataclasses.replace(result, text="".join(said))

    async def go() -> ChatResult:
        from synthbot_desktop.cli.tool_prompt import cli_confirm, print_tool_event
        from synthbot_desktop.services.conversation import tools_for
        from synthbot_desktop.tools.mcp_client import open_mcp

        mcp = open_mcp(ctx) if args.tools else None
        registry = (tools_for(ctx, confirm=cli_confirm(args.yes), mcp=mcp) if args.tools else None) or ToolRegistry()
        try:
            loop = await run_tool_loop(
                provider, context.messages, model, registry, system=context.system, temperature=temperature,
                max_tokens=max_tokens, max_rounds=settings.get_int("tools.max_rounds"), on_delta=echo,
                on_event=None if args.json else print_tool_event, on_usage=rounds.append, on_message=tool_log.add,
                filler_after_s=settings.get_float("tools.filler_after_s"))
            return whole(loop.final)
        except asyncio.CancelledError as exc:  # Ctrl-C: keep what arrived, then stop
            partial = exc.args[0] if exc.args and isinstance(exc.args[0], ChatResult) else None
            if partial is not None:
                _store(ctx, prices, endpoint, user_msg, whole(partial), randomness, [*rounds, partial], tool_log)
            raise
        finally:
            await provider.aclose()
            if mcp is not None:
                await mcp.aclose()

    result = asyncio.run(go())
    assistant_uid, usage = _store(ctx, prices, endpoint, user_msg, result, randomness, rounds, tool_log)
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
            **({"randomness": randomness} if randomness else {}),
            **({"rounds": len(rounds), "tool_calls": tool_log.summary()} if tool_log.records else {}),
        })
    if result.error is not None:
        if result.text:
            print(f"(reply incomplete: {len(result.text)} characters kept in session {session_id})", file=sys.stderr)
        raise result.error
    return 0


def _store(ctx: AppContext, prices: Any, endpoint: str, user_msg: MessageRecord, result: ChatResult,
           randomness: dict[str, Any] | None = None, rounds: list[ChatResult] | None = None,
           tool_log: ToolTranscript | None = None) -> tuple[str | None, Any]:
    """Write the turn in one unit (spooled if the database is away): the question, each tool call
    with its result, the answer and one usage row per LLM round. Returns (assistant uid, usage
    of the whole turn: the one row, or the rounds summed)."""
    tools = tool_log.records if tool_log is not None else []
    for m in tools:
        m.created_at = user_msg.created_at
    unit = WriteUnit(messages=[user_msg, *tools])
    assistant_uid = None
    rounds = rounds or [result]
    tokens_in, tokens_out = _sum(r.usage.tokens_in for r in rounds), _sum(r.usage.tokens_out for r in rounds)
    last = rounds[-1].usage
    if result.text or result.error is None:
        msg = MessageRecord(
            session_id=user_msg.session_id, role="assistant", content=result.text,
            interrupted=result.cancelled or result.error is not None,
            error=result.error.one_line() if result.error is not None else None,
            provider=last.provider, model=last.model, tokens_in=tokens_in, tokens_out=tokens_out,
            timings={"ttft_ms": rounds[0].usage.ttft_ms, "latency_ms": _sum(r.usage.latency_ms for r in rounds),
                     **({"randomness": randomness} if randomness else {})},
        )
        unit.messages.append(msg)
        assistant_uid = msg.uid
    for r in rounds:
        unit.usage.append(usage_record(r.usage, prices, endpoint=endpoint, error=r.error,
                                       session_id=user_msg.session_id, message_uid=assistant_uid or user_msg.uid))
    ctx.recorder.write_now(unit)
    if len(unit.usage) == 1:
        return assistant_uid, unit.usage[0]
    total = dataclasses.replace(
        unit.usage[-1], tokens_in=tokens_in, tokens_out=tokens_out,
        tokens_estimated=any(u.tokens_estimated for u in unit.usage), ttfb_ms=unit.usage[0].ttfb_ms,
        latency_ms=_sum(u.latency_ms for u in unit.usage),
        cost_usd=None if any(u.cost_usd is None for u in unit.usage)
        else sum((u.cost_usd for u in unit.usage if u.cost_usd is not None), Decimal(0)))
    return assistant_uid, total


def _sum(values: Any) -> Any:
    got = [v for v in values if v is not None]
    return sum(got) if got else None
