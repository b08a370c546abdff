"""Our durable state in the SL database (DESIGN §4): bindings, holds, cursors and the event trail.

Each function takes the open transaction (``Rows``), so the state is written in the same transaction
as the SL document it describes.
"""

from __future__ import annotations

import json
from datetime import datetime

from integration.fence import Fence
from integration.sl.models import Event, Hold, OrderBinding, SettlementBinding
from integration.sl.rows import Rows

HOLD_STATUSES = ("OPEN", "RELEASED", "RESOLVED", "DISCARDED", "DISMISSED")
# xAMZShipment statuses after which a shipper needs nothing more (SENDING / FAILED are retried).
SETTLED_SHIPMENT = ("PUSHED", "SKIPPED_AFN", "NOT_AMAZON")


def _json(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)


# -- fencing (DESIGN §5) -----------------------------------------------------------------------------
# The binding table of each fenced entity and the columns that name one row of it.
BINDINGS = {"order": ("xAMZOrder", ("AmazonOrderId",)), "shipper": ("xAMZShipment", ("CpnyID", "ShipperID")),
            "stock": ("xAMZStock", ("SKU", "SiteGroup")), "settlement": ("xAMZSettlement", ("SettlementId",))}
FENCE_EPOCH = "fence.epoch"


def lock_binding(rows: Rows, entity: str, where: dict, fence: Fence | None) -> tuple | None:
    """Lock the entity's binding row (or, on SQL Server, its key range when it does not exist yet) and check
    the writer's fence against it; the row's (Fence, FenceOwner), or None when there is no binding yet.
    Raises ``Superseded`` for a stale holder. Call it first in the transaction, before reading anything
    the decision depends on.

    With no binding yet, the entity's ``xAMZFence`` row stands in for it and is stamped: a newer holder that
    decided to write nothing (a cancelled order skipped, a hold, "wait") still fences out an older holder
    that would create the order from what it read before."""
    table, _ = BINDINGS[entity]
    row = rows.lock(table, ["Fence", "FenceOwner"], where, hold=True)
    if fence is None:
        return row
    if row is not None:
        fence.check(*row)
        return row
    key = {"Entity": entity, "EntityKey": fence.key}
    stand_in = rows.lock("xAMZFence", ["Fence", "FenceOwner"], key, hold=True)
    fence.check(*(stand_in or (None, None)))
    if stand_in is None:
        rows.insert("xAMZFence", {**key, **fence_values(fence)})
    elif (int(stand_in[0] or 0), (stand_in[1] or "").strip()) != (fence.number, fence.owner):
        rows.update("xAMZFence", fence_values(fence), key)
    return None


def fence_values(fence: Fence | None) -> dict:
    """The columns a fenced write stamps on its binding row."""
    return {"Fence": fence.number, "FenceOwner": fence.owner} if fence is not None else {}


def next_fence_epoch(rows: Rows) -> int:
    """SL's fencing epoch, one up (Redis lost its copy; every number from now on is above the old ones)."""
    row = rows.lock("xAMZCursor", ["Value"], {"Name": FENCE_EPOCH}, hold=True)
    epoch = (int(row[0] or 0) if row else 0) + 1
    set_cursor(rows, FENCE_EPOCH, str(epoch))
    return epoch


# -- orders ----------------------------------------------------------------------------------------
# xAMZOrder.Status of an order that was history at go-live (shipped or cancelled before it): bound to no SL document.
HISTORY = "HISTORY"
_ORDER_COLS = ('"AmazonOrderId", "LastUpdated", "PayloadHash", "AmazonStatus", "OrdNbr", "CpnyID", "Status", '
               '"InvcRefNbr", "CMRefNbr", "Fence", "ShippedAt", "ShipperID", "INBatNbr", "OriginalOrderId"')


def get_order_binding(rows: Rows, amazon_order_id: str) -> OrderBinding | None:
    row = rows.one(f'SELECT {_ORDER_COLS} FROM "xAMZOrder" WHERE "AmazonOrderId" = ?', [amazon_order_id])
    return OrderBinding(*row) if row else None


