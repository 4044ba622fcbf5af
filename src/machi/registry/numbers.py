"""Newly issued 宛名番号 and 世帯番号: 7-digit serials + the M11W2-7 check digit."""

from __future__ import annotations

from django.db import connections, transaction

from machi.japanese import with_atena_check_digit
from machi.registry.models import Household, NumberSequence, Resident
from machi.tenancy.context import current_tenant_alias

SERIAL_DIGITS = 7


def next_number(*, kind: str) -> str:
    """The next unused number of ``kind`` ('atena' or 'household'); skips numbers that
    migrated records already use."""
    (number,) = next_numbers(kind=kind, count=1)
    return number


def _advance(using: str, kind: str, by: int) -> int:
    """Move the sequence of ``kind`` on by ``by``; its new last serial. One statement,
    which on PostgreSQL also locks the sequence's row until the transaction ends."""
    table = connections[using].ops.quote_name(NumberSequence._meta.db_table)
    while True:
        with connections[using].cursor() as cursor:
            cursor.execute(
                f'UPDATE {table} SET "last" = "last" + %s WHERE kind = %s RETURNING "last"',  # noqa: S608
                [by, kind],
            )
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        NumberSequence.objects.using(using).get_or_create(kind=kind)


def _taken(using: str, model: type, field: str, candidates: list[str]) -> set[str]:
    """The ``candidates`` that records (e.g. migrated ones) already use."""
    quote = connections[using].ops.quote_name
    marks = ", ".join(["%s"] * len(candidates))
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(field)} FROM {quote(model._meta.db_table)} "  # noqa: S608
            f"WHERE {quote(field)} IN ({marks})",
            candidates,
        )
        return {row[0] for row in cursor.fetchall()}


def next_numbers(*, kind: str, count: int) -> list[str]:
    """``count`` next unused numbers of ``kind`` in one go (one update, one check of the
    candidates): what :func:`next_number` gives when called ``count`` times."""
    if count <= 0:
        return []
    model, field = (
        (Resident, "atena_number") if kind == "atena" else (Household, "household_number")
    )
    using = current_tenant_alias()
    with transaction.atomic(using=using, savepoint=False):
        numbers: list[str] = []
        while len(numbers) < count:
            wanted = count - len(numbers)
            last = _advance(using, kind, wanted)
            candidates = [
                with_atena_check_digit(str(serial).zfill(SERIAL_DIGITS))
                for serial in range(last - wanted + 1, last + 1)
            ]
            taken = _taken(using, model, field, candidates)
            numbers.extend(number for number in candidates if number not in taken)
    return numbers
