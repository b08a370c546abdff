"""Settlements from Amazon into SL: discover the reports, download each to a kept file, parse, check and post it.

Amazon schedules settlement reports itself (about every 14 days per marketplace) and never announces them (it sends
REPORT_PROCESSING_FINISHED only for reports one requested, and a settlement cannot be requested), so they are found
by polling getReports (sp-api.md §7.1):

- ``poll`` lists GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 reports created since the watermark (at most the 90 days
  Amazon lists), page by page with the resumable paging of the orders sweep (``integration.sync.paging``: the
  progress is kept in SL after every page, so a run stopped by the rate limit, a fault or a crash resumes there),
  and hands on the report ids not yet imported. The watermark then moves to the earliest report still waiting to
  be imported (or the window's end), so a report whose queued task was lost is found again by the next poll.
- ``fetch`` downloads one report's file into the settlements folder (``SETTLEMENTS_DIR``) and keeps it: the file is
  the evidence behind the GL batch. Every attempt asks for the report document afresh, since its URL lives five
  minutes; an expired URL is asked for again at once.
- ``import_file`` parses and checks the file (``parse``), posts it (``post``, accounts from the mapping) under the
  settlement's lease, and records what it did in xAMZEvent; SL's xAMZSettlement binding makes it idempotent.
- ``import_report`` is both, as the import task runs them: a failed download or a file that cannot be read raises
  an alert and is retried with backoff; after ``SETTLEMENT_ATTEMPTS`` tries it is held with the reason, the file
  kept and named in the hold.

Versions. Amazon may issue a settlement again (a corrected file, same settlement id). Which version is newer is never
taken from the order files arrive in (poll hands on every report not yet imported; a person imports files in any
order): a report from getReports carries Amazon's ``createdTime``, kept with the file (``report_created``). Against
the version already posted (xAMZSettlement.FileChecksum names it):

- the same file: posted again only as the mapping asks (``already_posted`` or its batches replaced after a fix);
- a report Amazon created later: it replaces the posted version (its unreleased batches voided; released ones held
  ``settlement_released``, see ``slsync settlements post ID --replace-released``);
- a report Amazon created earlier: left alone (``unchanged``, reason ``older_version``; an event says so);
- a file without a report time (imported by hand), or two with the same time: the posted version stays and the new
  file is held (``settlement_version_conflict``, key ``<id>:file=<checksum>``, both files' paths, checksums and
  totals): ``slsync holds release`` posts the new file instead, discarding the hold keeps the posted one;
  ``slsync settlements import FILE --replace`` says at once that the file is the newer one.

Which file is which: ``file_received`` is every file version seen, ``file_accepted`` a version that passed its checks
and the version rule (the one the GL is to hold; ``repost`` posts the latest), ``file_posted`` the version written to
SL. ``settlements show`` / ``list`` report the posted file (or, never posted, the last received with its holds).

After a clean post (posted, replaced, already_posted): refunds become credit memos (``refunds.apply_refunds``), the
holds the post made moot are resolved (an unmapped type now mapped; a hold on this file, or on a file received before
it: total_mismatch, unreadable, a version conflict, a closed period ...; refund holds are ``refunds``' own) and the
settlement is reconciled (``reconcile``; its result counted by ``slsync status``; an error there is logged and the
settlement stays unreconciled, the import does not fail).

Events: ``settlement_report/<report id>`` ``downloaded`` (file, checksum, Amazon's createdTime) and ``imported``
(settlement id, outcome); ``settlement/<settlement id>`` ``file_received`` / ``file_accepted`` / ``file_posted``
(dates, currency, total, file, checksum, report time), ``older_version_ignored``, ``version_conflict``,
``replace_released`` (a person's word that released batches were reversed); the posting itself records its own
(``integration.sl.settlement_gl``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integration import alerts
from integration.amazon.orders import amazon_time
from integration.amazon.reports import SETTLEMENT
from integration.errors import NeedsReview, Permanent, Transient
from integration.guard import keys
from integration.settlements.model import SettlementProblem
from integration.sl.models import Event
from integration.sync import paging
from integration.sync.context import Context
from integration.sync.entity import hold_entity
from integration.timeutil import parse_amazon_time

log = logging.getLogger("slsync.settlements")
POLL_PROGRESS = "settlements.poll"        # xAMZCursor: the listing in progress
POLL_CURSOR = "settlements.watermark"     # xAMZCursor: reports created before this are imported (or held)
LISTING = paging.reports_listing(POLL_PROGRESS)
LISTED_DAYS = 90                          # getReports lists the reports of the last 90 days only
OVERLAP = timedelta(hours=6)              # each window starts this much before the watermark
QUEUED_TTL = 6 * 3600                     # a report handed on is not handed on again within this time
REPORT = "settlement_report"              # event / hold entity keyed by Amazon's report id
RETRYABLE = ("unreadable_settlement", "no_summary")   # a re-download may cure these (a cut or garbled transfer)
IMPORT_TASK, IMPORT_QUEUE = "slsync.settlements.import", "amazon"


@dataclass
class PollResult:
    report_ids: list[str] = field(default_factory=list)   # handed on by this run, newest first
    done: bool = True
    retry_after: float = 0.0
    window_start: str = ""
    window_end: str = ""
    pages: int = 0


@dataclass
class ImportResult:
    settlement_id: str
    outcome: str                   # posted | replaced | already_posted | unchanged | held
    report_id: str = ""
    path: str = ""
    reason: str = ""
    hold_id: int | None = None
    post: dict = field(default_factory=dict)   # post.PostResult.as_dict() when it was posted

    def as_dict(self) -> dict:
        return {"settlement_id": self.settlement_id, "outcome": self.outcome, "report_id": self.report_id,
                "path": self.path, "reason": self.reason, "hold_id": self.hold_id, **({"post": self.post}
                                                                                    if self.post else {})}


# -- discovery ---------------------------------------------------------------------------------------------------
def poll(ctx: Context, *, enqueue: Callable[[list[str]], None] | None = None, now: datetime | None = None,
         max_pages: int | None = None, page_size: int = 100) -> PollResult:
    """Hand every settlement report not yet imported to ``enqueue`` (ids, a page at a time) and return them.

    Each report is handed on once: one already imported (or held) is skipped by its events in SL, and one handed
    on within ``QUEUED_TTL`` by a marker in Redis (lost with Redis: then it is handed on again, and the import is
    idempotent). A rate pause returns ``done=False`` with the seconds to wait; the next run resumes at the page.
    """
    found: list[str] = []

    def on_page(reports: list, extra: dict) -> None:
        queued, earliest = [], extra.get("earliest")
        for rep in reports:
            if rep.status != "DONE" or not rep.document_id or imported(ctx, rep.report_id):
                continue
            earliest = rep.created_time if earliest is None or _ts(rep.created_time) < _ts(earliest) else earliest
            if ctx.redis.set(keys.dedup("settlement-report", rep.report_id), "1", nx=True, ex=QUEUED_TTL):
                queued.append(rep.report_id)
        if queued and enqueue is not None:
            enqueue(queued)
        found.extend(queued)
        extra["earliest"], extra["queued"] = earliest, extra.get("queued", 0) + len(queued)

    def finish(progress: dict) -> None:
        """The watermark moves to the earliest report still to import (else the window's end), in SL's
        transaction that clears the listing's progress."""
        extra, end = progress["extra"], progress["query"]["until"]
        mark = extra.get("earliest") or end
        ctx.sl.finish_listing(POLL_PROGRESS, POLL_CURSOR, mark, Event(
            "sweep", "settlements", "polled", ctx.task_id,
            {"from": progress["query"]["since"], "to": end, "queued": extra.get("queued", 0), "watermark": mark,
             "pages": progress["pages"]}))

    run = paging.walk(ctx, LISTING, lambda: _window(ctx, now, page_size), on_page, max_pages=max_pages,
                      finish=finish)
    result = PollResult(found, run.done, run.retry_after, run.query.get("since", ""), run.query.get("until", ""),
                        run.pages)
    if not run.done:
        log.info("settlement poll paused after %d pages (%d handed on); next page in %.1fs", run.pages, len(found),
                 run.retry_after)
    return result


def _window(ctx: Context, now: datetime | None, page_size: int) -> dict:
    """From the watermark less an overlap, never before the 90 days Amazon lists, to Amazon's now."""
    now = now or ctx.amazon.server_now()
    oldest = now - timedelta(days=LISTED_DAYS) + timedelta(minutes=5)
    mark = ctx.sl.get_cursor(POLL_CURSOR)
    since = max(oldest, _ts(mark) - OVERLAP) if mark else oldest
    return {"types": [SETTLEMENT], "since": amazon_time(since), "until": amazon_time(now), "page_size": page_size}


def imported(ctx: Context, report_id: str) -> bool:
    """The report was imported (posted or held) or is held for a person."""
    if any(e.action == "imported" for e in ctx.sl.events_for(REPORT, report_id)):
        return True
    return bool([h for h in ctx.sl.list_holds(status="OPEN", entity=REPORT) if h.key == report_id])


# -- download --------------------------------------------------------------------------------------------------
def settlements_dir(ctx: Context) -> Path:
    folder = Path(ctx.settings.settlements_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def kept_path(ctx: Context, report_id: str) -> Path:
    return settlements_dir(ctx) / f"settlement-report-{report_id}.txt"


def fetch(ctx: Context, report_id: str) -> str:
    """Download a settlement report's file into the settlements folder (replacing an earlier try's); its path.

    getReport -> getReportDocument -> the document (GZIP undone, streamed to disk). The document's URL is asked for
    on every call, and once more at once when S3 says it expired (it lives five minutes). ``Transient`` for a
    failed download (the caller retries with backoff); ``Permanent`` for a report without a document."""
    report = ctx.amazon.reports.get(report_id, report_type=SETTLEMENT)
    if report.status != "DONE" or not report.document_id:
        raise Permanent(f"settlement report {report_id} has no document (status {report.status})",
                        details={"report_id": report_id, "status": report.status})
    hint = report.marketplace_ids[0] if report.marketplace_ids else None
    folder = settlements_dir(ctx)
    for attempt in (1, 2):
        try:
            doc = ctx.amazon.reports.download(report.document_id, report_type=SETTLEMENT, directory=str(folder),
                                              encoding_hint=None)
            break
        except Transient as exc:
            if exc.details.get("expired_url") and attempt == 1:
                log.warning("settlement report %s: the document URL expired before the download; asking again",
                            report_id)
                continue
            raise
        except Permanent as exc:
            if exc.details.get("reason") == "missing_role":   # the seller must grant Finance and Accounting
                raise
            # S3 refused the URL or sent a broken GZIP: a fresh URL next attempt may cure it, and the attempts
            # are counted (SETTLEMENT_ATTEMPTS), so it still ends in a hold
            raise Transient(f"settlement report {report_id}: {exc.message}", details=exc.details) from None
    target = kept_path(ctx, report_id)
    os.replace(doc.path, target)
    ctx.sl.record_event(Event(REPORT, report_id, "downloaded", ctx.task_id,
                              {"path": str(target), "bytes": doc.size, "marketplace": hint or "",
                               "content_type": doc.content_type, "created": report.created_time or ""}))
    return str(target)


# -- import ----------------------------------------------------------------------------------------------------
def import_report(ctx: Context, report_id: str, *, attempt: int = 1, rerun: dict | None = None) -> ImportResult:
    """Download and import one settlement report (what ``slsync.settlements.import`` does).

    A failed download or a file that cannot be read: an alert, then ``Transient`` (the task retries it with
    backoff, downloading afresh); at attempt ``SETTLEMENT_ATTEMPTS`` a hold (entity ``settlement_report``) with the
    reason and the kept file instead. ``rerun``: the task, args and queue that ``slsync holds release`` runs."""
    try:
        path = fetch(ctx, report_id)
    except Transient as exc:
        if paging.is_rate_pause(exc):   # waiting for Amazon's rate is not a failed download
            raise
        return _failed(ctx, report_id, attempt, "settlement_download_failed", exc.message, exc.to_dict(),
                       _kept(ctx, report_id), rerun)
    try:
        download = _download_of(ctx, report_id)
        return import_file(ctx, path, report_id, marketplace_hint=download.get("marketplace") or None,
                           retryable=True, report_created=download.get("created") or "")
    except SettlementProblem as exc:
        if exc.reason not in RETRYABLE:
            raise
        return _failed(ctx, report_id, attempt, exc.reason, exc.message, exc.to_dict(), path, rerun)


def _kept(ctx: Context, report_id: str) -> str:
    path = kept_path(ctx, report_id)
    return str(path) if path.exists() else ""


def _download_of(ctx: Context, report_id: str) -> dict:
    """The last ``downloaded`` event's detail of a report (marketplace, Amazon's createdTime), or {}."""
    for event in reversed(ctx.sl.events_for(REPORT, report_id)):
        if event.action == "downloaded":
            return _detail(event)
    return {}


def _failed(ctx: Context, report_id: str, attempt: int, reason: str, message: str, error: dict, path: str,
            rerun: dict | None) -> ImportResult:
    attempts = ctx.settings.settlement_attempts
    alerts.alert(f"settlement report {report_id}: {reason}", dedup_key=f"settlement:{report_id}", r=ctx.redis,
                 report_id=report_id, attempt=attempt, attempts=attempts, message=message, path=path)
    if attempt < attempts:
        raise Transient(f"settlement report {report_id} (attempt {attempt} of {attempts}): {message}",
                        details={"report_id": report_id, "reason": reason, "path": path})
    payload = {"report_id": report_id, "path": path, "attempts": attempt, "error": error, **(rerun or {})}
    hold_id = ctx.sl.create_hold(REPORT, report_id, reason,
                                 f"settlement report {report_id}: {message} (after {attempt} attempts; the file is "
                                 f"kept{' at ' + path if path else ''})", payload)
    ctx.sl.record_event(Event(REPORT, report_id, "held", ctx.task_id, {"reason": reason, "hold_id": hold_id,
                                                                        "path": path}))
    return ImportResult("", "held", report_id, path, reason, hold_id)


def import_file(ctx: Context, path: str, report_id: str = "", *, marketplace_hint: str | None = None,
                retryable: bool = False, release: str = "hold", report_created: str = "",
                replace: bool = False, replace_released: bool = False) -> ImportResult:
    """Parse, check and post one settlement file (from Amazon or a seller's download), under the settlement's lease.

    A settlement posted before from the same file under the same mapping is ``already_posted`` (nothing written);
    after a mapping fix its unreleased batches are replaced (``post.posting_key``). Another version of a posted
    settlement follows the version rule (module docstring): ``report_created`` is Amazon's createdTime of the report
    the file came from; ``replace`` says the file is the newer version whatever its time (a person's decision, or
    the version a repost takes); ``replace_released``: the person reversed the released batches in SL.
    A problem a person must solve (the total does not add up, mixed currencies, a closed period ...) is a hold, ``held`` returned. With
    ``retryable`` an unreadable file raises ``SettlementProblem`` instead, for the caller to download it again."""
    from integration.settlements.parse import open_settlement

    try:
        sf = open_settlement(path, marketplace_hint=marketplace_hint, report_id=report_id)
    except SettlementProblem as exc:
        if retryable and exc.reason in RETRYABLE:   # a re-download may cure it; anything else is held at once
            raise
        return _held_file(ctx, report_id or Path(path).name, exc, path, report_id)
    header = sf.header
    sid = header.settlement_id
    with hold_entity(ctx, "settlement", sid):
        _record_file(ctx, sf, report_id, report_created)
        # posting is idempotent by file and mapping (post.posting_key): a repeat writes nothing
        try:
            sf.check()
            result = None if replace else _version_rule(ctx, sf, report_id, report_created)
            if result is None:
                _record_version(ctx, "file_accepted", sf, report_id, report_created)
                if replace_released:
                    ctx.sl.record_event(Event("settlement", sid, "replace_released", ctx.task_id, {
                        "checksum": sf.checksum, "path": sf.path, "batches": [
                            b["bat_nbr"] for b in ctx.sl.settlement_batches(sid) if b.get("released")]}))
                result = _post(ctx, sf, release, report_id, report_created, replace_released)
        except SettlementProblem as exc:
            if retryable and exc.reason in RETRYABLE:
                raise
            result = _held_settlement(ctx, sid, exc, sf.path, report_id, sf.checksum)
        except NeedsReview as exc:   # post_settlement made the hold already
            hold = next((h for h in ctx.sl.list_holds(status="OPEN", entity="settlement")
                         if h.key == sid and h.reason == exc.reason), None)
            result = ImportResult(sid, "held", report_id, sf.path, exc.reason, hold.hold_id if hold else None)
    if report_id:
        ctx.sl.record_event(Event(REPORT, report_id, "imported", ctx.task_id,
                                  {"settlement_id": sid, "outcome": result.outcome, "reason": result.reason}))
    log.info("settlement %s (report %s): %s%s", sid, report_id or "-", result.outcome,
             f" ({result.reason})" if result.reason else "")
    return result


def _version_rule(ctx: Context, sf, report_id: str, report_created: str) -> ImportResult | None:
    """None when the file may be posted; else what became of it: an older report left alone, or a version conflict
    held (module docstring)."""
    sid = sf.header.settlement_id
    posted = posted_file(ctx, sid)
    if posted is None or posted.get("checksum") == sf.checksum:
        return None
    mine, theirs = report_created, posted.get("report_created") or ""
    if mine and theirs and _ts(mine) != _ts(theirs):
        if _ts(mine) > _ts(theirs):
            return None   # Amazon issued this one later: it replaces the posted version
        ctx.sl.record_event(Event("settlement", sid, "older_version_ignored", ctx.task_id, {
            "path": sf.path, "checksum": sf.checksum, "report_created": mine, "posted_checksum": posted["checksum"],
            "posted_report_created": theirs}))
        return ImportResult(sid, "unchanged", report_id, sf.path, "older_version")
    received = {"path": sf.path, "checksum": sf.checksum, "total": str(sf.header.total), "report_id": report_id,
                "report_created": mine}
    kept = {k: posted.get(k, "") for k in received}
    key = f"{sid}:file={sf.checksum[:16]}"
    hold_id = ctx.sl.create_hold(
        "settlement", key, "settlement_version_conflict",
        f"settlement {sid}: {sf.path} (total {sf.header.total}, checksum {sf.checksum[:12]}) is another version of the "
        f"posted {kept['path']} (total {kept['total']}, checksum {kept['checksum'][:12]}) and which is newer is not "
        "known (no Amazon report time on one of them): the posted one stays. Release this hold to post the new file "
        "instead; discard it to keep the posted one",
        {"settlement_id": sid, "checksum": sf.checksum, "received": received, "posted": kept,
         "task": POST_TASK, "args": [key], "queue": IMPORT_QUEUE})
    ctx.sl.record_event(Event("settlement", sid, "version_conflict", ctx.task_id,
                              {"hold_id": hold_id, "received": received, "posted": kept}))
    return ImportResult(sid, "held", report_id, sf.path, "settlement_version_conflict", hold_id)


def _post(ctx: Context, sf, release: str, report_id: str = "", report_created: str = "",
          replace_released: bool = False) -> ImportResult:
    from integration.settlements.accounts import build_accounts
    from integration.settlements.post import post_settlement

    header = sf.header
    accounts = build_accounts(ctx.mapping, header.currency, tax_accounts=ctx.sl.sales_tax_accounts())
    posted = post_settlement(ctx.sl, header, sf.rows, accounts, release=release, checksum=sf.checksum,
                             **({"replace_released": True} if replace_released else {}))
    detail = posted.as_dict()
    if posted.status in ("posted", "replaced", "already_posted"):
        if posted.status != "already_posted" or posted_file(ctx, header.settlement_id, exact=True) is None:
            _record_version(ctx, "file_posted", sf, report_id, report_created)
        # each Refund of a posted settlement becomes its credit memo, applied to the invoice (idempotent by Amazon's
        # adjustment id); a refund SL cannot credit yet is held, and released through this settlement's post again
        from integration.settlements.refunds import apply_refunds

        outcomes = apply_refunds(ctx, header, sf.rows)
        detail["refunds"] = {v: sum(1 for o in outcomes if o.value == v) for v in sorted({o.value for o in outcomes})}
        detail["resolved"] = _resolve_moot(ctx, sf, posted)
        _reconcile(ctx, sf)
    return ImportResult(header.settlement_id, posted.status, header.report_id, sf.path, posted.reason,
                        posted.holds[0] if posted.holds else None, detail)


def _resolve_moot(ctx: Context, sf, posted) -> list[int]:
    """Resolve the settlement's open holds this clean post made moot (module docstring); their ids."""
    sid = sf.header.settlement_id
    still_unmapped = {(u["transaction_type"], u["amount_type"], u["amount_description"]) for u in posted.unmapped}
    order: dict[str, int] = {}
    for n, event in enumerate(ctx.sl.events_for("settlement", sid)):
        if event.action == "file_received":
            order.setdefault(_detail(event).get("checksum", ""), n)
    mine = order.get(sf.checksum, len(order))
    resolved = []
    for h in ctx.sl.list_holds(status="OPEN", entity="settlement"):
        if not (h.key == sid or h.key.startswith(sid + ":")) or h.reason.startswith("refund_"):
            continue
        payload = h.payload if isinstance(h.payload, dict) else {}
        if h.reason == "unmapped_settlement_type":
            combo = tuple(payload.get("combination") or h.key.split(":", 1)[-1].split("|"))
            if combo in still_unmapped:
                continue
            note = f"{' / '.join(combo)} is mapped now: settlement {sid} {posted.status} from {sf.path}"
        else:
            held = payload.get("checksum") or ""
            if held and held != sf.checksum and order.get(held, -1) > mine:
                continue   # a file received after the posted one: still for a person to look at
            if not held and posted.status == "already_posted":
                continue   # nothing says which file it was about, and nothing was written now
            note = f"settlement {sid} {posted.status} from {sf.path} (checksum {sf.checksum[:12]})"
        if ctx.sl.set_hold_status(h.hold_id, "RESOLVED", note):
            resolved.append(h.hold_id)
    return resolved


def _reconcile(ctx: Context, sf) -> None:
    """Reconcile a posted settlement with SL and keep the result for ``slsync status``; an error is logged and the
    settlement recorded as unreconciled (the import itself succeeded)."""
    from integration.settlements.reconcile import reconcile, record
    from integration.sl.reconciliation import UNRECONCILED

    sid = sf.header.settlement_id
    try:
        record(ctx.sl, reconcile(ctx, sf.header, sf.rows), ctx.task_id)
    except Exception as exc:   # the post is done: a failed reconciliation must not undo or fail it
        log.warning("settlement %s: reconciliation failed (%s); it stays unreconciled", sid, type(exc).__name__)
        try:
            ctx.sl.record_event(Event("settlement", sid, UNRECONCILED, ctx.task_id, {"error": type(exc).__name__}))
        except Exception:   # SL unreachable: nothing more to do here, `slsync reconcile` can be run by hand
            log.warning("settlement %s: could not record the failed reconciliation", sid)


POST_TASK = "slsync.settlements.post"


def _held_settlement(ctx: Context, sid: str, exc: SettlementProblem, path: str, report_id: str,
                     checksum: str = "") -> ImportResult:
    hold_id = ctx.sl.create_hold("settlement", sid, exc.reason, exc.message,
                                 {"settlement_id": sid, "report_id": report_id, "path": path, "checksum": checksum,
                                  "error": exc.to_dict(), "task": POST_TASK, "args": [sid], "queue": IMPORT_QUEUE})
    return ImportResult(sid, "held", report_id, path, exc.reason, hold_id)


def _held_file(ctx: Context, key: str, exc: SettlementProblem, path: str, report_id: str) -> ImportResult:
    """A file that names no settlement (unreadable, no summary): held under its report id or file name."""
    hold_id = ctx.sl.create_hold(REPORT, key[:60], exc.reason, exc.message,
                                 {"report_id": report_id, "path": path, "error": exc.to_dict()})
    return ImportResult("", "held", report_id, path, exc.reason, hold_id)


def _file_detail(sf, report_id: str, report_created: str) -> dict:
    header = sf.header
    return {"report_id": report_id or header.report_id, "report_created": report_created or "", "path": sf.path,
            "checksum": sf.checksum, "charset": sf.charset, "layout": header.layout, "start": _iso(header.start),
            "end": _iso(header.end), "deposit_date": _iso(header.deposit_date), "currency": header.currency,
            "total": str(header.total), "marketplaces": list(header.marketplaces), "warnings": list(header.warnings)}


def _record_file(ctx: Context, sf, report_id: str, report_created: str = "") -> None:
    """One ``file_received`` event per settlement file version (by checksum and path)."""
    for event in ctx.sl.events_for("settlement", sf.header.settlement_id):
        if event.action == "file_received" and _detail(event).get("checksum") == sf.checksum:
            if _detail(event).get("path") == sf.path:
                return
    ctx.sl.record_event(Event("settlement", sf.header.settlement_id, "file_received", ctx.task_id,
                              _file_detail(sf, report_id, report_created)))


def _record_version(ctx: Context, action: str, sf, report_id: str, report_created: str) -> None:
    """``file_accepted`` / ``file_posted``: recorded when it names another file than the last one of its kind."""
    latest = _latest(ctx.sl.events_for("settlement", sf.header.settlement_id), action)
    if latest is not None and latest.get("checksum") == sf.checksum and latest.get("path") == sf.path:
        return
    if not report_created:   # the same file received from Amazon: its report time
        report_created = next((_detail(e).get("report_created") for e in ctx.sl.events_for(
            "settlement", sf.header.settlement_id) if e.action == "file_received"
            and _detail(e).get("checksum") == sf.checksum and _detail(e).get("report_created")), "")
    ctx.sl.record_event(Event("settlement", sf.header.settlement_id, action, ctx.task_id,
                              _file_detail(sf, report_id, report_created)))


def _latest(events: list[Event], action: str, checksum: str | None = None) -> dict | None:
    for event in reversed(events):
        if event.action == action and (checksum is None or _detail(event).get("checksum") == checksum):
            return _detail(event)
    return None


def repost(ctx: Context, settlement_id: str, *, replace_released: bool = False) -> ImportResult:
    """Post a settlement again from its kept file (``slsync settlements post``, ``slsync holds release``): after its
    hold was fixed (a mapping rule added, a period opened). The file is the version the GL is to hold: the latest
    accepted (``file_accepted``), else the posted one, else the last received. ``settlement_id`` may be a hold's key:
    ``<id>:<combination>`` for an unmapped type, ``<id>:file=<checksum>`` for a version conflict (that file is
    posted, as the newer version). ``replace_released``: the person reversed the settlement's released batches in
    SL (``settlements post --replace-released``). ``LookupError`` when no file is known or it is gone."""
    settlement_id, _, rest = settlement_id.partition(":")
    events = ctx.sl.events_for("settlement", settlement_id)
    if rest.startswith("file="):
        wanted = rest[len("file="):]
        info = next((_detail(e) for e in reversed(events) if e.action == "file_received"
                     and str(_detail(e).get("checksum", "")).startswith(wanted) and Path(_detail(e).get("path", "")
                                                                                        ).exists()), None)
        replace = True
    else:
        info = _latest(events, "file_accepted")
        replace = info is not None
        info = info or posted_file(ctx, settlement_id) or _latest(events, "file_received")
    if info is None:
        raise LookupError(f"settlement {settlement_id} is not known; import its file first")
    path = info.get("path", "")
    if not path or not Path(path).exists():
        raise LookupError(f"settlement {settlement_id}: its file {path or '(none)'} is gone; import it again with "
                          "`slsync settlements import FILE`")
    return import_file(ctx, path, info.get("report_id", ""), report_created=info.get("report_created", ""),
                       replace=replace, replace_released=replace_released)


# -- what is known -----------------------------------------------------------------------------------------------
def posted_file(ctx: Context, settlement_id: str, *, exact: bool = False) -> dict | None:
    """The file the settlement's GL batches were posted from (the binding's checksum: its ``file_posted`` event, else
    a ``file_received`` of that checksum unless ``exact``), or None when it was never posted."""
    binding = ctx.sl.get_settlement_binding(settlement_id)
    if binding is None:
        return None
    checksum = (binding.checksum or "").strip()
    events = ctx.sl.events_for("settlement", settlement_id)
    found = _latest(events, "file_posted", checksum)
    return found if found is not None or exact else _latest(events, "file_received", checksum)


def _status(binding) -> str | None:
    return (binding.status or "POSTED").strip() if binding is not None else None


def known(ctx: Context) -> list[dict]:
    """Every settlement SL has heard of (a file received), newest end date first, with its state in SL: the posted
    file's dates and total (never posted: the last file received)."""
    latest: dict[str, dict] = {}
    for event in ctx.sl.events_by_action("settlement", "file_received"):
        latest[event.key] = {"settlement_id": event.key, **_detail(event)}
    holds: dict[str, list] = {}
    for h in ctx.sl.list_holds(status="OPEN", entity="settlement"):
        holds.setdefault(h.key.split(":", 1)[0], []).append(h)
    out = []
    for sid, info in latest.items():
        binding = ctx.sl.get_settlement_binding(sid)
        posted = posted_file(ctx, sid) if binding is not None else None
        batches = ctx.sl.settlement_batches(sid) if binding is not None else []
        open_holds = holds.get(sid, [])
        status = _status(binding) or ("HELD" if open_holds else "IMPORTED")
        out.append({**info, **({"settlement_id": sid, **posted} if posted else {}), "status": status,
                    "batches": [b.get("bat_nbr") or b.get("BatNbr") for b in batches],
                    "holds": [{"hold_id": h.hold_id, "reason": h.reason} for h in open_holds]})
    out.sort(key=lambda s: (s.get("end") or "", s["settlement_id"]), reverse=True)
    return out


def file_of(ctx: Context, settlement_id: str) -> dict | None:
    """The latest file received for a settlement (its ``file_received`` event detail), or None."""
    return _latest(ctx.sl.events_for("settlement", settlement_id), "file_received")


def describe(ctx: Context, settlement_id: str) -> dict:
    """What ``settlements show`` prints: the settlement id, currency, total, the GL batches with their debit and
    credit totals, the deposit line, and the amount per (transaction type, amount type, amount description), read
    from the posted file (never posted: the last received) and SL; ``received`` names a later file when there is one
    (held, or waiting). A file that cannot be read still shows the status and holds, with a ``warning``.
    ``LookupError`` when the settlement is unknown."""
    from integration.settlements.accounts import build_accounts
    from integration.settlements.parse import open_settlement
    from integration.settlements.post import plan

    last = file_of(ctx, settlement_id)
    if last is None:
        raise LookupError(f"settlement {settlement_id} is not known (no file imported for it)")
    binding = ctx.sl.get_settlement_binding(settlement_id)
    info = posted_file(ctx, settlement_id) or last
    batches = ctx.sl.settlement_batches(settlement_id) if binding is not None else []
    data = {"settlement_id": settlement_id, "currency": info.get("currency", ""), "total": info.get("total", ""),
            "start": info.get("start"), "end": info.get("end"), "deposit_date": info.get("deposit_date"),
            "report_id": info.get("report_id", ""), "file": info.get("path", ""), "checksum": info.get("checksum", ""),
            "status": _status(binding) or "NOT POSTED",
            "batches": [_money(b) for b in batches],
            "debit": str(sum((_dec(b.get("debit")) for b in batches), _dec(0))),
            "credit": str(sum((_dec(b.get("credit")) for b in batches), _dec(0))),
            "deposit": {}, "by_type": [],
            "holds": [{"hold_id": h.hold_id, "reason": h.reason, "key": h.key}
                      for h in ctx.sl.list_holds(status="OPEN", entity="settlement")
                      if h.key == settlement_id or h.key.startswith(settlement_id + ":")]}
    if last.get("checksum") != info.get("checksum"):
        data["received"] = {k: last.get(k, "") for k in ("path", "checksum", "total", "report_id", "report_created")}
    path = info.get("path", "")
    if not path or not Path(path).exists():
        data["warning"] = f"the settlement's file is gone ({path or 'no path'}): amounts by type not shown"
        return data
    try:
        sf = open_settlement(path, report_id=info.get("report_id", ""))
        totals = sf.totals()
        accounts = build_accounts(ctx.mapping, sf.header.currency, tax_accounts=ctx.sl.sales_tax_accounts())
        deposit = plan(sf.header, sf.rows(), accounts, ctx.sl.period_of).deposit
    except NeedsReview as exc:   # its hold says why; show what SL knows
        data["warning"] = f"the settlement's file cannot be read ({exc.reason}): {exc.message}"
        return data
    data["by_type"] = [{"transaction_type": t, "amount_type": a, "amount_description": d, "amount": str(v)}
                       for (t, a, d), v in sorted(totals.by_type.items())]
    data["rows"] = totals.rows
    data["deposit"] = _money(deposit)
    return data


def _money(d: dict) -> dict:
    return {k: str(v) if not isinstance(v, (str, int, type(None))) else v for k, v in d.items()}


def _dec(value):
    from decimal import Decimal

    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _detail(event: Event) -> dict:
    if isinstance(event.detail, dict):
        return event.detail
    try:
        value = json.loads(event.detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value is not None else None


def _ts(text: str) -> datetime:
    return parse_amazon_time(text)