def find_order_binding(rows: Rows, cpny_id: str, ord_nbr: str) -> OrderBinding | None:
    row = rows.one(f'SELECT {_ORDER_COLS} FROM "xAMZOrder" WHERE "CpnyID" = ? AND "OrdNbr" = ?', [cpny_id, ord_nbr])
    return OrderBinding(*row) if row else None


def order_bindings(rows: Rows, sl_status: str | None = None, limit: int = 10000) -> list[OrderBinding]:
    sql = f'SELECT {_ORDER_COLS} FROM "xAMZOrder"' + (' WHERE "Status" = ?' if sl_status else "")
    found = rows.all(sql + ' ORDER BY "OrdNbr"', [sl_status] if sl_status else [])
    return [OrderBinding(*row) for row in found[:limit]]


def order_counts(rows: Rows) -> dict[str, int]:
    return {(status or "").strip(): int(n) for status, n in
            rows.all('SELECT "Status", COUNT(*) FROM "xAMZOrder" GROUP BY "Status"')}


def insert_order_binding(rows: Rows, b: OrderBinding, fence: Fence | None = None) -> None:
    rows.insert("xAMZOrder", {
        "AmazonOrderId": b.amazon_order_id, "CpnyID": b.cpny_id, "OrdNbr": b.ord_nbr,
        "AmazonStatus": b.status, "LastUpdated": b.last_updated, "PayloadHash": b.payload_hash,
        "Status": b.sl_status or "OPEN", "InvcRefNbr": b.invc_ref_nbr, "CMRefNbr": b.cm_ref_nbr,
        "ShippedAt": b.shipped_at, "ShipperID": b.shipper_id, "INBatNbr": b.in_bat_nbr,
        "OriginalOrderId": b.original_order_id, **fence_values(fence),
    })


def update_order_binding(rows: Rows, amazon_order_id: str, fence: Fence | None = None, **changes) -> int:
    names = {"last_updated": "LastUpdated", "payload_hash": "PayloadHash", "status": "AmazonStatus",
             "sl_status": "Status", "invc_ref_nbr": "InvcRefNbr", "cm_ref_nbr": "CMRefNbr",
             "shipped_at": "ShippedAt", "shipper_id": "ShipperID", "in_bat_nbr": "INBatNbr",
             "original_order_id": "OriginalOrderId"}
    values = {names[k]: v for k, v in changes.items() if v is not None}
    if not values:
        return 0
    return rows.update("xAMZOrder", {**values, **fence_values(fence)}, {"AmazonOrderId": amazon_order_id})


# -- AR documents per Amazon event ----------------------------------------------------------------------
def document_for(rows: Rows, amazon_order_id: str, doc_type: str, event_key: str) -> str | None:
    """The RefNbr of the AR document already written for this order and event, if any."""
    return rows.scalar('SELECT "RefNbr" FROM "xAMZDocument" WHERE "AmazonOrderId" = ? AND "DocType" = ? '
                       'AND "EventKey" = ?', [amazon_order_id, doc_type, event_key])


def record_document(rows: Rows, amazon_order_id: str, doc_type: str, event_key: str, *, cpny_id: str, ord_nbr: str,
                    ref_nbr: str, bat_nbr: str, amount, task_id: str = "") -> None:
    """One row per AR document: its key (order, type, event) refuses a second document for the same event."""
    rows.insert("xAMZDocument", {
        "AmazonOrderId": amazon_order_id, "DocType": doc_type, "EventKey": event_key, "CpnyID": cpny_id,
        "OrdNbr": ord_nbr, "RefNbr": ref_nbr, "BatNbr": bat_nbr, "Amount": amount, "CreatedAt": datetime.now(),
        "TaskId": task_id})


