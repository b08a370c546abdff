"""Paginated Amazon listings that resume where they stopped, whatever stopped them.

A listing of many pages outlasts one run: searchOrders allows one page every 180 s after a burst of 20, so a
window of 200 pages takes ten hours. ``walk`` keeps the listing's progress in SL (``xAMZCursor.State``) after
every page it has handed on: the query, Amazon's token for the next page and when Amazon issued it, the items
passed, the last key and timestamp reached, and what the caller keeps with it (``extra``). A run stopped by the
rate limit (or killed) resumes from there; no run starts again at page 1.

How a listing resumes depends on its API (``Listing``):

- **from the timestamp reached** (``keyset``), for listings sorted by a timestamp they can also filter on
  (searchOrders by ``lastUpdatedAfter``; getReports, newest first, by ``createdUntil``): every page is asked for
  from the timestamp the previous one reached (less a second of slack, the keys already handed on in that second
  skipped). Nothing is skipped when the list changes while it is read: an order updated mid-sweep leaves the
  window instead of shifting every later order one place up under an offset-based token (reproduced against the
  simulator: 19 of 5,000 orders never seen). The query and its token are still kept; a page that brings nothing
  new (more orders in one second than a page holds) follows Amazon's token instead.
- **token kept** while Amazon says it lives (getInventorySummaries within a run; its token lives 30 s), then
- **re-query and skip what was done**: the same query from the start, its first items (as many as were passed)
  skipped if the last of them is the key reached, handed on again otherwise (the list changed; every consumer
  is idempotent).
- A kept token that Amazon refuses anyway (400) falls back to the re-query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from integration.amazon.orders import amazon_time
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
    mark: Callable[[object], str] | None = None      # an item's timestamp (ISO 8601), for the keyset rule
    # (query, timestamp reached) -> the query for the rest of the list, one second of slack included
    keyset: Callable[[dict, str], dict] | None = None
    newest_first: bool = False                       # the listing's order by ``mark``


@dataclass
class Walk:
    done: bool                     # the last page was handed on (the progress is cleared)
    pages: int                     # pages read in this run
    items: int                     # items handed on in this run
    extra: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    retry_after: float = 0.0       # when not done: the earliest a next run can get a page
    resumed: str = ""              # "", "keyset", "token" or "requery": how this run picked up
    total_pages: int = 0           # pages read for this query over all its runs


def is_rate_pause(exc: Transient) -> bool:
    """No token in our fleet bucket, or Amazon's 429: the listing waits its turn, nothing failed."""
    return bool(exc.details.get("throttled")) or exc.details.get("status") == 429


def walk(ctx: Context, listing: Listing, new_query: Callable[[], dict],
         on_page: Callable[[list, dict], None], *, max_pages: int | None = None,
         finish: Callable[[dict], None] | None = None) -> Walk:
    """Hand every item of the listing to ``on_page(items, extra)``, page by page, across runs.

    ``new_query()`` is called only when no listing is in progress. ``extra`` is the caller's own dict, saved with
    the progress (e.g. the earliest order queued). A rate pause returns ``Walk(done=False, retry_after=...)``;
    any other error goes up with the progress saved up to the last page handed on. ``finish(progress)``, when
    given, must clear the progress itself, in the transaction that records what the finished listing means
    (the sweep's watermark), so a crash between the two cannot lose either.
    """
    progress = _valid(ctx, listing, ctx.sl.get_progress(listing.name))
    resumed, skip, token = "", 0, ""
    if progress:
        token = progress.get("token", "") if _token_alive(ctx, listing, progress) else ""
        if progress.get("pages"):
            if listing.keyset and progress.get("mark") and not token:
                resumed = "keyset"
            elif token:
                resumed = "token"
            else:
                resumed, skip = "requery", int(progress.get("items", 0))
                progress["items"] = 0
    else:
        progress = {"query": new_query(), "token": "", "token_at": "", "pages": 0, "items": 0, "last_key": "",
                    "mark": "", "recent": {}, "block": "", "extra": {}}
    query = progress["query"]
    result = Walk(False, 0, 0, progress["extra"], query, resumed=resumed)
    skipped: list = []
    listing_pages = None
    while True:
        if listing.keyset and not token and progress.get("mark"):
            listing_pages = None           # a fresh query from the timestamp reached
        if listing_pages is None:
            q = listing.keyset(query, progress["mark"]) if listing.keyset and progress.get("mark") else query
            listing_pages = listing.pages(ctx, q, token)
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
                ctx.sl.set_progress(listing.name, {**progress, "token": "", "token_at": ""})
                return walk(ctx, listing, new_query, on_page, max_pages=max_pages, finish=finish)
            raise
        batch = [i for i in page.items if listing.key(i) not in progress["recent"]] if listing.keyset \
            else list(page.items)
        if skip:
            batch, skip = _skip(batch, skip, progress.get("last_key", ""), listing.key, skipped)
        if not page.next_token and skip and skipped:
            batch = skipped + batch    # the list shrank under us: hand on again what could not be proved done
        if batch:
            on_page(batch, progress["extra"])
            _note_reached(progress, listing, batch)
        token = _next_token(progress, listing, page, batch) if listing.keyset else page.next_token
        progress.update(token=token, token_at=_now(ctx) if token else "", pages=progress["pages"] + 1,
                        items=progress["items"] + len(page.items))
        result.pages, result.items = result.pages + 1, result.items + len(batch)
        result.total_pages = progress["pages"]
        if not page.next_token:
            break
        ctx.sl.set_progress(listing.name, progress)
        if max_pages is not None and result.pages >= max_pages:
            return result
    if finish is None:
        ctx.sl.set_progress(listing.name, None)
    else:
        finish(progress)
    result.done = True
    return result


