"""Every Redis key the product uses, in one place. All are ``slsync:<area>:<key>``.

Losing any of them costs repeated work, never data (DESIGN §4): durable state lives in SL.

| key | type | holds | TTL |
|---|---|---|---|
| slsync:dedup:<scope>:<id> | string | "seen" marker for a notification, message or task | per call |
| slsync:lease:<entity>:<key> | hash | owner token, fencing number of a held lease | lease TTL |
| slsync:fence:<entity>:<key> | string | monotonic fencing counter per lease name | 30 days unused |
| slsync:fence-epoch | string | fencing epoch, set from SL's counter (xAMZCursor fence.epoch) after Redis lost it | 30 days unused |
| slsync:rate:<seller>:<operation> | hash | token bucket: tokens, last refill (ms), rate, burst | idle expiry |
| slsync:ratecfg:<seller>:<operation> | hash | rate/burst override learned from x-amzn-RateLimit-Limit | 1 day |
| slsync:breaker:<name> | hash | state (absent = closed), opened_at, calls and failures that opened it; name is amazon.<family> or sl | 1 day, refreshed when it opens |
| slsync:breaker:<name>:window | hash | calls (c:<bucket>) and failures (f:<bucket>) per 1/12 of the window | window |
| slsync:breaker:<name>:probe | string | the one half-open trial call's owner | cool-down |
| slsync:alert:<alert key> | hash | a firing alert: subject, count, first/last occurrence, last sent (ms) | 2 x max(ALERT_REPEAT_SECONDS, ALERT_RESOLVE_AFTER), refreshed per occurrence |
| slsync:token:<seller_id>:<client_id> | string | the seller's LWA access token shared by every worker (Fernet-encrypted when TOKEN_ENCRYPTION_KEY is set) | token life |
| slsync:token:grantless:<client_id>:<scope> | string | the app's grantless (client_credentials) token, same form | token life |
| slsync:lwa-refused:<client_id>:<credentials hash> | string | LWA refused these credentials (invalid_client / invalid_grant): calls wait without sending until the setting changes or the re-check | re-check interval |
| slsync:role-refused:<seller>:<operation>:<role> | string | a digest of the fresh token Amazon refused the operation with (a role not granted): that token's next 403s there are not worth a new token | 10 min, deleted when the operation answers |
| slsync:secret-expiry:<client_id>:<date> | string | the client-secret expiry alert went out that day (at most one a day) | 2 days |
| slsync:failed:<task> | list | last failures after retries ran out (for `slsync status`), buyer data redacted | capped, 7 days after the last |
| slsync:heartbeat | string | last beat heartbeat (iso time) | 10 min |
| slsync:beat:leader | string | leader lease of the beat process | lease TTL |
| slsync:coalesce:<entity>:<key> | hash | state (pending:<token> while enqueueing, then queued), bar (highest EventTime, epoch ms); deleted when the import starts | 1 h |
| slsync:lastok:<flow> | string | last success per flow (iso time) | 30 days |
| slsync:pending:holds | list | task failures waiting for SL to answer, written into it as holds | none (never trimmed) |
| slsync:waits:<task id> | string | retries of a task spent waiting (a lease, the fleet's rate, refused credentials), counted apart from its ordinary retries | 7 days |
| slsync:waiting:<task>:<entity>:<key> | string | the task that waits for refused LWA credentials with this work; its duplicates end at once | 15 min, renewed by each retry |
| slsync:starts:<task id> | string | runs of a task begun and not yet ended: above one, earlier runs were lost | 1 day |
| slsync:continue:<flow> | string | a paused listing's continuation is scheduled (one at a time) | until it is due |
| slsync:payload:order:<id> | string | an order as searchOrders returned it (buyer data), so its import needs no call; deleted by the import | 15 min |
| slsync:intake:received | hash | notifications answered per intake, type and outcome (`sqs:ORDER_CHANGE:enqueued`, `sqs:ORDER_CHANGE:duplicate`, `sqs:ORDER_CHANGE:held`, `http:LISTINGS_ITEM_...:recorded`, `http:unknown:malformed`; outcomes: enqueued coalesced duplicate stale held recorded malformed) | none (counters) |
"""

from __future__ import annotations

PREFIX = "slsync"


def key(area: str, *parts: object) -> str:
    """Build a namespaced key: ``key("lease", "order", "123")`` -> ``slsync:lease:order:123``."""
    if not area or ":" in area:
        raise ValueError(f"bad key area {area!r}")
    return ":".join([PREFIX, area, *(str(p) for p in parts)])


def dedup(scope: str, ident: str) -> str:
    return key("dedup", scope, ident)


def lease(entity: str, name: str) -> str:
    return key("lease", entity, name)


def fence(entity: str, name: str) -> str:
    return key("fence", entity, name)


def fence_epoch() -> str:
    return key("fence-epoch")


def rate(seller: str, operation: str) -> str:
    return key("rate", seller, operation)


def rate_config(seller: str, operation: str) -> str:
    return key("ratecfg", seller, operation)


def breaker(system: str) -> str:
    return key("breaker", system)


def breaker_window(system: str) -> str:
    return key("breaker", system, "window")


def breaker_probe(system: str) -> str:
    return key("breaker", system, "probe")


def alert(alert_key: str) -> str:
    return key("alert", alert_key)


def token(seller_id: str, client_id: str) -> str:
    """The seller's access token: per seller AND app, as Amazon issues it (a refresh token is one seller's grant
    to one application), so two sellers or two apps sharing a Redis never read each other's token."""
    return key("token", seller_id, client_id)


def grantless_token(client_id: str, scope: str) -> str:
    """A grantless token belongs to the application alone (client_credentials, no seller) [sp-api.md §2.4]."""
    return key("token", "grantless", client_id, scope)


def lwa_refused(client_id: str, credentials_hash: str) -> str:
    return key("lwa-refused", client_id, credentials_hash)


def secret_expiry_alerted(client_id: str, day: str) -> str:
    return key("secret-expiry", client_id, day)


def failed(task_name: str) -> str:
    return key("failed", task_name)


def coalesce(entity: str, name: str) -> str:
    return key("coalesce", entity, name)


def notification(notification_id: str) -> str:
    """The dedup marker of one notification (set once it was accepted)."""
    return dedup("notification", notification_id)


def continuation(flow: str) -> str:
    return key("continue", flow)


LAST_OK_TTL = 30 * 24 * 3600


def last_success(flow: str) -> str:
    return key("lastok", flow)


def order_payload(amazon_order_id: str) -> str:
    return key("payload", "order", amazon_order_id)


HEARTBEAT = key("heartbeat")
BEAT_LEADER = key("beat", "leader")


def intake_received() -> str:
    """Counters of notifications per ``<source>:<type>:<outcome>`` (which transport brings what, what became of it)."""
    return key("intake", "received")
