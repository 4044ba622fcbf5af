"""Saving residents' pre-applications (事前申請) and marking them used at the counter.

``preapplication_create`` runs the navigator on the input with the municipality's
catalogue (so only an input the counter can use is saved) and stores a **canonical
copy**: the persons renamed ``p1`` … ``pN`` in their order, dates as ISO dates (a
和暦 date of birth becomes its Gregorian date), the booleans spelt out, nationality
``JP`` / ``other`` (or a two-letter code), answers true/false only. Whatever the
caller sends, no free text is stored except dates.

The page is public, so the input is bounded: at most :data:`MAX_PERSONS` persons and
:data:`MAX_INPUT_CHARS` characters of JSON. Codes are 8 characters of a 21-letter
unambiguous alphabet (≈ 3.8 × 10¹⁰ codes), drawn with :mod:`secrets`; one is valid
for :data:`VALID_DAYS` days.

The public page passes the client's address: one address may take at most
:data:`ISSUE_LIMIT` codes in any :data:`ISSUE_WINDOW` (a sliding hour), counted in the
municipality's database — every web worker and process sees the same count. The count,
the issue row (the address as a keyed hash, never in plain) and the pre-application are
one transaction, serialised per address (SQLite: the IMMEDIATE write lock; PostgreSQL: a
transaction-level advisory lock on the hash), so concurrent requests cannot overshoot.
A refused attempt writes nothing (a flood cannot grow the table). The worker prunes
expired pre-applications and issue rows older than the window
(``machi.counter.tasks``).

Creating a pre-application is not audited (anonymous, no personal data); marking one
used at the counter is (``preapplication.used``, the code as object id).
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from machi.audit.services import Terminal, audit_append
from machi.counter.models.preapplications import (
    CODE_ALPHABET,
    CODE_LENGTH,
    PreApplication,
    PreApplicationIssue,
)
from machi.procedures.engine import NavigatorInputError, prepare, run
from machi.procedures.engine.navigator import PERSON_BOOLEANS
from machi.procedures.selectors import catalogue_effective
from machi.tenancy.context import current_tenant_alias

VALID_DAYS = 30
MAX_PERSONS = 10
MAX_INPUT_CHARS = 20_000
_NATIONALITY = re.compile(r"^(?:JP|other|[A-Z]{2})$")
_CODE_ATTEMPTS = 5
ISSUE_LIMIT = 20  # codes per client address …
ISSUE_WINDOW = datetime.timedelta(hours=1)  # … in any hour
_LOCK_CLASS = 0x6D616368  # PostgreSQL advisory locks: the first key ("mach")


class PreApplicationError(ValidationError):
    """A pre-application action was refused; the message says why (nothing written)."""


class PreApplicationRateLimited(PreApplicationError):
    """The client address has taken :data:`ISSUE_LIMIT` codes in the last hour."""


def client_hash(address: str) -> str:
    """The client address as stored for the limit: HMAC-SHA256 under the secret key."""
    return salted_hmac(
        "machi.counter.preapplication_issue", address or "", algorithm="sha256"
    ).hexdigest()


def _issue_slot_take(using: str, address: str, now: datetime.datetime) -> None:
    """Count ``address``'s codes of the last hour and record one more, or raise
    :class:`PreApplicationRateLimited`. Runs inside the caller's transaction."""
    digest = client_hash(address)
    connection = connections[using]
    if connection.vendor == "postgresql":
        # Two requests from one address count one after the other (SQLite's IMMEDIATE
        # transactions already hold the write lock).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [_LOCK_CLASS, int(digest[:8], 16) - 2**31],
            )
    issued = (
        PreApplicationIssue.objects.using(using)
        .filter(client_hash=digest, issued_at__gt=now - ISSUE_WINDOW)
        .count()
    )
    if issued >= ISSUE_LIMIT:
        raise PreApplicationRateLimited(
            _("短い時間に多くの番号が発行されました。しばらくしてからもう一度お試しください。")
        )
    PreApplicationIssue.objects.using(using).create(client_hash=digest, issued_at=now)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def preapplication_canonical(navigator_input: Any) -> dict[str, Any]:
    """The canonical copy of a navigator input (see the module docstring), after running
    the navigator on it with the catalogue in force.

    Raises :class:`NavigatorInputError` listing every problem, each naming its field
    (``persons[1].birth_date: …``), like the navigator itself.
    """
    try:
        size = len(json.dumps(navigator_input, ensure_ascii=False))
    except (TypeError, ValueError):
        raise NavigatorInputError(_("入力は JSON で表せる値だけで書いてください")) from None
    if size > MAX_INPUT_CHARS:
        raise NavigatorInputError(
            _("入力が大きすぎます（%(max)s 文字まで）") % {"max": MAX_INPUT_CHARS}
        )
    if isinstance(navigator_input, dict):
        persons = navigator_input.get("persons")
        if isinstance(persons, list) and len(persons) > MAX_PERSONS:
            raise NavigatorInputError(
                _("persons: 世帯の人は %(max)s 人までです（%(count)s 人）")
                % {"max": MAX_PERSONS, "count": len(persons)}
            )
    answers: dict[str, bool] = {}
    raw_answers = navigator_input.get("answers") if isinstance(navigator_input, dict) else None
    if isinstance(raw_answers, dict):
        bad = [key for key, value in raw_answers.items() if not isinstance(value, bool | None)]
        if bad:
            message = _("はい・いいえ（true / false）で答えてください")
            raise NavigatorInputError([f"answers.{key}: {message}" for key in bad])
        answers = {key: value for key, value in raw_answers.items() if value is not None}
    catalogue = catalogue_effective().catalogue
    prepared = prepare(navigator_input, catalogue)  # raises NavigatorInputError
    run(prepared, catalogue)  # a catalogue that cannot evaluate it raises here, not later

    errors: list[str] = []
    ids = {person["id"]: f"p{i + 1}" for i, person in enumerate(prepared.persons)}
    persons: list[dict[str, Any]] = []
    for i, person in enumerate(prepared.persons):
        nationality = person["nationality"]
        if nationality and not _NATIONALITY.match(nationality):
            errors.append(
                f"persons[{i}].nationality: "
                + _("JP（日本）、other（日本以外）または2文字の国コードで書いてください")
            )
        persons.append(
            {
                "id": ids[person["id"]],
                "birth_date": person["birth_date"],
                "nationality": nationality,
                "insurance": person["insurance"],
                "pension": person["pension"],
                **{name: person[name] for name in PERSON_BOOLEANS},
            }
        )
    if errors:
        raise NavigatorInputError(errors)
    event = navigator_input["event"]
    return {
        "event": {
            "type": prepared.event_type,
            "date": prepared.date.isoformat(),
            "subjects": [ids[pid] for pid in prepared.subject_ids],
            "from_abroad": event.get("from_abroad") is True,
            "to_abroad": event.get("to_abroad") is True,
        },
        "persons": persons,
        "answers": answers,
    }


