"""Reports 2021-06-30: request, list, poll, and download documents (settlements are listed, never requested)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from integration.amazon import ids, roles
from integration.amazon.documents import DownloadedFile, download
from integration.amazon.orders import amazon_time
from integration.amazon.paging import Page, items, pages

BASE = "/reports/2021-06-30"
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
MARKET_ENCODING = {"A1VC38T7YXB528": "cp932"}  # JP flat files are MS932; EU ones Cp1252 (fallback anyway)


@dataclass(frozen=True)
class Report:
    report_id: str
    report_type: str
    status: str
    document_id: str | None
    created_time: str
    data_start: str | None
    data_end: str | None
    marketplace_ids: tuple[str, ...]

    @classmethod
    def of(cls, body: dict) -> Report:
        return cls(body["reportId"], body["reportType"], body["processingStatus"], body.get("reportDocumentId"),
                   body["createdTime"], body.get("dataStartTime"), body.get("dataEndTime"),
                   tuple(body.get("marketplaceIds", ())))

    @property
    def finished(self) -> bool:
        return self.status in ("DONE", "CANCELLED", "FATAL")

    @property
    def no_data(self) -> bool:
        """Amazon cancelled the report because it had nothing to return: "CANCELLED ... an automatic cancellation if
        there is no data to return" (reports_2021-06-30.json ProcessingStatus, sp-api.md §4.4). The product never
        cancels a report itself, so every CANCELLED report it requested is this one: an empty result, not an error."""
        return self.status == "CANCELLED"


@dataclass(frozen=True)
class ReportDocument:
    document_id: str
    url: str
    compression: str | None


class Reports:
    def __init__(self, transport, marketplace_ids: tuple[str, ...], download_timeout: float = 120.0):
        self.t, self.marketplace_ids, self.download_timeout = transport, marketplace_ids, download_timeout

    def create(self, report_type: str, *, marketplace_ids=None, start=None, end=None,
               options: dict | None = None) -> str:
        body: dict = {"reportType": report_type, "marketplaceIds": list(marketplace_ids or self.marketplace_ids)}
        if start is not None:
            body["dataStartTime"] = amazon_time(start)
        if end is not None:
            body["dataEndTime"] = amazon_time(end)
        if options:
            body["reportOptions"] = options
        return self.t.call("createReport", "POST", f"{BASE}/reports", body=body, shape=("reportId",),
                           role=roles.for_report_type(report_type)).body["reportId"]

    def list(self, types: Iterable[str], **filters) -> Iterator[Report]:
        """Reports newest first (every page fetched as you iterate)."""
        return items(self.list_pages(types, **filters))

    def list_pages(self, types: Iterable[str], *, statuses: Iterable[str] = (), created_since=None,
                   created_until=None, marketplace_ids: Iterable[str] = (), page_size: int = 100,
                   token: str = "") -> Iterator[Page]:
        """getReports page by page, newest first; ``nextToken`` is sent alone, as Amazon requires [§10]. Its
        lifetime is not documented, so a caller resuming later re-queries with ``created_until`` instead."""
        types = list(types)
        params: dict = {"reportTypes": ",".join(types), "pageSize": page_size}
        role = next((r for r in map(roles.for_report_type, types) if r), None)   # Amazon checks each type's role
        if statuses:
            params["processingStatuses"] = ",".join(statuses)
        if created_since is not None:
            params["createdSince"] = amazon_time(created_since)
        if created_until is not None:
            params["createdUntil"] = amazon_time(created_until)
        if marketplace_ids:
            params["marketplaceIds"] = ",".join(marketplace_ids)

        def fetch(token: str) -> tuple[list, str]:
            body = self.t.call("getReports", "GET", f"{BASE}/reports", params={"nextToken": token} if token else params,
                               shape=("reports",), role=role).body
            return [Report.of(row) for row in body["reports"]], body.get("nextToken", "")
        return pages(fetch, token)

    def get(self, report_id: str, *, report_type: str | None = None) -> Report:
        """getReport; ``report_type`` (what the caller requested) names the right role if Amazon refuses it."""
        path = f"{BASE}/reports/{ids.segment(ids.report_id(report_id))}"   # checked before any call (ids.py)
        return Report.of(self.t.call("getReport", "GET", path,
                                     shape=("reportId", "reportType", "processingStatus", "createdTime"),
                                     role=roles.for_report_type(report_type or "")).body)

    def document(self, document_id: str, *, report_type: str | None = None) -> ReportDocument:
        path = f"{BASE}/documents/{ids.segment(ids.document_id(document_id))}"   # checked before any call
        body = self.t.call("getReportDocument", "GET", path,
                           shape=("reportDocumentId", "url"), role=roles.for_report_type(report_type or "")).body
        return ReportDocument(body["reportDocumentId"], body["url"], body.get("compressionAlgorithm"))

    def download(self, document_id: str, *, report_type: str | None = None,
                 encoding_hint: str | None = None, directory: str | None = None) -> DownloadedFile:
        """getReportDocument, then the file itself (the URL lives 5 minutes, so it is fetched right before).
        Amazon checks the role of the report's type: ``report_type`` lets a refusal name it. ``directory``: where
        the file is written (default: the temporary folder)."""
        doc = self.document(document_id, report_type=report_type)
        hint = encoding_hint or MARKET_ENCODING.get(self.marketplace_ids[0])
        return download(self.t.session, doc.url, compression=doc.compression, timeout=self.download_timeout,
                        encoding_hint=hint, directory=directory)
