"""Paginated Amazon listings that resume where they stopped, whatever stopped them.

A listing of many pages outlasts one run: searchOrders allows one page every 180 s after a burst of 20, so a
window of 200 pages takes ten hours. ``walk`` keeps the listing's progress in SL (``xAMZCursor.State``) after
every page it has handed on: the query, Amazon's token for the next page and when Amazon issued it, the items
done, the last key reached, and what the caller keeps with it (``extra``). A run stopped by the rate limit (or
killed) resumes from there; the next run never starts again at page 1.

How a listing resumes depends on its API (``Listing``):

- **token kept** while Amazon says it lives (searchOrders: 24 hours), with a margin;
- **re-query from the last key or timestamp reached** where the token is short-lived (getInventorySummaries:
  30 seconds) or its life is undocumented (getReports): ``resume(query, progress)`` returns the query to run
  again and how many of its first items were already done; those are skipped if the last of them is the key
  reached, and handed on again otherwise (the listing changed under us; every consumer is idempotent);
- a kept token that Amazon refuses anyway (400) falls back to the re-query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from integration.errors import Permanent, Transient
from integration.sync.context import Context
from integration.timeutil import parse_amazon_time

log = logging.getLogger("slsync.paging")
TOKEN_MARGIN = 0.8        # a documented token is reused only within this share of its life


@dataclass(frozen=True)
class Listing:
    """One paginated listing and its resume rule."""

    name: str                                        # the xAMZCursor row holding its progress
    pages: Callable[[Context, dict, str], Iterator]  # (ctx, query, token) -> integration.amazon.paging.Page, ...
    key: Callable[[object], str]                     # an item's key (the last one reached is kept)
    token_life: timedelta | None = None              # None: not documented, never reused across runs
    # (query, progress) -> (the query to run again, how many of its first items were done already)
    resume: Callable[[dict, dict], tuple[dict, int]] | None = None
    mark: Callable[[object], str] | None = None      # an item's timestamp, for a re-query "up to the mark"


@dataclass
class Walk:
    done: bool                     # the last page was handed on (the progress is cleared)
    pages: int                     # pages read in this run
    items: int                     # items handed on in this run
    extra: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    retry_after: float = 0.0       # when not done: the earliest a next run can get a page
    resumed: str = ""              # "", "token" or "requery": how this run picked up


def is_rate_pause(exc: Transient) -> bool:
    """No token in our fleet bucket, or Amazon's 429: the listing waits its turn, nothing failed."""
    return bool(exc.details.get("throttled")) or exc.details.get("status") == 429


def walk(ctx: Context, listing: Listing, new_query: Callable[[], dict],
         on_page: Callable[[list, dict], None], *, max_pages: int | None = None) -> Walk:
    """Hand every item of the listing to ``on_page(items, extra)``, page by page, across runs.

    ``new_query()`` is called only when no listing is in progress. ``extra`` is the caller's own dict, saved with
    the progress (e.g. the earliest order queued). A rate pause returns ``Walk(done=False, retry_after=...)``;
    any other error goes up with the progress saved up to the last page handed on, so nothing handed on is
    handed on again by the token path, and a re-query hands on again only what it cannot prove was done.
    """
    progress = ctx.sl.get_progress(listing.name)
    resumed, skip = "", 0
    if progress:
        query, token = progress["query"], progress.get("token", "")
        if token and not _token_alive(ctx, listing, progress):
            token = ""
        if token:
            resumed = "token"
        elif progress.get("pages"):
            resumed = "requery"
            query, skip = (listing.resume or _same_query)(query, progress)
            progress.update(query=query, items=skip)
    else:
        query, token = new_query(), ""
        progress = {"query": query, "token": "", "token_at": "", "pages": 0, "items": 0, "last_key": "",
                    "mark": "", "at_mark": 0, "extra": {}}
    result = Walk(False, 0, 0, progress["extra"], query, resumed=resumed)
    skipped: list = []
    listing_pages = listing.pages(ctx, query, token)
    while True:
        try:
            page = next(listing_pages)
        except StopIteration:
            break
        except Transient as exc:
            if is_rate_pause(exc):
                result.retry_after = exc.retry_after or 1.0
                return result
            raise
        except Permanent as exc:
            if token and result.pages == 0 and exc.details.get("status") == 400:
                # Amazon refused the kept token (expired early, or not valid here): re-query instead
                log.warning("%s: page token refused (%s); re-querying", listing.name, exc.message)
                ctx.sl.set_progress(listing.name, {**progress, "token": ""})
                return walk(ctx, listing, new_query, on_page, max_pages=max_pages)
            raise
        batch = list(page.items)
        if skip:
            batch, skip = _skip(batch, skip, progress.get("last_key", ""), listing.key, skipped)
        if not page.next_token and skip and skipped:
            batch = skipped + batch    # the listing shrank under us: hand on again what could not be proved done
        if batch:
            on_page(batch, progress["extra"])
            _note_reached(progress, listing, batch)
        progress.update(token=page.next_token, token_at=_now(ctx) if page.next_token else "",
                        pages=progress["pages"] + 1, items=progress["items"] + len(page.items))
        result.pages, result.items = result.pages + 1, result.items + len(batch)
        if not page.next_token:
            break
        token = page.next_token
        ctx.sl.set_progress(listing.name, progress)
        if max_pages is not None and result.pages >= max_pages:
            return result
    ctx.sl.set_progress(listing.name, None)
    result.done = True
    return result


