"""From a finished (or failed) chat call to the one ``api_usage_logs`` row it deserves."""

from __future__ import annotations

from synthbot_desktop.errors import ProviderError
from synthbot_desktop.llm.base import ChatUsage
from synthbot_desktop.pricing import PriceTable
from synthbot_desktop.storage.records import UsageRecord


def usage_record(
    usage: ChatUsage,
    prices: PriceTable,
    *,
    endpoint: str | None = None,
    error: ProviderError | None = None,
    session_id: int | None = None,
    message_uid: str | None = None,
) -> UsageRecord:
    """A UsageRecord with cost from ``prices`` (None when the model is not priced).

    A failed call is still logged: rate limits and outages belong in the usage history, and a
    call that streamed half a reply before breaking was billed for those tokens.
    """
    cost = prices.llm_cost(usage.provider, usage.model, usage.tokens_in, usage.tokens_out)
    return UsageRecord(
        provider=usage.provider, endpoint=endpoint, model=usage.model, request_id=usage.request_id,
        tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, tokens_estimated=usage.estimated,
        latency_ms=usage.latency_ms, ttfb_ms=usage.ttft_ms,
        status_code=error.info.status_code if error is not None and error.info.status_code else usage.status_code,
        success=error is None, error_kind=str(error.kind) if error is not None else None,
        error_message=error.one_line()[:1000] if error is not None else None,
        cost_usd=cost, session_id=session_id, message_uid=message_uid,
    )
