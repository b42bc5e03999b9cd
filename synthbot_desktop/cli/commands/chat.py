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
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json, session_key
from synthbot_desktop.cli.tool_prompt import add_tool_flags
from synthbot_desktop.config import LLM_PROVIDERS, REGISTRY
from synthbot_desktop.errors import DatabaseError, UsageError
from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.llm.context import build_context
from synthbot_desktop.llm.turn import ChatResult
from synthbot_desktop.llm.usage import usage_record
from synthbot_desktop.pricing import load_prices
from synthbot_desktop.services import features
from synthbot_desktop.services.history import message_id_for
from synthbot_desktop.setting_keys import (
    LLM_CONTEXT_TOKENS,
    LLM_MAX_TOKENS,
    TOOLS_FILLER_AFTER_S,
    TOOLS_MAX_ROUNDS,
    TTS_PIPER_VOICE,
)
from synthbot_desktop.storage import offline
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import is_unreachable
from synthbot_desktop.storage.recorder import WriteUnit
from synthbot_desktop.storage.records import MessageRecord, SessionSpec
from synthbot_desktop.tools.loop import run_tool_loop
from synthbot_desktop.tools.records import ToolTranscript
from synthbot_desktop.tools.registry import ToolRegistry


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "chat", _chat, "send TEXT to the LLM, stream the reply and store the turn")
    p.add_argument("text", help="what to say (use - to read it from stdin)")
    p.add_argument("--provider", choices=LLM_PROVIDERS, help="LLM provider (default: setting llm.provider)")
    p.add_argument("--model", help="model id (default: setting providers.<provider>.model)")
    p.add_argument("--session", metavar="ID", help="continue this conversation session (its id, or the "
                   "session_uid printed for a session started while the database was unreachable)")
    p.add_argument("--system", help="system prompt for this turn (default: setting llm.system_prompt)")
    p.add_argument("--temperature", type=float, help="sampling temperature (default: setting llm.temperature)")
    p.add_argument("--max-tokens", type=int, help="longest reply in tokens (default: setting llm.max_tokens)")
    p.add_argument("--mode", choices=("normal", "enhanced"), default="normal",
                   help="enhanced: pooled quantum random numbers pick the seed and temperature (docs/enhanced-mode.md)")
    add_tool_flags(p)
    add_json_flag(p)


def _history(ctx: AppContext, key: int | str) -> tuple[list[ChatMessage], int | None, str]:
    """(context messages, session id or None, session uid) of the session to continue.

    From the database when it answers (the local cache is refreshed from it), otherwise from
    the local cache of the conversation plus its turns still waiting in the spool."""
    db = ctx.reachable_db()
    if db is not None:
        try:
            return _history_db(ctx, db, key)
        except DatabaseError as exc:
            if not is_unreachable(exc):
                raise
    return _history_offline(ctx, key)


def _no_session(key: int | str) -> UsageError:
    return UsageError(f"there is no conversation session {key}",
                      hint="list sessions with `synthbot-desktop history list`, or omit --session")


def _history_db(ctx: AppContext, db: Any, key: int | str) -> tuple[list[ChatMessage], int | None, str]:
    with db.session() as s:
        sid = key if isinstance(key, int) else offline.resolve_session_id(s, key, {})
        session = repo.get_session(s, sid, ctx.user_id) if sid is not None else None
        if session is None:
            if isinstance(key, str) and ctx.conversation_cache.load(key) is not None:
                return _history_offline(ctx, key)  # created offline, not replayed yet
            raise _no_session(key)
        rows = repo.session_messages(s, session.id)
        suid = offline.first_message_uid(s, session.id) or f"id-{session.id}"
        conv = offline.CachedConversation(suid, session.id, session.provider, session.model)
        for m in rows:
            if m.role in ("user", "assistant") and m.content:
                conv.add(m.uid, m.role, m.content)
    ctx.conversation_cache.save(conv)
    return [ChatMessage(m["role"], m["content"]) for m in conv.messages], session.id, suid  # type: ignore[arg-type]


