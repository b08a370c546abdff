"""The statement helper handed to work inside a transaction. It never leaves ``sl/``.

``insert`` writes a whole row as SL's own procedures do: every column supplied (several SL tables have
no defaults), CHAR values fitted by ``text.fit``, amounts as floats, dates at SMALLDATETIME precision,
audit columns filled with our program id.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from integration.sl.schema import (
    BIGINT,
    CHAR,
    DATETIME,
    FLOAT,
    INTEGER,
    NOW,
    SMALLDATETIME,
    SMALLINT,
    TABLES,
    TEXT,
    Column,
)
from integration.sl.schema import NO_DATE as NO_DATE_TEXT
from integration.sl.text import NO_CONVERSION, NO_DATE, CodePage, fit, sl_datetime, trim

PROGRAM_ID = "AMZSYNC"   # Crtd_Prog / LUpd_Prog (CHAR(8)) and Crtd_User / LUpd_User (CHAR(10))
AUDIT = ("Crtd_DateTime", "Crtd_Prog", "Crtd_User", "LUpd_DateTime", "LUpd_Prog", "LUpd_User")

_PLANS: dict[tuple[str, str, str], tuple] = {}
_SLOTS: dict[tuple[str, str, tuple[str, ...]], tuple] = {}
_TEMPLATES: dict[tuple[str, str, str], tuple[datetime, list]] = {}
_DATES: dict[str, dict] = {}
# Database type names (SQL Server and PostgreSQL) -> our column types, for columns we did not define.
_TYPE_OF = {"char": CHAR, "character": CHAR, "nchar": CHAR, "varchar": CHAR, "nvarchar": CHAR,
            "character varying": CHAR, "float": FLOAT, "real": FLOAT, "double precision": FLOAT, "money": FLOAT,
            "decimal": FLOAT, "numeric": FLOAT, "smallint": SMALLINT, "tinyint": SMALLINT, "bit": SMALLINT,
            "int": INTEGER, "integer": INTEGER, "bigint": BIGINT, "smalldatetime": SMALLDATETIME,
            "datetime": SMALLDATETIME, "datetime2": SMALLDATETIME, "date": SMALLDATETIME,
            "timestamp without time zone": SMALLDATETIME, "text": TEXT, "ntext": TEXT}
_BLANK = {CHAR: " ", FLOAT: 0, SMALLINT: 0, INTEGER: 0, BIGINT: 0, SMALLDATETIME: NO_DATE_TEXT, DATETIME: NO_DATE_TEXT,
          TEXT: ""}


def q(name: str) -> str:
    return f'"{name}"'


def _filler(slots: list[tuple[int, int, int]]):
    """Straight-line code that puts one row's values into its default row, one statement per column given (a row
    of SOHeader sets ~90 columns; a loop over them cost more than SQLite's own insert). The rules per column kind:
    blank / 0 / None keep SL's default (kind 3, a column whose SL default is not blank or 0: only None does); a CHAR
    that fits and is ASCII is padded (anything else goes through ``_convert``: code page, fitting, notes); floats,
    ints and dates seen before in this engine are set directly; the rest is ``_convert``ed."""
    body = ["def fill(row, vals, dates, conv):"]
    for k, (i, kind, length) in enumerate(slots):
        if i < 0:
            continue   # a column this database does not have
        v = f"vals[{k}]"
        body.append(f"    v = {v}")
        if kind == 0:
            body.append(f"    if v:\n        if type(v) is str and len(v) <= {length} and v.isascii(): row[{i}] = "
                        f"v.ljust({length})\n        else: row[{i}] = conv({i}, v)")
        elif kind == 1:
            body.append(f"    if v: row[{i}] = float(v)")
        elif kind == 3:
            body.append(f"    if v is not None: row[{i}] = conv({i}, v)")
        elif kind == 5:
            body.append(f"    if v: row[{i}] = v if type(v) is int else conv({i}, v)")
        elif kind == 4:
            body.append(f"    if v:\n        d = dates.get((SMALLDATETIME, v))\n        row[{i}] = d if d is not None "
                        f"else conv({i}, v)")
        else:
            body.append(f"    if v: row[{i}] = conv({i}, v)")
    body.append("    return row")
    scope = {"SMALLDATETIME": SMALLDATETIME}
    exec("\n".join(body), scope)   # noqa: S102 - our own generated code from column indexes and kinds only
    return scope["fill"]


def forget_plans() -> None:
    """Drop the cached insert plans (after a table gained columns in this process)."""
    _PLANS.clear()
    _SLOTS.clear()
    _TEMPLATES.clear()


class Rows:
    def __init__(self, conn, dialect, db_key: str = "", codepage: CodePage = NO_CONVERSION):
        self.conn = conn
        self.dialect = dialect
        self.db_key = db_key          # plans are cached per database: a customer's SL may differ from ours
        self.codepage = codepage      # what SL's CHAR and note columns hold (text.CodePage)
        self._cursor = None
        self.notes: list[str] = []   # free text cut or transliterated during this transaction, with the original
        self.now = datetime.now().replace(microsecond=0)   # one audit time per transaction
        # Dates as the database takes them, shared by every transaction on this engine (orders of one day repeat
        # the same few dates); bounded, so a long-running worker does not grow it without end.
        self._dates: dict = _DATES.setdefault(dialect.name, {})
        if len(self._dates) > 20000:
            self._dates.clear()

    def close(self) -> None:
        if self._cursor is not None:
            try:
                self._cursor.close()
            except Exception:  # noqa: BLE001 - a broken connection is reported by the caller
                pass
            self._cursor = None

    @property
    def cursor(self):
        if self._cursor is None:
            self._cursor = self.conn.cursor()
        return self._cursor

    # -- reading ---------------------------------------------------------------------------------
    def execute(self, sql: str, params=()):
        self.cursor.execute(sql, self._params(params))
        return self.cursor

    def all(self, sql: str, params=()) -> list[tuple]:
        cur = self.execute(sql, params)
        return [tuple(trim(v) for v in row) for row in cur.fetchall()]

    def one(self, sql: str, params=()) -> tuple | None:
        cur = self.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        rest = cur.fetchall() if self.dialect.name != "sqlite" else ()
        del rest
        return tuple(trim(v) for v in row)

    def scalar(self, sql: str, params=()):
        row = self.one(sql, params)
        return None if row is None else row[0]

    def dt(self, value) -> datetime:
        return self.dialect.from_db_datetime(value)

    def _params(self, params):
        out = []
        for p in params:
            if isinstance(p, datetime):
                p = self.dialect.to_db_datetime(p)
            elif isinstance(p, Decimal):
                p = float(p)
            out.append(p)
        return out

    # -- writing ---------------------------------------------------------------------------------
    def _plan(self, table: str):
        key = (self.db_key, self.dialect.name, table)
        plan = _PLANS.get(key)
        if plan is None:
            t = TABLES[table]
            cols = [c for c in t.columns if not c.identity]
            live = self._live_columns(table) if self.conn is not None and self.dialect.introspects else None
            if live is not None:
                # The customer's SL version decides (reference: introspect before writing): our columns it
                # lacks are left out; its NOT NULL columns without a default that we do not know (S4Future*,
                # BMI*, ...) get SL's blank / 0 / 1900-01-01, since GLTran, ARDoc and others have no defaults.
                cols = [c for c in cols if c.name.lower() in live]
                known = {c.name.lower() for c in t.columns}
                cols += [Column(name, kind, length, _BLANK[kind]) for low, (name, kind, length, needed) in live.items()
                         if needed and low not in known]
            # The default row is what SL's DEFAULT constraints give a column an insert leaves out; where SL's script
            # has none (GLTran, ARDoc, ...), SL's own blank / 0 / 1900-01-01. Crtd_DateTime (getdate()) is the
            # transaction's audit time, filled in by _template.
            to_db = self.dialect.to_db_datetime
            defaults, special = [], set()
            for c in cols:
                default = _BLANK[c.type] if c.default is None else c.default
                if default != _BLANK[c.type] and default != NOW:
                    special.add(c.name)   # e.g. Inventory.CountStatus 'A', ItemSite.LeadTime 999
                if c.type in (SMALLDATETIME, DATETIME):
                    defaults.append(None if default == NOW else
                                    to_db(NO_DATE if default == NO_DATE_TEXT else datetime.fromisoformat(default)))
                elif c.type == CHAR:
                    defaults.append(str(default).ljust(c.length))
                else:
                    defaults.append(default)
            # kind 3: SL's default is not blank / 0, so a blank or 0 the caller gives is written, not defaulted.
            # kinds 4 (SMALLDATETIME) and 5 (integers) have fast paths in _row; 2 is everything else.
            index = {c.name: (i, 3 if c.name in special else 0 if c.type == CHAR else 1 if c.type == FLOAT else
                              4 if c.type == SMALLDATETIME else 5 if c.type in (SMALLINT, INTEGER, BIGINT) else 2,
                              c.length or 0) for i, c in enumerate(cols)}
            # Values for columns this database does not have are dropped (slot -1).
            index.update({c.name: (-1, -1, 0) for c in t.columns if c.name not in index})
            sql = (f"INSERT INTO {q(table)} ({', '.join(q(c.name) for c in cols)}) "
                   f"VALUES ({', '.join('?' for _ in cols)})")
            plan = (cols, defaults, index, sql)
            _PLANS[key] = plan
        return plan

    def has_table(self, table: str) -> bool:
        """The database holds ``table`` (an SL table the sandbox may not have, e.g. SOSetup)."""
        if self.dialect.name == "sqlite":
            return bool(self.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]))
        return bool(self.scalar("SELECT 1 FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = ?", [table]))

    def _live_columns(self, table: str) -> dict[str, tuple[str, str, int | None, bool]] | None:
        """lower name -> (name, our type, length, must be supplied) as the database has the table."""
        cur = self.conn.cursor()
        try:
            cur.execute(self.dialect.columns_sql(), [table])
            found = cur.fetchall()
        finally:
            cur.close()
        if not found:
            return None
        live = {}
        for name, data_type, length, default, generated in found:
            kind = _TYPE_OF.get(str(data_type).lower())
            needed = default is None and not generated and kind is not None
            live[str(name).lower()] = (str(name), kind or TEXT, int(length) if length else None, needed)
        return live

    def _convert(self, table: str, col, value):
        if col.type == CHAR:
            if type(value) is str and len(value) <= col.length and value.isascii():   # the common case, kept cheap
                return value.ljust(col.length)
            return fit(table, col.name, value, col.length, self.notes, self.codepage)
        if col.type == FLOAT:
            return float(value or 0)
        if col.type in (SMALLDATETIME, DATETIME):
            cached = self._dates.get((col.type, value))
            if cached is None:
                if col.type == SMALLDATETIME:
                    dt = sl_datetime(value)
                else:
                    dt = (value or NO_DATE).replace(microsecond=0)
                cached = self._dates[(col.type, value)] = self.dialect.to_db_datetime(dt)
            return cached
        if col.type == TEXT:
            value = "" if value is None else str(value)
            if value.isascii() or TABLES[table].custom:   # our xAMZ TEXT columns are Unicode (NVARCHAR) everywhere
                return value
            # SL's note text (Snote.sNoteText) is in the code page too, and it is where originals are kept: a
            # character the code page lacks is written as a character reference (&#321;), never lost.
            return self.codepage.convert(value, note=True)
        return int(value or 0)

    def _template(self, table: str) -> list:
        """The table's default row with this transaction's audit values filled in (shared while the
        audit time is the same second)."""
        key = (self.db_key, self.dialect.name, table)
        cached = _TEMPLATES.get(key)
        if cached is not None and cached[0] == self.now:
            return cached[1]
        cols, defaults, index, _ = self._plan(table)
        row = list(defaults)
        audit = {"Crtd_DateTime": self.now, "Crtd_Prog": PROGRAM_ID, "Crtd_User": PROGRAM_ID,
                 "LUpd_DateTime": self.now, "LUpd_Prog": PROGRAM_ID, "LUpd_User": PROGRAM_ID}
        for name, value in audit.items():
            if name in index and index[name][0] >= 0:
                i = index[name][0]
                row[i] = self._convert(table, cols[i], value)
        _TEMPLATES[key] = (self.now, row)
        return row

    def _row(self, table: str, values: dict) -> list:
        cols, _, index, _ = self._plan(table)
        row = list(self._template(table))
        names = tuple(values)
        fill = _SLOTS.get((self.db_key, self.dialect.name, table, names))
        if fill is None:
            missing = [n for n in names if n not in index]
            if missing:
                raise KeyError(f"{table} has no column {', '.join(missing)}")
            fill = _SLOTS[(self.db_key, self.dialect.name, table, names)] = _filler([index[n] for n in names])
        fill(row, tuple(values.values()), self._dates, lambda i, v: self._convert(table, cols[i], v))
        return row

    def insert(self, table: str, values: dict) -> None:
        self.cursor.execute(self._plan(table)[3], self._row(table, values))

    def insert_many(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        self.cursor.executemany(self._plan(table)[3], [self._row(table, r) for r in rows])

    def insert_returning(self, table: str, values: dict, id_col: str) -> int:
        cols, _, _, _ = self._plan(table)
        row = self._row(table, values)
        sql = self.dialect.insert_returning(table, [c.name for c in cols], id_col)
        cur = self.cursor
        cur.execute(sql, row)
        new_id = cur.fetchone()[0]
        if self.dialect.name != "sqlite":
            while cur.nextset():
                pass
        return int(new_id)

    def update(self, table: str, values: dict, where: dict) -> int:
        """UPDATE with fitted values and the LUpd_* audit columns; returns the number of rows changed."""
        t = TABLES[table]
        values = dict(values)
        if "LUpd_DateTime" in t.by_name:
            values.update(LUpd_DateTime=self.now, LUpd_Prog=PROGRAM_ID, LUpd_User=PROGRAM_ID)
        sets = ", ".join(f"{q(k)} = ?" for k in values)
        cond = " AND ".join(f"{q(k)} = ?" for k in where)
        params = [self._convert(table, t.column(k), v) for k, v in values.items()] + list(where.values())
        cur = self.execute(f"UPDATE {q(table)} SET {sets} WHERE {cond}", params)
        return cur.rowcount

    def lock(self, table: str, columns: list[str], where: dict, *, hold: bool = False) -> tuple | None:
        """Read one row and hold a lock on it until the transaction ends (the counter pattern).

        SQLite: the whole transaction already holds the write lock (BEGIN IMMEDIATE); PostgreSQL:
        ``SELECT ... FOR UPDATE``; SQL Server: ``WITH (UPDLOCK, ROWLOCK)`` as ``DMG_NextOrdNbr`` does, or with
        ``hold`` ``WITH (UPDLOCK, HOLDLOCK)``, which also keeps a missing row's key range locked.
        """
        cond = " AND ".join(f"{q(k)} = ?" for k in where)
        sql = (f"SELECT {', '.join(q(c) for c in columns)} FROM {q(table)}{self.dialect.table_hint(hold)} "
               f"WHERE {cond}{self.dialect.lock_suffix()}")
        return self.one(sql, list(where.values()))
