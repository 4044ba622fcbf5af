"""Newly issued 宛名番号 and 世帯番号: 7-digit serials + the M11W2-7 check digit."""

from __future__ import annotations

from django.db import transaction

from machi.japanese import with_atena_check_digit
from machi.registry.models import Household, NumberSequence, Resident
from machi.tenancy.context import current_tenant_alias

SERIAL_DIGITS = 7


def next_number(*, kind: str) -> str:
    """The next unused number of ``kind`` ('atena' or 'household'); skips numbers that
    migrated records already use."""

    model, field = (
        (Resident, "atena_number") if kind == "atena" else (Household, "household_number")
    )
    using = current_tenant_alias()
    with transaction.atomic(using=using, savepoint=False):
        sequence, _ = (
            NumberSequence.objects.using(using).select_for_update().get_or_create(kind=kind)
        )
        while True:
            sequence.last += 1
            number = with_atena_check_digit(str(sequence.last).zfill(SERIAL_DIGITS))
            if not model.objects.using(using).filter(**{field: number}).exists():
                break
        sequence.save(update_fields=["last"])
    return number


def next_numbers(*, kind: str, count: int) -> list[str]:
    """``count`` next unused numbers of ``kind`` in one go (one lock, one check of the
    candidates, one update): what :func:`next_number` gives when called ``count`` times."""
    if count <= 0:
        return []
    model, field = (
        (Resident, "atena_number") if kind == "atena" else (Household, "household_number")
    )
    using = current_tenant_alias()
    with transaction.atomic(using=using, savepoint=False):
        sequence, _ = (
            NumberSequence.objects.using(using).select_for_update().get_or_create(kind=kind)
        )
        numbers: list[str] = []
        last = sequence.last
        while len(numbers) < count:
            wanted = count - len(numbers)
            candidates = [
                with_atena_check_digit(str(last + step).zfill(SERIAL_DIGITS))
                for step in range(1, wanted + 1)
            ]
            last += wanted
            taken = set(
                model.objects.using(using)
                .filter(**{f"{field}__in": candidates})
                .values_list(field, flat=True)
            )
            numbers.extend(number for number in candidates if number not in taken)
        sequence.last = last
        sequence.save(update_fields=["last"])
    return numbers