def _history_offline(ctx: AppContext, key: int | str) -> tuple[list[ChatMessage], int | None, str]:
    conv = ctx.conversation_cache.load(key)
    if conv is None:
        reason = ctx.offline_reason.one_line() if ctx.offline_reason else "the database is unreachable"
        raise UsageError(f"session {key} cannot be continued offline: {reason}, and this computer has no "
                         "copy of that conversation", hint="try again when the database answers, or omit --session")
    for m in offline.spooled_messages(ctx.paths.spool_dir / "pending.jsonl", conv.session_uid, conv.session_id):
        conv.add(m["uid"], m["role"], m["content"])
    return [ChatMessage(m["role"], m["content"]) for m in conv.messages  # type: ignore[arg-type]
            if m["role"] in ("user", "assistant")], conv.session_id, conv.session_uid


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
                             voice=VoiceChoice("piper", settings.value(TTS_PIPER_VOICE) or "none"))
    provider_name = plan.provider
    features.require(ctx, f"provider.{provider_name}", f"the {provider_name} LLM provider")  # issue #18
    if args.mode == "enhanced":
        features.require(ctx, "feature.enhanced_mode")
    provider: Any = chat_for(ctx, plan)  # an HttpChatProvider; fails early on a missing key or bad URL
    model = plan.model
    if not model:
        raise UsageError(f"no model is set for {provider_name}",
                         hint=f"pass --model or run `synthbot-desktop config set providers.{provider_name}.model NAME`")
    system = args.system if args.system is not None else plan.system_prompt
    temperature = float(REGISTRY["llm.temperature"].coerce(  # CLI values obey the settings' bounds
        args.temperature if args.temperature is not None else plan.temperature))
    max_tokens = int(REGISTRY["llm.max_tokens"].coerce(
        args.max_tokens if args.max_tokens is not None else settings.value(LLM_MAX_TOKENS)))
    key = session_key(args.session)
    prices = load_prices(ctx.paths.config_dir)

    user_msg = MessageRecord(session_id=None, role="user", content=text)
    spec: SessionSpec | None = None
    if key is None:  # a new session is created with its first message, never empty
        history: list[ChatMessage] = []
        session_id, session_uid = None, user_msg.uid
        spec = SessionSpec(uid=session_uid, provider=provider_name, model=model)
        db = ctx.reachable_db()
        # issue #16: remembered facts join a NEW session's system context (unless turned off, #18)
        if db is not None and features.enabled(ctx, "feature.memory"):
            from synthbot_desktop.storage.memory import with_memory

            system = with_memory(db, ctx.user_id, system or None) or ""
    else:
        history, session_id, session_uid = _history(ctx, key)
    user_msg.session_id, user_msg.session_uid = session_id, session_uid
    context = build_context(history, system or None, settings.value(LLM_CONTEXT_TOKENS),
                            new_message=ChatMessage("user", text))
    if context.trimmed_chars:
        print(f"note: the message is too long for the model's context: its first {context.trimmed_chars} "
              f"of {len(text)} characters were cut for the request (stored whole)", file=sys.stderr)
    randomness = None
    if args.mode == "enhanced" and ctx.reachable_db() is None:
        print("note: enhanced mode needs the database's random pool, which is unreachable; "
              "this turn uses normal sampling", file=sys.stderr)
    elif args.mode == "enhanced":
        from synthbot_desktop.randomness.enhanced import pool_wait_s, sampling_for_turn

        turn = sampling_for_turn(ctx.db, user_msg.uid, provider_name, temperature,
                                 wait_s=pool_wait_s(settings))
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
                max_tokens=max_tokens, max_rounds=settings.value(TOOLS_MAX_ROUNDS), on_delta=echo,
                on_event=None if args.json else print_tool_event, on_usage=rounds.append, on_message=tool_log.add,
                filler_after_s=settings.value(TOOLS_FILLER_AFTER_S))
            return whole(loop.final)
        except asyncio.CancelledError as exc:  # Ctrl-C: keep what arrived, then stop
            partial = exc.args[0] if exc.args and isinstance(exc.args[0], ChatResult) else None
            if partial is not None:
                _store(ctx, prices, endpoint, user_msg, whole(partial), randomness, spec, [*rounds, partial], tool_log)
            raise
        finally:
            await provider.aclose()
            if mcp is not None:
                await mcp.aclose()

    result = asyncio.run(go())
    assistant_uid, usage, written = _store(ctx, prices, endpoint, user_msg, result, randomness, spec, rounds,
                                           tool_log)
    if session_id is None:
        session_id = ctx.session_id_for(session_uid) if written else None
    _remember(ctx, session_uid, session_id, provider_name, model, user_msg, result.text, assistant_uid)
    if not written:
        reason = ctx.offline_reason or "the database did not answer"
        print(f"note: {reason}; this turn is kept in the local spool ({ctx.pending_records()} record(s) "
              "waiting) and is written when the database answers"
              + ("" if session_id is not None else f"; continue it with --session {session_uid}"),
              file=sys.stderr)
    if not args.json:
        if result.text:
            sys.stdout.write("\n")
        elif result.error is None:
            print("(the model sent an empty reply)", file=sys.stderr)
        sys.stdout.flush()
    if args.json:
        print_json({
            "session_id": session_id, "session_uid": session_uid, "spooled": not written,
            "provider": provider_name, "model": model,
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
            "assistant_message_id": message_id_for(ctx.reachable_db(), assistant_uid) if written else None,  # (#17)
            **({"randomness": randomness} if randomness else {}),
            **({"rounds": len(rounds), "tool_calls": tool_log.summary()} if tool_log.records else {}),
        })
    if result.error is not None:
        if result.text:
            print(f"(reply incomplete: {len(result.text)} characters kept in session {session_id})", file=sys.stderr)
        raise result.error
    return 0


