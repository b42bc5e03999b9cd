"""Column types that behave the same on SQLite and MySQL/MariaDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Numeric, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stored as naive UTC (both backends), returned timezone-aware.

    MySQL DATETIME has no zone and SQLite has no date type at all; normalising on write means a
    row written from a machine in any zone sorts and compares correctly. Microseconds are kept
    (DATETIME(6) on MySQL) because per-stage timings are compared at millisecond scale.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


# Long text: TEXT on SQLite, LONGTEXT on MySQL (a 10 MB reply must fit).
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql").with_variant(mysql.LONGTEXT(), "mariadb")

# Money in USD with micro-dollar precision: per-request costs are fractions of a cent.
Money = Numeric(14, 6, asdecimal=True)

JSONType = JSON().with_variant(mysql.JSON(), "mysql")

ZERO = Decimal("0")
