"""The LWA token endpoint (``POST /auth/o2/token``): same form fields and error bodies as Amazon's."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import parse_qs

from integration.sandbox.amazon.faults import refusal_body
from integration.sandbox.amazon.wire import Reply, Req

LIFE = 3600  # seconds of simulated time [reference sp-api.md §2.1]


def _error(status: int, code: str, description: str) -> Reply:
    return Reply(status, {"error_description": description, "error": code})


def token(sim, req: Req) -> Reply:
    """Counted per grant in the stats (``lwa:refresh_token``: every request, refused ones under their status)."""
    form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
    reply = _token(sim, form)
    if form.get("grant_type") in ("refresh_token", "client_credentials") and reply.status != 200:
        sim.stats.count("lwa:" + form["grant_type"], reply.status)
    return reply


def _token(sim, form: dict) -> Reply:
    grant = form.get("grant_type")
    if not grant:
        return _error(400, "invalid_request", "The request is missing a required parameter : grant_type")
    if grant not in ("refresh_token", "client_credentials"):
        return _error(400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server")
    if form.get("client_id") != sim.client_id or form.get("client_secret") != sim.client_secret:
        return _error(401, "invalid_client", "Client authentication failed")
    if grant == "refresh_token":
        if "scope" in form:
            return _error(400, "invalid_scope", "The request has an invalid parameter : scope")
        if form.get("refresh_token") != sim.refresh_token:
            return _error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        kind = "seller"
    else:
        if form.get("scope") not in ("sellingpartnerapi::notifications", "sellingpartnerapi::migration"):
            return _error(400, "invalid_scope", "The request has an invalid parameter : scope")
        kind = "grantless"
    access = "Atza|" + secrets.token_urlsafe(48)
    with sim.state.lock:
        sim.state.tokens[access] = (sim.state.now() + timedelta(seconds=LIFE), kind)
        sim.faults.issued(access, sim.state.now())
        sim.stats.count("lwa:" + grant, 200)
    body = {"access_token": access, "token_type": "bearer", "expires_in": LIFE}
    if grant == "refresh_token":
        body["refresh_token"] = form["refresh_token"]
    return Reply(200, body)


def declares(sim, op: str, status: int) -> bool:
    """Whether ``op``'s model declares ``status`` (always True without models: nothing to conform to)."""
    if not sim.models:
        return True
    from integration.sandbox.amazon.models import _Undeclared

    return not isinstance(sim.models.response_validator(op, status), _Undeclared)


def refusal(sim, op: str, spec: tuple[int, str, str, str | None]) -> Reply:
    """Amazon's refusal of a token: ``spec`` is (status, code, message, details or None). A 401 where the operation's
    model declares none (only reports, feeds and confirmShipment do) goes out as the 403 with the same words."""
    status, code, message, details = spec
    if status == 401 and not declares(sim, op, 401):
        status = 403
    return Reply(status, refusal_body(code, message, details))


def check(sim, header: str | None, op: str) -> Reply | None:
    """None when the access token is valid; else Amazon's refusal (sp-api.md §3.2: a 403 ``Unauthorized`` "Access to
    requested resource is denied." whose details say what is wrong with the token; or the refusal a token fault
    gave this token, ``faults.TOKEN_REFUSALS``)."""
    denied = (403, "Unauthorized", "Access to requested resource is denied.")
    if not header:
        return refusal(sim, op, (*denied, "Access token is missing in the request header."))
    expired_by_fault = sim.faults.refusal(header)
    if expired_by_fault is not None:
        return refusal(sim, op, expired_by_fault)
    entry = sim.state.tokens.get(header)
    if entry is None:
        return refusal(sim, op, (*denied, "The access token you provided is revoked, malformed or invalid."))
    if entry[0] <= sim.state.now():
        return refusal(sim, op, (*denied, "The access token you provided has expired."))
    return None
