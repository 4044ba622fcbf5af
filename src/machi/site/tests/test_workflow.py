"""The publication workflow: author → approval → live; nobody approves their own
version; wrong roles and wrong municipality refused; the schedule; versions, diff and
rollback; audit entries."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.site import selectors, services
from machi.site.models import NewsItem, Page, Status, Version, VersionState
from machi.tenancy.context import tenant_context

from .conftest import A, B

pytestmark = pytest.mark.django_db(databases="__all__")


def _draft(author, slug="gomi", **text):
    with tenant_context(A):
        page = services.page_create(
            actor=author, parent=None, slug=slug, title={"ja": "ごみの出し方"},
            body=text.get("body", {"ja": "燃えるごみは月曜日。"}),
        )  # fmt: skip
        return page, page.versions.get()


def test_a_page_goes_public_only_after_approval(author, approver):
    page, version = _draft(author)
    with tenant_context(A):
        assert selectors.page_public(path="gomi") is None
        services.version_submit(actor=author, version=version)
        page.refresh_from_db()
        assert page.status == Status.PENDING and selectors.page_public(path="gomi") is None
        services.version_approve(actor=approver, version=version, comment="確認しました")
        page.refresh_from_db()
        assert page.status == Status.PUBLISHED and page.live_version_id == version.pk
        assert selectors.page_public(path="gomi") == page
        actions = list(AuditEntry.objects.filter(object_id=str(page.pk)).values_list(
            "action", flat=True).order_by("seq"))  # fmt: skip
        assert actions == ["site.approve", "site.publish"]


def test_an_author_cannot_approve_their_own_version(approver):
    _page, version = _draft(approver)  # the lead wrote it herself
    with tenant_context(A):
        services.version_submit(actor=approver, version=version)
        with pytest.raises(PermissionDenied):
            services.version_approve(actor=approver, version=version)
        version.refresh_from_db()
        assert version.state == VersionState.PENDING


def test_an_author_without_the_approver_role_cannot_approve(author, make_staff, municipality_a):
    other_author = make_staff(municipality_a, ("koho", "web_author"))
    _page, version = _draft(author)
    with tenant_context(A):
        services.version_submit(actor=author, version=version)
        with pytest.raises(PermissionDenied):
            services.version_approve(actor=other_author, version=version)


def test_a_clerk_cannot_write_pages(clerk):
    with tenant_context(A), pytest.raises(PermissionDenied):
        services.page_create(actor=clerk, parent=None, slug="x", title={"ja": "x"},
                             body={"ja": "x"})  # fmt: skip


def test_staff_of_another_municipality_cannot_write_here(author_b):
    with tenant_context(A), pytest.raises(PermissionDenied):
        services.page_create(actor=author_b, parent=None, slug="x", title={"ja": "x"},
                             body={"ja": "x"})  # fmt: skip


def test_reject_needs_a_comment_and_sends_back_to_draft(author, approver):
    page, version = _draft(author)
    with tenant_context(A):
        services.version_submit(actor=author, version=version)
        with pytest.raises(services.SiteError):
            services.version_reject(actor=approver, version=version, comment="  ")
        services.version_reject(actor=approver, version=version, comment="表現を直してください")
        version.refresh_from_db()
        page.refresh_from_db()
        assert version.state == VersionState.REJECTED and page.status == Status.DRAFT
        assert version.review_comment == "表現を直してください"


@pytest.mark.parametrize(
    ("slug", "title"),
    [("", {"ja": "x"}), ("Bad Slug", {"ja": "x"}), ("ok", {"en": "no Japanese"}),
     ("ok", {"ja": "x" * 201}), ("ok", {"ja": "x", "fr": "non"})],
)  # fmt: skip
def test_bad_input_changes_nothing(author, slug, title):
    with tenant_context(A):
        before = Page.objects.count()
        with pytest.raises(services.SiteError):
            services.page_create(actor=author, parent=None, slug=slug, title=title,
                                 body={"ja": "本文"})  # fmt: skip
        assert Page.objects.count() == before


def test_a_duplicate_path_is_refused(author):
    _draft(author)
    with tenant_context(A), pytest.raises(services.SiteError, match="同じURL"):
        services.page_create(actor=author, parent=None, slug="gomi", title={"ja": "x"},
                             body={"ja": "x"})  # fmt: skip


def test_editing_a_live_page_keeps_the_live_text_until_approval(publish_page, author, approver):
    page = publish_page("gomi", body={"ja": "古い本文"})
    with tenant_context(A):
        newer = services.version_save(actor=author, owner=page, title={"ja": "ごみの出し方"},
                                      body={"ja": "新しい本文"})  # fmt: skip
        services.version_submit(actor=author, version=newer)
        assert selectors.page_public(path="gomi").body == {"ja": "古い本文"}
        services.version_approve(actor=approver, version=newer)
        assert selectors.page_public(path="gomi").body == {"ja": "新しい本文"}


def test_diff_between_two_versions(publish_page, author):
    page = publish_page("gomi", body={"ja": "一行目\n二行目\n三行目"})
    with tenant_context(A):
        old = page.live_version
        new = services.version_save(actor=author, owner=page, title={"ja": "ごみの出し方"},
                                    body={"ja": "一行目\n2行目\n三行目", "en": "Line"})  # fmt: skip
        diff = services.version_diff(old=old, new=new)
    by_language = {block["language"]: block for block in diff}
    rows = [(r["kind"], r["text"]) for r in by_language["ja"]["rows"]]
    assert ("del", "-二行目") in rows and ("add", "+2行目") in rows
    assert ("add", "+Line") in [(r["kind"], r["text"]) for r in by_language["en"]["rows"]]


def test_rollback_creates_a_new_version_needing_approval(publish_page, author, approver):
    page = publish_page("gomi", body={"ja": "最初"})
    with tenant_context(A):
        first = page.live_version
        second = services.version_save(actor=author, owner=page, title={"ja": "ごみの出し方"},
                                       body={"ja": "二番目"})  # fmt: skip
        services.version_submit(actor=author, version=second)
        services.version_approve(actor=approver, version=second)
        restored = services.version_rollback(actor=author, version=first)
        assert restored.number == 3 and restored.restored_from == first.number
        assert restored.body == {"ja": "最初"} and restored.state == VersionState.PENDING
        assert Version.objects.filter(page=page).count() == 3
        assert selectors.page_public(path="gomi").body == {"ja": "二番目"}
        services.version_approve(actor=approver, version=restored)
        assert selectors.page_public(path="gomi").body == {"ja": "最初"}
        assert AuditEntry.objects.filter(action="site.rollback", object_id=str(page.pk)).exists()


def test_scheduled_publish_and_unpublish(author, approver):
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)
    with tenant_context(A):
        item = services.news_create(actor=author, title={"ja": "予定のお知らせ"},
                                    body={"ja": "本文"}, category="kurashi", publish_at=start,
                                    unpublish_at=start + datetime.timedelta(days=7))  # fmt: skip
        version = item.versions.get()
        services.version_submit(actor=author, version=version)
        services.version_approve(actor=approver, version=version)
        item.refresh_from_db()
        assert item.status == Status.SCHEDULED and selectors.news_public(pk=item.pk) is None
        assert services.site_schedule_run() == {"published": 0, "ended": 0}
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        with tenant_context(A):
            assert services.site_schedule_run() == {"published": 1, "ended": 0}
            assert selectors.news_public(pk=item.pk).published_at == start
            assert services.site_schedule_run() == {"published": 0, "ended": 0}  # idempotent
        assert Client().get(f"/{A}/news/{item.pk}/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(days=7, minutes=1), tick=False):
        with tenant_context(A):
            assert services.site_schedule_run() == {"published": 0, "ended": 1}
            item.refresh_from_db()
            assert item.status == Status.ENDED
            assert AuditEntry.objects.filter(action="site.unpublish",
                                             object_id=str(item.pk)).exists()  # fmt: skip
        assert Client().get(f"/{A}/news/{item.pk}/").status_code == 404


def test_the_periodic_task_runs_every_municipality(author, approver, municipality_b):
    from machi.site.tasks import site_schedule_task
    from machi.tenancy.periodic import periodic_tasks

    assert "machi.site.tasks.site_schedule_task" in periodic_tasks()
    result = site_schedule_task.call()
    assert set(result) >= {A, B}


def test_unpublish_by_an_approver(publish_page, approver, author):
    page = publish_page("gomi")
    with tenant_context(A):
        with pytest.raises(PermissionDenied):
            services.item_unpublish(actor=author, owner=page)
        services.item_unpublish(actor=approver, owner=page)
        assert selectors.page_public(path="gomi") is None
        with pytest.raises(services.SiteError):
            services.item_unpublish(actor=approver, owner=page)


def test_news_needs_a_known_category(author):
    with tenant_context(A), pytest.raises(services.SiteError):
        services.news_create(actor=author, title={"ja": "x"}, body={"ja": "x"}, category="zzz")
    with tenant_context(A):
        assert not NewsItem.objects.exists()


def test_schedule_end_before_start_refused(author):
    now = timezone.now()
    with tenant_context(A), pytest.raises(services.SiteError):
        services.news_create(actor=author, title={"ja": "x"}, body={"ja": "x"}, category="bosai",
                             publish_at=now, unpublish_at=now)  # fmt: skip