# -- shipments ---------------------------------------------------------------------------------------
def get_shipment_binding(rows: Rows, cpny_id: str, shipper_id: str) -> dict | None:
    row = rows.one('SELECT "OrdNbr", "AmazonOrderId", "Status", "Attempts", "PushedAt", "Response" '
                   'FROM "xAMZShipment" WHERE "CpnyID" = ? AND "ShipperID" = ?', [cpny_id, shipper_id])
    if row is None:
        return None
    keys = ("ord_nbr", "amazon_order_id", "status", "attempts", "pushed_at", "response")
    return dict(zip(keys, row, strict=True))


def bind_shipment(rows: Rows, cpny_id: str, shipper_id: str, *, ord_nbr: str, amazon_order_id: str,
                  status: str, response: dict | str = "", fence: Fence | None = None) -> None:
    now = datetime.now()
    where = {"CpnyID": cpny_id, "ShipperID": shipper_id}
    lock_binding(rows, "shipper", where, fence)
    existing = get_shipment_binding(rows, cpny_id, shipper_id)
    values = {"OrdNbr": ord_nbr, "AmazonOrderId": amazon_order_id, "Status": status,
              "Response": _json(response), "PushedAt": now if status == "PUSHED" else None, **fence_values(fence)}
    if existing is None:
        rows.insert("xAMZShipment", {**where, **values, "Attempts": 1})
    else:
        rows.update("xAMZShipment", {**values, "Attempts": int(existing["attempts"] or 0) + 1}, where)


# -- stock ----------------------------------------------------------------------------------------------
def record_stock_sent(rows: Rows, sku: str, site_group: str, invt_id: str, qty: float, feed_id: str,
                      fence: Fence | None = None) -> None:
    where = {"SKU": sku, "SiteGroup": site_group}
    lock_binding(rows, "stock", where, fence)
    values = {"InvtID": invt_id, "Qty": qty, "FeedId": feed_id, "SentAt": datetime.now(), **fence_values(fence)}
    if rows.update("xAMZStock", values, where) == 0:
        rows.insert("xAMZStock", {**where, **values})


def last_stock_sent(rows: Rows, sku: str, site_group: str) -> float | None:
    return rows.scalar('SELECT "Qty" FROM "xAMZStock" WHERE "SKU" = ? AND "SiteGroup" = ?', [sku, site_group])


# -- settlements ------------------------------------------------------------------------------------------
def get_settlement_binding(rows: Rows, settlement_id: str) -> SettlementBinding | None:
    row = rows.one('SELECT "SettlementId", "FileChecksum", "TotalAmt", "BatNbr", "Status" FROM "xAMZSettlement" '
                   'WHERE "SettlementId" = ?', [settlement_id])
    return SettlementBinding(*row) if row else None


# -- holds ------------------------------------------------------------------------------------------------
_HOLD_COLS = ('"HoldId", "Entity", "EntityKey", "Reason", "Message", "Payload", "Status", "Note", "CreatedAt", '
              '"UpdatedAt"')


def _hold(rows: Rows, row) -> Hold:
    payload = json.loads(row[5]) if row[5] else {}
    return Hold(int(row[0]), row[1], row[2], row[3], row[4], payload, row[6], row[7], rows.dt(row[8]),
                rows.dt(row[9]))


def create_hold(rows: Rows, entity: str, key: str, reason: str, message: str, payload=None) -> int:
    now = datetime.now()
    return rows.insert_returning("xAMZHold", {
        "Entity": entity, "EntityKey": key, "Reason": reason, "Message": message,
        "Payload": _json(payload or {}), "Status": "OPEN", "CreatedAt": now, "UpdatedAt": now,
    }, "HoldId")


def open_hold_for(rows: Rows, entity: str, key: str, reason: str) -> int | None:
    return rows.scalar('SELECT "HoldId" FROM "xAMZHold" WHERE "Entity" = ? AND "EntityKey" = ? AND "Reason" = ? '
                       'AND "Status" = ?', [entity, key, reason, "OPEN"])


def list_holds(rows: Rows, reason: str | None = None, status: str | None = "OPEN", entity: str | None = None,
               limit: int = 500) -> list[Hold]:
    cond, params = [], []
    for col, value in (("Reason", reason), ("Status", status), ("Entity", entity)):
        if value:
            cond.append(f'"{col}" = ?')
            params.append(value)
    where = (" WHERE " + " AND ".join(cond)) if cond else ""
    found = rows.all(f'SELECT {_HOLD_COLS} FROM "xAMZHold"{where} ORDER BY "HoldId"', params)
    return [_hold(rows, r) for r in found[:limit]]