def _remember(ctx: AppContext, session_uid: str, session_id: int | None, provider: str, model: str,
              user_msg: MessageRecord, reply: str, assistant_uid: str | None) -> None:
    """Add the turn to the local cache of this conversation (its context when offline)."""
    cache = ctx.conversation_cache
    conv = cache.load(session_uid) or offline.CachedConversation(session_uid, session_id, provider, model)
    conv.session_id = conv.session_id or session_id
    conv.add(user_msg.uid, "user", user_msg.content)
    if assistant_uid is not None:
        conv.add(assistant_uid, "assistant", reply)
    cache.save(conv)


def _store(ctx: AppContext, prices: Any, endpoint: str, user_msg: MessageRecord, result: ChatResult,
           randomness: dict[str, Any] | None = None, spec: SessionSpec | None = None,
           rounds: list[ChatResult] | None = None,
           tool_log: ToolTranscript | None = None) -> tuple[str | None, Any, bool]:
    """Write the turn in one unit (spooled if the database is away): the question (creating a new
    session with it), each tool call with its result, the answer and one usage row per LLM round.

    Returns (assistant uid, usage of the whole turn: the one row or the rounds summed, whether it
    reached the database rather than the spool)."""
    tools = tool_log.records if tool_log is not None else []
    for m in tools:
        m.created_at = user_msg.created_at
        m.session_id, m.session_uid = user_msg.session_id, user_msg.session_uid
    unit = WriteUnit(messages=[user_msg, *tools], session=spec)
    assistant_uid = None
    rounds = rounds or [result]
    tokens_in, tokens_out = _sum(r.usage.tokens_in for r in rounds), _sum(r.usage.tokens_out for r in rounds)
    last = rounds[-1].usage
    if result.text or result.error is None:
        msg = MessageRecord(
            session_id=user_msg.session_id, session_uid=user_msg.session_uid, role="assistant", content=result.text,
            interrupted=result.cancelled or result.error is not None,
            error=result.error.one_line() if result.error is not None else None,
            provider=last.provider, model=last.model, tokens_in=tokens_in, tokens_out=tokens_out,
            timings={"ttft_ms": rounds[0].usage.ttft_ms, "latency_ms": _sum(r.usage.latency_ms for r in rounds),
                     **({"randomness": randomness} if randomness else {})},
        )
        unit.messages.append(msg)
        assistant_uid = msg.uid
    for r in rounds:
        row = usage_record(r.usage, prices, endpoint=endpoint, error=r.error,
                           session_id=user_msg.session_id, message_uid=assistant_uid or user_msg.uid)
        row.session_uid = user_msg.session_uid
        unit.usage.append(row)
    written = bool(ctx.writer.write_now(unit))
    if len(unit.usage) == 1:
        return assistant_uid, unit.usage[0], written
    total = dataclasses.replace(
        unit.usage[-1], tokens_in=tokens_in, tokens_out=tokens_out,
        tokens_estimated=any(u.tokens_estimated for u in unit.usage), ttfb_ms=unit.usage[0].ttfb_ms,
        latency_ms=_sum(u.latency_ms for u in unit.usage),
        cost_usd=None if any(u.cost_usd is None for u in unit.usage)
        else sum((u.cost_usd for u in unit.usage if u.cost_usd is not None), Decimal(0)))
    return assistant_uid, total, written


def _sum(values: Any) -> Any:
    got = [v for v in values if v is not None]
    return sum(got) if got else None
