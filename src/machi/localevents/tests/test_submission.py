"""The public form of residents' groups through to the calendar: confirmation mail over
real SMTP, the moderator's queue, approval and rejection mail, the organiser's signed
edit link back to review; bad input refused field by field with nothing saved."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from machi.localevents.models import Action, Event, Organiser, Status
from machi.localevents.tests.conftest import A, B, day, form_data
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

NEW = f"/{A}/events/new/"
SITE = "https://machi.example.jp"


def count() -> int:
    with tenant_context(A):
        return Event.objects.count()


def _link(body: str, kind: str) -> str:
    return re.search(rf"{re.escape(SITE)}(/\S+/{kind}/\S+/)", body).group(1)


def test_submission_confirmation_review_public(
    client, smtp_server, moderator, signed_in, django_capture_on_commit_callbacks
):
    response = client.post(NEW, form_data())
    assert response.status_code == 302 and response.url == f"/{A}/events/sent/"
    assert "確認のメール" in client.get(response.url).content.decode()
    [confirm] = smtp_server.wait_for(1)
    assert confirm["To"] == "chonai@example.jp"
    body = confirm.get_content()
    confirm_path = _link(body, "confirm")
    edit_path = re.search(rf"{re.escape(SITE)}(/{A}/events/edit/\S+/)", body).group(1)
    with tenant_context(A):
        event = Event.objects.get()
        assert event.status == Status.PENDING and event.confirmed_at is None
        assert event.title == {"ja": "夏祭り", "en": "Summer festival"}
    staff = signed_in(moderator)
    assert "審査待ち（0件）" in staff.get(f"/{A}/events/staff/").content.decode()  # unconfirmed
    assert client.get(f"/{A}/events/{event.pk}/").status_code == 404  # not public
    assert client.get(confirm_path).status_code == 200
    with tenant_context(A):
        assert Event.objects.get().confirmed_at is None  # GET confirms nothing
    assert client.post(confirm_path).status_code == 200
    assert client.post(confirm_path.replace("/confirm/", "/confirm/x")).status_code == 400
    queue = staff.get(f"/{A}/events/staff/").content.decode()
    assert "審査待ち（1件）" in queue and "夏祭り" in queue
    detail = staff.get(f"/{A}/events/staff/{event.pk}/").content.decode()
    assert "chonai@example.jp" in detail  # the moderator sees the address; nobody else
    on_commit = django_capture_on_commit_callbacks(using=tenant_alias(A), execute=True)
    with on_commit:
        response = staff.post(
            f"/{A}/events/staff/{event.pk}/approve/", {"reason": "ご投稿ありがとうございます。"}
        )
    assert response.status_code == 302
    [_, approved] = smtp_server.wait_for(2)
    assert "掲載しました" in approved["Subject"]
    assert "ご投稿ありがとうございます。" in approved.get_content()
    page = client.get(f"/{A}/events/{event.pk}/").content.decode()
    assert "夏祭り" in page and "中央町内会" in page and "無料" in page
    assert "chonai@example.jp" not in page
    assert "03-1234-5678" not in page  # the organiser did not agree to show the contact
    calendar = client.get(f"/{A}/events/?month={day():%Y-%m}").content.decode()
    assert f"/{A}/events/{event.pk}/" in calendar
    with tenant_context(A):
        kinds = list(Event.objects.get().actions.values_list("kind", flat=True))
        from machi.audit.models import AuditEntry

        entry = AuditEntry.objects.get(action="localevents.event.approved")
        assert entry.detail["reason"] == "ご投稿ありがとうございます。"
        assert entry.actor_username == "koho-mod"
    assert kinds == ["submitted", "confirmed", "approved"]

    # The organiser's link: the edit goes back to review and off the calendar.
    assert client.get(edit_path).status_code == 200
    edited = form_data(title_ja="夏祭り（雨天決行）", contact_public="on")
    response = client.post(edit_path, edited)
    assert (response.status_code == 200 and "もう一度確認" in response.content.decode()) or (
        "担当者が確認してから" in response.content.decode()
    )
    with tenant_context(A):
        event = Event.objects.get()
        assert event.status == Status.PENDING and event.sequence == 1
        assert event.title["ja"] == "夏祭り（雨天決行）" and event.contact_public
        assert Organiser.objects.get().email == "chonai@example.jp"  # not changeable
    assert client.get(f"/{A}/events/{event.pk}/").status_code == 404
    assert "夏祭り（雨天決行）" in staff.get(f"/{A}/events/staff/").content.decode()
    assert client.get(f"/{A}/events/edit/forged/").status_code == 404
    assert client.get(edit_path.replace(f"/{A}/", f"/{B}/")).status_code == 404


def test_rejection_mail_with_reason(
    make_event, moderator, signed_in, smtp_server, django_capture_on_commit_callbacks
):
    event = make_event(approve=False)
    staff = signed_in(moderator)
    url = f"/{A}/events/staff/{event.pk}/reject/"
    assert staff.post(url, {"reason": ""}).status_code == 302  # refused: no reason
    with tenant_context(A):
        assert Event.objects.get().status == Status.PENDING
    on_commit = django_capture_on_commit_callbacks(using=tenant_alias(A), execute=True)
    with on_commit:
        staff.post(url, {"reason": "営利目的の催しは載せられません。"})
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "chonai@example.jp" and "掲載できませんでした" in mail["Subject"]
    assert "営利目的の催しは載せられません。" in mail.get_content()
    assert "/events/edit/" in mail.get_content()
    with tenant_context(A):
        event = Event.objects.get()
        assert event.status == Status.HIDDEN
        assert event.actions.last().kind == Action.Kind.REJECTED
        assert event.actions.last().reason == "営利目的の催しは載せられません。"


def test_unconfirmed_event_cannot_be_approved(make_event, moderator, signed_in):
    event = make_event(approve=False, confirm=False)
    signed_in(moderator).post(f"/{A}/events/staff/{event.pk}/approve/")
    with tenant_context(A):
        assert Event.objects.get().status == Status.PENDING


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_on": day(6).isoformat()}, "ends_on", "終了日は開始日と同じか"),
        ({"end_time": "16:00"}, "end_time", "終了時間は開始時間より後"),
        ({"fee_yen": "-500"}, "fee_yen", "0 円以上"),
        ({"lat": "48.85", "long": "2.35"}, "lat", "日本の外"),
        ({"long": ""}, "lat", "両方"),
        ({"title_ja": ""}, "title_ja", "イベント名（日本語）を入力"),
        ({"email": "not-an-address"}, "email", "メールアドレスの形"),
        ({"start_time": "", "end_time": ""}, "start_time", "「終日」を選んで"),
        ({"title_ja": "<b>夏祭り</b>"}, "title_ja", "HTML のタグは使えません"),
        ({"starts_on": "2026-13-40"}, "starts_on", "日付の形"),
    ],
)
def test_bad_input_is_a_field_error_and_saves_nothing(client, changes, field, message):
    response = client.post(NEW, form_data(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    error = re.search(rf'id="id_{field}_error" class="feedback">(.*?)</div>', html, re.S)
    assert error and error.group(1).strip(), html
    if message:
        assert message in error.group(1)
    assert 'aria-invalid="true"' in html
    assert count() == 0


def test_all_day_event_without_times(client):
    response = client.post(NEW, form_data(all_day="on", start_time="", end_time=""))
    assert response.status_code == 302
    with tenant_context(A):
        event = Event.objects.get()
        assert event.all_day and event.start_time is None and event.end_time is None


def test_honeypot_blocked_address_and_rate_limit(client, in_a_blocked):
    assert client.post(NEW, form_data(website="http://spam.example")).status_code == 400
    response = client.post(NEW, form_data(email="spammer@example.jp"))
    assert response.status_code == 400 and "受け付けられません" in response.content.decode()
    assert count() == 0
    for n in range(3):
        assert client.post(NEW, form_data(title_ja=f"催し{n}")).status_code == 302
    response = client.post(NEW, form_data(title_ja="4回目"))
    assert response.status_code == 429
    assert count() == 3
    cache.clear()


@pytest.fixture
def in_a_blocked(municipality_a):
    from machi.requests.abuse import blocked_address_add

    with tenant_context(A):
        blocked_address_add(email="spammer@example.jp", reason="spam")


def test_wrong_role_is_403(make_event, clerk, author, signed_in):
    event = make_event(approve=False)
    assert signed_in(clerk).get(f"/{A}/events/staff/").status_code == 403
    assert signed_in(clerk).post(f"/{A}/events/staff/{event.pk}/approve/").status_code == 403
    web_author = signed_in(author)
    assert web_author.get(f"/{A}/events/staff/").status_code == 200
    assert web_author.post(f"/{A}/events/staff/{event.pk}/approve/").status_code == 403
    assert web_author.get(f"/{A}/events/staff/{event.pk}/").status_code == 403
    assert web_author.post(f"/{A}/events/staff/", {"threshold": "1"}).status_code == 403
    with tenant_context(A):
        assert Event.objects.get().status == Status.PENDING


def test_wrong_tenant_is_404(make_event, moderator_b, moderator, signed_in):
    event = make_event(lg=B, approve=False, actor=moderator_b)
    with tenant_context(A):
        assert not Event.objects.filter(pk=event.pk).exists()
    staff_a = signed_in(moderator)
    assert staff_a.get(f"/{A}/events/staff/{event.pk}/").status_code == 404
    assert staff_a.post(f"/{A}/events/staff/{event.pk}/approve/").status_code == 404
    assert staff_a.get(f"/{B}/events/staff/").status_code in (403, 404)
    with tenant_context(B):
        assert Event.objects.get(pk=event.pk).status == Status.PENDING


def test_official_event_create_edit_cancel(author, signed_in, client):
    staff = signed_in(author)
    data = {k: v for k, v in form_data().items() if k not in ("organiser_name", "email")}
    assert staff.get(f"/{A}/events/staff/new/").status_code == 200
    bad = staff.post(f"/{A}/events/staff/new/", {**data, "fee_yen": "-1"})
    assert bad.status_code == 400 and count() == 0
    response = staff.post(f"/{A}/events/staff/new/", {**data, "contact_public": "on"})
    assert response.status_code == 302
    with tenant_context(A):
        event = Event.objects.get()
    assert event.official and event.status == Status.PUBLISHED
    assert event.organiser_name == "千代田区"
    page = client.get(f"/{A}/events/{event.pk}/").content.decode()
    assert "自治体のイベント" in page and "03-1234-5678" in page
    edit = staff.post(f"/{A}/events/staff/{event.pk}/edit/", {**data, "place_name": "区民会館"})
    assert edit.status_code == 302
    cancel = f"/{A}/events/staff/{event.pk}/cancel/"
    staff.post(cancel, {"reason": ""})
    with tenant_context(A):
        assert Event.objects.get().status == Status.PUBLISHED  # no reason: refused
    staff.post(cancel, {"reason": "台風のため"})
    with tenant_context(A):
        event = Event.objects.get()
        assert event.status == Status.CANCELLED and event.place_name == "区民会館"
        assert event.sequence == 2
    page = client.get(f"/{A}/events/{event.pk}/").content.decode()
    assert "中止になりました" in page and "台風のため" in page
    assert staff.get(f"/{A}/events/staff/{event.pk}/edit/").status_code == 403