def _note_reached(progress: dict, listing: Listing, batch: list) -> None:
    progress["last_key"] = listing.key(batch[-1])
    if listing.mark is None:
        return
    for item in batch:
        mark = listing.mark(item)
        progress["at_mark"] = progress["at_mark"] + 1 if mark == progress.get("mark") else 1
        progress["mark"] = mark


def _skip(batch: list, skip: int, last_key: str, key, skipped: list) -> tuple[list, int]:
    """Drop the first ``skip`` items (done in an earlier run); when the last one dropped is not the key reached
    then, the listing changed since: give back everything dropped, to be handed on again."""
    take = min(skip, len(batch))
    skipped.extend(batch[:take])
    rest, skip = batch[take:], skip - take
    if skip == 0:
        if skipped and key(skipped[-1]) != last_key:
            rest = skipped + rest
        skipped.clear()
    return rest, skip


def _same_query(query: dict, progress: dict) -> tuple[dict, int]:
    return query, int(progress.get("items", 0))


def _token_alive(ctx: Context, listing: Listing, progress: dict) -> bool:
    if listing.token_life is None or not progress.get("token_at"):
        return False
    issued = parse_amazon_time(progress["token_at"])
    return ctx.amazon.server_now() - issued < listing.token_life * TOKEN_MARGIN


def _now(ctx: Context) -> str:
    now: datetime = ctx.amazon.server_now()
    return now.isoformat(timespec="seconds")


# -- the listings the product reads ------------------------------------------------------------------------
def orders_listing(name: str) -> Listing:
    """searchOrders over a last-updated window (query: ``after``, ``before``). Its token lives 24 hours; past
    that the window is read again from its start: orders already settled in SL are skipped by the sweep, and
    imports are idempotent."""
    def pages(ctx: Context, query: dict, token: str):
        return ctx.amazon.orders.search_pages(last_updated_after=query["after"], last_updated_before=query["before"],
                                              token=token)
    return Listing(name, pages, key=lambda o: o["orderId"], token_life=timedelta(hours=24),
                   resume=lambda query, progress: (query, 0))


def reports_listing(name: str) -> Listing:
    """getReports, newest first (query: ``types``, ``since``, optional ``until``). The token's life is not
    documented: a later run re-queries up to the creation time reached (``createdUntil``) and skips the reports of
    that same time it had handed on already."""
    def pages(ctx: Context, query: dict, token: str):
        return ctx.amazon.reports.list_pages(query["types"], created_since=query.get("since"),
                                             created_until=query.get("until"), token=token)

    def resume(query: dict, progress: dict) -> tuple[dict, int]:
        if not progress.get("mark"):
            return query, int(progress.get("items", 0))
        return {**query, "until": progress["mark"]}, int(progress.get("at_mark", 0))
    return Listing(name, pages, key=lambda rep: rep.report_id, resume=resume, mark=lambda rep: rep.created_time)


def fba_listing(name: str) -> Listing:
    """getInventorySummaries (query: ``marketplace``, optional ``since``). Its token lives 30 seconds: a later run
    lists again and skips the SKUs it had handed on (checked by the last SKU reached)."""
    def pages(ctx: Context, query: dict, token: str):
        return ctx.amazon.fba.summary_pages(marketplace_id=query.get("marketplace"), start_time=query.get("since"),
                                            token=token)
    return Listing(name, pages, key=lambda stock: stock.sku, token_life=timedelta(seconds=30))
