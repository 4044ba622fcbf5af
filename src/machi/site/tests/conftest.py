from __future__ import annotations

import pytest

A = "131016"
B = "271403"


@pytest.fixture
def author(municipality_a, make_staff):
    return make_staff(municipality_a, ("koho", "web_author"), username="koho-author")


@pytest.fixture
def approver(municipality_a, make_staff):
    return make_staff(
        municipality_a, ("koho", "web_approver"), ("koho", "web_author"), username="koho-lead"
    )


@pytest.fixture
def clerk(municipality_a, make_staff):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="shimin-clerk")


@pytest.fixture
def author_b(municipality_b, make_staff):
    return make_staff(municipality_b, ("koho", "web_author"), ("koho", "web_approver"),
                      username="sakai-koho")  # fmt: skip


@pytest.fixture
def publish_page(author, approver):
    """A page written by the author and approved by the approver."""
    from machi.site import services
    from machi.tenancy.context import tenant_context

    def make(slug="gomi", *, title=None, body=None, parent=None, lg_code=A):
        with tenant_context(lg_code):
            page = services.page_create(
                actor=author, parent=parent, slug=slug,
                title=title or {"ja": "ごみの出し方"},
                body=body or {"ja": "燃えるごみは月曜日と木曜日に出してください。"},
            )  # fmt: skip
            version = page.versions.get()
            services.version_submit(actor=author, version=version)
            services.version_approve(actor=approver, version=version)
            page.refresh_from_db()
            return page

    return make
