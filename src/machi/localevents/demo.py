"""Demo content of the calendar for ``machi demo``: official events this month and next,
a residents' group's event approved and one waiting for the moderator."""

from __future__ import annotations

import datetime

from django.utils import timezone

from machi.localevents import services
from machi.localevents.models import Category, Event
from machi.localevents.services import EventData
from machi.tenancy.context import tenant_context

# A park near each demo municipality's office (latitude, longitude).
POINTS = {"131016": ("35.6850", "139.7530"), "271403": ("34.5733", "135.4830")}


def _data(category: str, day: datetime.date, **values) -> EventData:
    values.setdefault("ends_on", day)
    return EventData(starts_on=day, category=Category.objects.get(code=category), **values)


def demo_events_seed(lg_code: str) -> None:
    """Idempotent: a municipality with any event keeps what it has."""
    from machi.accounts.models import Staff
    from machi.accounts.roles import Role

    moderator = next(
        (
            s
            for s in Staff.objects.filter(municipality__lg_code=lg_code).prefetch_related(
                "memberships"
            )
            if s.has_role(Role.MODERATOR)
        ),
        None,
    )
    if moderator is None:
        return
    with tenant_context(lg_code):
        if Event.objects.exists():
            return
        today = timezone.localdate()
        point = POINTS.get(lg_code, ("", ""))
        soon = today + datetime.timedelta(days=3)
        services.official_event_save(
            actor=moderator,
            data=_data(
                "bosai", soon, start_time=datetime.time(9, 30), end_time=datetime.time(12, 0),
                title={"ja": "地域防災訓練", "ja-easy": "さいがいの れんしゅう",
                       "en": "Community disaster drill"},
                description={"ja": "地震を想定した避難訓練と消火器の使い方の体験です。",
                             "ja-easy": "じしんの ときに にげる れんしゅうを します。",
                             "en": "Evacuation drill for an earthquake and a fire extinguisher "
                                   "workshop."},
                title_kana="チイキボウサイクンレン", place_name="中央公園",
                lat=point[0], long=point[1], contact_name="防災課", contact_public=True,
                contact_phone="03-0000-0000",
            ),
        )  # fmt: skip
        services.official_event_save(
            actor=moderator,
            data=_data(
                "kosodate", today + datetime.timedelta(days=10),
                ends_on=today + datetime.timedelta(days=11),
                title={"ja": "子育てひろば まつり"}, description={"ja": "親子で遊べる催しです。"},
                place_name="子育て支援センター",
            ),
        )  # fmt: skip
        approved = services.event_submit(
            data=_data(
                "matsuri", today + datetime.timedelta(days=6), start_time=datetime.time(17, 0),
                end_time=datetime.time(21, 0),
                title={"ja": "町内会 夏祭り", "en": "Neighbourhood summer festival"},
                description={"ja": "盆踊りと屋台。どなたでも参加できます。"},
                place_name="町内会館前広場", fee_yen=0, fee_note="屋台は有料",
            ),
            organiser_name="中央町内会", email="chonaikai@example.jp",
        )  # fmt: skip
        services.event_confirm(event=approved.event, secret=approved.confirm_secret)
        services.event_approve(event=approved.event, actor=moderator)
        waiting = services.event_submit(
            data=_data(
                "kouza", today + datetime.timedelta(days=14), start_time=datetime.time(14, 0),
                end_time=datetime.time(15, 30), title={"ja": "スマホ相談会"},
                description={"ja": "スマートフォンの使い方を学生がお手伝いします。"},
                place_name="公民館 第1会議室", fee_yen=300,
            ),
            organiser_name="ITボランティアの会", email="it-volunteer@example.jp",
        )  # fmt: skip
        services.event_confirm(event=waiting.event, secret=waiting.confirm_secret)