def _next_token(progress: dict, listing: Listing, page, batch: list) -> str:
    """Keyset listings: ask afresh from the timestamp reached, except through a block of more items in one second
    than a page holds. There Amazon's token is followed until the list leaves that second; the block's second is
    noted (``extra["_token_blocks"]``): an offset-based token can skip an item when another leaves the block while
    it is read, so the caller reads that second once more (the orders sweep starts its next window there)."""
    block = progress.get("block", "")
    if block:
        last = listing.mark(page.items[-1]) if page.items else ""
        if not page.next_token or (last and _beyond(listing, last, block)):
            block = ""
    elif not batch and page.next_token:
        block = progress["mark"]
        blocks = progress["extra"].setdefault("_token_blocks", [])
        if block not in blocks:
            blocks.append(block)
    progress["block"] = block
    return page.next_token if block else ""


def _beyond(listing: Listing, mark: str, block: str) -> bool:
    later = parse_amazon_time(mark) > parse_amazon_time(block)
    return not later if listing.newest_first else later


REQUIRED = ("query", "pages", "items", "extra")


def _valid(ctx: Context, listing: Listing, progress) -> dict | None:
    """Saved progress that cannot be used (unreadable, or from another version) is dropped with a warning and
    the listing starts afresh: a sweep's watermark has not moved, so nothing is lost, only re-read."""
    if progress is None or (isinstance(progress, dict) and all(k in progress for k in REQUIRED)):
        if progress is not None:
            progress.setdefault("recent", {})
            progress.setdefault("block", "")
            progress.setdefault("mark", "")
        return progress
    log.warning("%s: saved listing progress is unusable, starting the listing afresh: %.200r", listing.name, progress)
    ctx.sl.set_progress(listing.name, None)
    return None


def _note_reached(progress: dict, listing: Listing, batch: list) -> None:
    progress["last_key"] = listing.key(batch[-1])
    if listing.mark is None:
        return
    recent = progress["recent"]
    for item in batch:
        recent[listing.key(item)] = listing.mark(item)
    progress["mark"] = listing.mark(batch[-1])
    reached = parse_amazon_time(progress["mark"])
    # keep the keys of the last two seconds: the next query starts a second before the mark
    progress["recent"] = {k: m for k, m in recent.items() if abs((parse_amazon_time(m) - reached).total_seconds()) <= 2}


def _skip(batch: list, skip: int, last_key: str, key, skipped: list) -> tuple[list, int]:
    """Drop the first ``skip`` items (passed in an earlier run); when the last one dropped is not the key reached
    then, the list changed since: give back everything dropped, to be handed on again."""
    take = min(skip, len(batch))
    skipped.extend(batch[:take])
    rest, skip = batch[take:], skip - take
    if skip == 0:
        if skipped and key(skipped[-1]) != last_key:
            rest = skipped + rest
        skipped.clear()
    return rest, skip


def _token_alive(ctx: Context, listing: Listing, progress: dict) -> bool:
    if not progress.get("token") or listing.token_life is None or not progress.get("token_at"):
        return False
    issued = parse_amazon_time(progress["token_at"])   # Amazon's clock read afresh: no quota spent
    return ctx.amazon.server_now(fresh=True) - issued < listing.token_life * TOKEN_MARGIN


def _now(ctx: Context) -> str:
    now: datetime = ctx.amazon.server_now()
    return now.isoformat(timespec="seconds")


def _shift(stamp: str, seconds: int) -> str:
    return amazon_time(parse_amazon_time(stamp) + timedelta(seconds=seconds))


# -- the listings the product reads ------------------------------------------------------------------------
def orders_listing(name: str) -> Listing:
    """searchOrders over a last-updated window (query: ``after``, ``before``), oldest update first; each page
    asked for from the last update reached (``lastUpdatedAfter``), so an order changed mid-sweep (it leaves the
    window, and the next window finds it) never shifts another one out of sight."""
    def pages(ctx: Context, query: dict, token: str):
        return ctx.amazon.orders.search_pages(last_updated_after=query["after"], last_updated_before=query["before"],
                                              token=token)
    return Listing(name, pages, key=lambda o: o["orderId"], token_life=timedelta(hours=24),
                   mark=lambda o: o["lastUpdatedTime"],
                   keyset=lambda query, mark: {**query, "after": max(query["after"], _shift(mark, -1))})


def reports_listing(name: str) -> Listing:
    """getReports, newest first (query: ``types``, ``since``, optional ``until``, ``page_size``); each page asked for up to the
    creation time reached (``createdUntil``). Its token's life is not documented, so it is never kept across runs."""
    def pages(ctx: Context, query: dict, token: str):
        return ctx.amazon.reports.list_pages(query["types"], created_since=query.get("since"),
                                             created_until=query.get("until"), page_size=query.get("page_size", 100),
                                             token=token)
    return Listing(name, pages, key=lambda rep: rep.report_id, mark=lambda rep: rep.created_time, newest_first=True,
                   keyset=lambda query, mark: {**query, "until": min(filter(None, (query.get("until"),
                                                                                   _shift(mark, 1))))})


def fba_listing(name: str) -> Listing:
    """getInventorySummaries (query: ``marketplace``, optional ``since``). Its token lives 30 seconds: a later run
    lists again and skips the SKUs it had handed on (checked by the last SKU reached)."""
    def pages(ctx: Context, query: dict, token: str):
        return ctx.amazon.fba.summary_pages(marketplace_id=query.get("marketplace"), start_time=query.get("since"),
                                            token=token)
    return Listing(name, pages, key=lambda stock: stock.sku, token_life=timedelta(seconds=30))
