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
