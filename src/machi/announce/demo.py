# ruff: noqa: E501 - demo texts, kept one per line to read and edit them as text
"""Demo announcements for ``machi demo``: a 防災 one (with its CAP alert) and two of
daily life, in Japanese, やさしい日本語 and English, published by the municipality's
demo approver through the services, so they reach the website's news and the feeds.

The demo has no mail subscribers, webhook subscriptions or ActivityPub followers, so
publishing sends nothing out: the pushed channels end "sent" to nobody (the mail channel
opens no SMTP connection without a subscriber). Idempotent: a municipality with any
announcement keeps what it has."""

from __future__ import annotations

import datetime

from django.utils import timezone

from machi.tenancy.context import tenant_context

DEMO = (
    {
        "category": "bousai", "urgency": "Expected", "severity": "Moderate",
        "certainty": "Likely", "area_name": "市内全域", "valid_days": 30,
        "title": {
            "ja": "大雨に備えてください",
            "ja-easy": "おおあめに きを つけて ください",
            "en": "Prepare for heavy rain",
        },
        "body": {
            "ja": "今夜から明日にかけて大雨のおそれがあります。\n\n- 川や用水路に近づかないでください。\n- 避難所の場所を確かめておいてください。",
            "ja-easy": "こんやから あしたまで、あめが たくさん ふるかも しれません。\n\n- かわに ちかづかないで ください。\n- にげる ばしょを たしかめて ください。",
            "en": "Heavy rain is possible from tonight until tomorrow.\n\n- Keep away from rivers and canals.\n- Check where your nearest shelter is.",
        },
    },
    {
        "category": "kurashi", "area_name": "",
        "title": {
            "ja": "年末年始のごみの収集日",
            "ja-easy": "おしょうがつの ごみの ひ",
            "en": "Rubbish collection over the New Year",
        },
        "body": {
            "ja": "12月31日から1月3日まで、ごみの収集はお休みです。1月4日から通常どおり収集します。",
            "ja-easy": "12がつ31にちから 1がつ3かまで、ごみを あつめません。1がつ4かから また あつめます。",
            "en": "There is no rubbish collection from 31 December to 3 January. Collection resumes on 4 January.",
        },
    },
    {
        "category": "kosodate", "area_name": "",
        "title": {
            "ja": "子育て相談の窓口が土曜日も開きます",
            "ja-easy": "こそだての そうだんが どようびも できます",
            "en": "Parenting advice now also on Saturdays",
        },
        "body": {
            "ja": "毎月第2土曜日の午前中、子育ての相談ができます。予約はいりません。",
            "ja-easy": "まいつき 2かいめの どようびの ごぜんに、こそだての そうだんが できます。よやくは いりません。",
            "en": "On the second Saturday of every month, in the morning, you can ask about parenting. No appointment needed.",
        },
    },
)  # fmt: skip


def _approver(lg_code: str):
    from machi.accounts.models import Staff
    from machi.accounts.roles import Role

    staff = Staff.objects.filter(municipality__lg_code=lg_code, is_active=True).order_by("pk")
    return next(
        (s for s in staff.prefetch_related("memberships") if s.has_role(Role.WEB_APPROVER)),
        None,
    )


def demo_announcements_seed(lg_code: str) -> int:
    """Publish the demo announcements at ``lg_code``; returns how many were published."""
    from machi.announce.delivery import deliveries_run
    from machi.announce.models import Announcement
    from machi.announce.services import announcement_create, announcement_publish

    approver = _approver(lg_code)
    if approver is None:
        return 0
    with tenant_context(lg_code):
        if Announcement.objects.exists():
            return 0
        now = timezone.now()
        for item in DEMO:
            fields = dict(item)
            valid_days = fields.pop("valid_days", None)
            if valid_days:
                fields["valid_until"] = now + datetime.timedelta(days=valid_days)
            draft = announcement_create(actor=approver, **fields)
            announcement_publish(announcement=draft, actor=approver)
            # At once, not on the worker: the demo's news shows them right away.
            deliveries_run(announcement_id=draft.pk)
    return len(DEMO)