def get_hold(rows: Rows, hold_id: int) -> Hold | None:
    row = rows.one(f'SELECT {_HOLD_COLS} FROM "xAMZHold" WHERE "HoldId" = ?', [int(hold_id)])
    return _hold(rows, row) if row else None


CLOSED_HOLDS = tuple(s for s in HOLD_STATUSES if s != "OPEN")


def purge_holds(rows: Rows, closed_before: datetime, *, dry_run: bool = False) -> int:
    """Delete the closed holds last changed before ``closed_before`` (open ones never); how many (would) go."""
    where = (f'"Status" IN ({", ".join("?" for _ in CLOSED_HOLDS)}) AND "UpdatedAt" < ?')
    params = [*CLOSED_HOLDS, closed_before]
    count = int(rows.scalar(f'SELECT COUNT(*) FROM "xAMZHold" WHERE {where}', params) or 0)
    if count and not dry_run:
        rows.execute(f'DELETE FROM "xAMZHold" WHERE {where}', params)
    return count


def set_hold_status(rows: Rows, hold_id: int, status: str, note: str = "") -> bool:
    if status not in HOLD_STATUSES:
        raise ValueError(f"hold status must be one of {', '.join(HOLD_STATUSES)}")
    return rows.update("xAMZHold", {"Status": status, "Note": note, "UpdatedAt": datetime.now()},
                       {"HoldId": int(hold_id)}) > 0


# -- cursors and events -----------------------------------------------------------------------------------
def get_cursor(rows: Rows, name: str) -> str | None:
    return rows.scalar('SELECT "Value" FROM "xAMZCursor" WHERE "Name" = ?', [name])


def set_cursor(rows: Rows, name: str, value: str) -> None:
    values = {"Value": value, "UpdatedAt": datetime.now()}
    if rows.update("xAMZCursor", values, {"Name": name}) == 0:
        rows.insert("xAMZCursor", {"Name": name, **values})


def get_progress(rows: Rows, name: str) -> dict | None:
    """A listing's saved progress (JSON in xAMZCursor.State), or None."""
    text = rows.scalar('SELECT "State" FROM "xAMZCursor" WHERE "Name" = ?', [name])
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"unreadable": text[:200]}   # the caller decides (integration.sync.paging drops it, with a warning)


def set_progress(rows: Rows, name: str, progress: dict | None) -> None:
    values = {"State": _json(progress) if progress is not None else "", "UpdatedAt": datetime.now()}
    if rows.update("xAMZCursor", values, {"Name": name}) == 0:
        rows.insert("xAMZCursor", {"Name": name, **values})


def record_event(rows: Rows, event: Event) -> None:
    rows.insert("xAMZEvent", {"At": datetime.now(), "Entity": event.entity, "EntityKey": event.key,
                              "Action": event.action, "TaskId": event.task_id, "Detail": _json(event.detail)})


def events_for(rows: Rows, entity: str, key: str) -> list[Event]:
    found = rows.all('SELECT "Entity", "EntityKey", "Action", "TaskId", "Detail" FROM "xAMZEvent" '
                     'WHERE "Entity" = ? AND "EntityKey" = ? ORDER BY "EventId"', [entity, key])
    return [Event(*r) for r in found]


def events_by_action(rows: Rows, entity: str, action: str, limit: int = 10000) -> list[Event]:
    """The latest ``limit`` events of one action on an entity kind, oldest first (e.g. every settlement file)."""
    found = rows.all('SELECT "Entity", "EntityKey", "Action", "TaskId", "Detail" FROM "xAMZEvent" '
                     'WHERE "Entity" = ? AND "Action" = ? ORDER BY "EventId" DESC', [entity, action])
    return [Event(*r) for r in found[:limit]][::-1]
