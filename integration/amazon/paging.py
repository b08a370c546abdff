"""One page of a paginated SP-API listing, and the iterator every listing method is built on.

Listings hand out pages (``Page``: the items and Amazon's token for the next page) so that a caller can keep
its place between runs: a sweep stopped by the rate limit saves the token with what it has done and resumes
from it, instead of starting again at page 1 (``integration.sync.paging``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    items: list = field(default_factory=list)
    next_token: str = ""      # empty on the last page


def pages(fetch: Callable[[str], tuple[list, str]], token: str = "") -> Iterator[Page]:
    """``fetch(token) -> (items, next token)``, page after page from ``token`` ('' = the first page)."""
    while True:
        items, token = fetch(token)
        yield Page(items, token or "")
        if not token:
            return


def items(listing: Iterator[Page]) -> Iterator:
    for page in listing:
        yield from page.items