def preapplication_create(
    *, navigator_input: Any, client_address: str | None = None
) -> PreApplication:
    """Save ``navigator_input`` (its canonical copy) under a new code, valid for
    :data:`VALID_DAYS` days. Raises :class:`NavigatorInputError` for a bad input.

    ``client_address`` (the public page's caller): at most :data:`ISSUE_LIMIT` codes
    per address in any hour, else :class:`PreApplicationRateLimited` and nothing is
    written. None: no limit (the counter's own callers)."""
    canonical = preapplication_canonical(navigator_input)
    using = current_tenant_alias()
    now = timezone.now()
    with transaction.atomic(using=using):
        if client_address is not None:
            _issue_slot_take(using, client_address, now)
        for _attempt in range(_CODE_ATTEMPTS):
            try:
                with transaction.atomic(using=using):
                    return PreApplication.objects.using(using).create(
                        code=_new_code(),
                        navigator_input=canonical,
                        created_at=now,
                        expires_at=now + datetime.timedelta(days=VALID_DAYS),
                    )
            except IntegrityError:  # the code was taken: draw another
                continue
        raise PreApplicationError(_("番号を発行できませんでした。もう一度お試しください。"))


def preapplication_mark_used(
    *, preapplication: PreApplication, actor: Any | None, terminal: Terminal | None
) -> PreApplication:
    """Record that the counter used the pre-application (the first use is kept; every
    use is audited). An expired one is refused."""
    using = current_tenant_alias()
    now = timezone.now()
    with transaction.atomic(using=using):
        locked = (
            PreApplication.objects.using(using)
            .select_for_update()
            .filter(pk=preapplication.pk)
            .first()
        )
        if locked is None:
            raise PreApplicationError(_("事前申請が見つかりません。"))
        if locked.expires_at <= now:
            raise PreApplicationError(_("この番号は有効期限が切れています。"))
        first_use = locked.used_at is None
        if first_use:
            locked.used_at = now
            locked.save(update_fields=["used_at"])
        audit_append(
            action="preapplication.used",
            actor=actor,
            object_type="preapplication",
            object_id=locked.code,
            function="counter.preapplication_mark_used",
            terminal=terminal,
            detail={
                "event": locked.event_type,
                "persons": len(locked.navigator_input["persons"]),
                "first_use": first_use,
            },
        )
    return locked


def preapplication_purge_expired(*, before: datetime.datetime | None = None) -> int:
    """Delete pre-applications that expired before ``before`` (default: now), used or
    not; returns how many. Run hourly by the worker (``machi.counter.tasks``): an
    expired code is refused anyway, and its answers are the resident's."""
    using = current_tenant_alias()
    deleted, _detail = (
        PreApplication.objects.using(using)
        .filter(expires_at__lte=before or timezone.now())
        .delete()
    )
    return deleted


def preapplication_issues_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete the issue rows the limit no longer counts (older than
    :data:`ISSUE_WINDOW`); returns how many."""
    using = current_tenant_alias()
    deleted, _detail = (
        PreApplicationIssue.objects.using(using)
        .filter(issued_at__lte=(now or timezone.now()) - ISSUE_WINDOW)
        .delete()
    )
    return deleted


def preapplications_retention_run(
    *, actor: Any | None = None, terminal: Terminal | None = None
) -> dict[str, int]:
    """The municipality's pre-application retention, in one transaction: expired
    pre-applications and the limit's old issue rows go. Audited as
    ``preapplication.purged`` with the counts, also when nothing was due (the record
    that the retention runs)."""
    using = current_tenant_alias()
    now = timezone.now()
    with transaction.atomic(using=using):
        counts = {
            "preapplications": preapplication_purge_expired(before=now),
            "issues": preapplication_issues_prune(now=now),
        }
        audit_append(
            action="preapplication.purged",
            actor=actor,
            object_type="preapplication",
            object_id="",
            function="counter.preapplications_retention_run",
            terminal=terminal,
            detail={**counts, "valid_days": VALID_DAYS},
        )
    return counts
