"""The ActivityPub objects of the cross-tenant isolation test (``machi.web.tests.objects``)."""

from __future__ import annotations

import datetime

from django.test import override_settings

from machi.activitypub.models import Note
from machi.activitypub.services import note_publish
from machi.tenancy.context import current_lg_code

ORIGIN = "https://machi.example.jp"


def note() -> Note:
    """A Note published in the municipality in force, its key naming that municipality
    (so A's and B's keys differ: B's Note asked for under A's code must be refused)."""
    lg_code = current_lg_code()
    key = f"isolation-{lg_code}"
    # The test settings leave the public origin unset; the Note's ids need one.
    with override_settings(MACHI_PUBLIC_URL=ORIGIN):
        note_publish(
            object_key=key,
            url=f"{ORIGIN}/{lg_code}/news/1/",
            content={"ja": f"<p>{lg_code}のお知らせ</p>"},
            summary=None,
            published=datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC),
        )
    return Note.objects.get(object_key=key)
