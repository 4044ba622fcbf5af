import codecs

import pytest
from django.core.exceptions import PermissionDenied

from machi.audit.models import AuditEntry
from machi.opendata.models import Dataset, ResourceVersion, State
from machi.opendata.services import (
    OpendataError,
    ResourceIn,
    dataset_create,
    dataset_publish,
    dataset_state_set,
    dataset_update,
    resource_upload,
)
from machi.opendata.tests.conftest import CSV_UTF8, A, B
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


def _csv(content: bytes) -> list[ResourceIn]:
    return [ResourceIn(name="公共施設一覧", format="CSV", content=content, media_type="text/csv")]


def test_publish_creates_then_versions_then_is_idempotent(published):
    resource = published.resources.get()
    assert published.state == State.PUBLISHED
    assert published.licence == "cc-by-4.0"
    assert sorted(published.tags.values_list("name", flat=True)) == ["公共施設", "施設"]
    first = resource.versions.get()
    assert (first.number, first.rows, first.encoding) == (1, 2, "UTF-8")
    audits = AuditEntry.objects.filter(action="opendata.dataset.published").count()

    again = dataset_publish(
        slug="facilities", title="公共施設一覧", notes="区の公共施設です。",
        tags=["公共施設", "施設"], frequency="ANNUAL", resources=_csv(CSV_UTF8),
    )  # fmt: skip
    assert again.pk == published.pk
    assert resource.versions.count() == 1
    assert again.modified_at == published.modified_at
    assert AuditEntry.objects.filter(action="opendata.dataset.published").count() == audits

    newer = CSV_UTF8 + "体育館,千代田区3-3,35.70,139.77\r\n".encode()
    dataset_publish(
        slug="facilities", title="公共施設一覧", notes="区の公共施設です。",
        tags=["施設"], frequency="ANNUAL", resources=_csv(newer),
    )  # fmt: skip
    assert list(resource.versions.values_list("number", "rows")) == [(2, 3), (1, 2)]
    assert list(Dataset.objects.get().tags.values_list("name", flat=True)) == ["施設"]


def test_publish_refuses_a_broken_csv_and_changes_nothing(published):
    broken = CSV_UTF8 + "体育館,千代田区3-3\r\n".encode()
    with pytest.raises(OpendataError) as raised:
        dataset_publish(
            slug="facilities", title="別のタイトル", notes="", tags=[], frequency="ANNUAL",
            resources=_csv(broken),
        )  # fmt: skip
    assert "4行目" in str(raised.value)
    published.refresh_from_db()
    assert published.title == "公共施設一覧"
    assert ResourceVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (codecs.BOM_UTF8 + CSV_UTF8, "UTF-8-BOM"),
        (CSV_UTF8, "UTF-8"),
        (CSV_UTF8.decode().encode("cp932"), "CP932"),
        ("名称,備考\r\n髙島屋,①\r\n".encode("cp932"), "CP932"),  # CP932-only characters
    ],
)
def test_csv_encodings_are_detected(in_a, author, content, encoding):
    dataset = dataset_create(actor=author, name="enc", title="文字コード")
    version = resource_upload(
        actor=author, dataset=dataset, name="表", format="CSV", content=content
    )
    assert version.encoding == encoding
    assert version.content == content
    assert ("Shift_JIS" in version.media_type) == (encoding == "CP932")


@pytest.mark.parametrize(
    ("format", "content", "message"),
    [
        ("CSV", b"a,b\n1,2\n\xff\xfe\xfa\n", "3行目"),
        ("CSV", b'a,b\n1,"2\n', "CSV として読めません"),
        ("CSV", b"", "空のファイル"),
        ("CSV", b"a,,c\n1,2,3\n", "1行目"),
        ("JSON", b'{"a": 1,\n "b": }', "2行目"),
        ("GeoJSON", b'{"type": "Nothing"}', "GeoJSON ではありません"),
        ("XLSX", b"%PDF-1.7 not a workbook", "XLSX"),
        ("PDF", b"%PDF-1.7", "形式"),
    ],
)
def test_bad_files_are_refused_with_line_and_reason(in_a, author, format, content, message):
    dataset = dataset_create(actor=author, name="bad", title="壊れたファイル")
    with pytest.raises(OpendataError) as raised:
        resource_upload(actor=author, dataset=dataset, name="表", format=format, content=content)
    assert message in str(raised.value)
    assert not dataset.resources.exists()


def test_too_large_is_refused(in_a, author, settings, monkeypatch):
    from machi.opendata import checks

    monkeypatch.setattr(checks, "MAX_BYTES", 100)
    dataset = dataset_create(actor=author, name="big", title="大きい")
    with pytest.raises(OpendataError, match="大きすぎます"):
        resource_upload(actor=author, dataset=dataset, name="表", format="CSV",
                        content=b"a,b\n" + b"1,2\n" * 50)  # fmt: skip


def test_roles_author_drafts_approver_publishes(in_a, author, approver, clerk):
    with pytest.raises(PermissionDenied):
        dataset_create(actor=clerk, name="x1", title="窓口は作れない")
    dataset = dataset_create(actor=author, name="x1", title="下書き", tags=["a", "a", " b "])
    assert list(dataset.tags.values_list("name", flat=True)) == ["a", "b"]
    with pytest.raises(OpendataError, match="リソース"):
        dataset_state_set(actor=approver, dataset=dataset, publish=True)
    resource_upload(actor=author, dataset=dataset, name="表", format="CSV", content=CSV_UTF8)
    with pytest.raises(PermissionDenied):
        dataset_state_set(actor=author, dataset=dataset, publish=True)
    dataset = dataset_state_set(actor=approver, dataset=dataset, publish=True)
    assert dataset.is_published
    dataset = dataset_update(actor=author, dataset=dataset, title="改題", notes="説明",
                             tags=[], frequency="MONTHLY", licence="cc-zero")  # fmt: skip
    assert (dataset.title, dataset.licence) == ("改題", "cc-zero")
    dataset = dataset_state_set(actor=approver, dataset=dataset, publish=False)
    assert dataset.state == State.UNPUBLISHED


def test_bad_input_changes_nothing(in_a, author):
    with pytest.raises(OpendataError):
        dataset_create(actor=author, name="Bad Name!", title="x")
    with pytest.raises(OpendataError):
        dataset_create(actor=author, name="ok-name", title="", frequency="sometimes")
    dataset_create(actor=author, name="ok-name", title="あり")
    with pytest.raises(OpendataError, match="すでに"):
        dataset_create(actor=author, name="ok-name", title="二つ目")
    assert Dataset.objects.count() == 1


def test_other_municipality_staff_are_refused(published, approver_b):
    with pytest.raises(PermissionDenied):
        dataset_state_set(actor=approver_b, dataset=published, publish=False)
    with tenant_context(B):
        assert not Dataset.objects.exists()


def test_demo_seed_twice_adds_nothing_the_second_time(municipality_a):
    from machi.opendata.demo import demo_opendata_seed

    demo_opendata_seed(A)
    demo_opendata_seed(A)
    with tenant_context(A):
        assert Dataset.objects.filter(state=State.PUBLISHED).count() == 3
        assert ResourceVersion.objects.count() == 3
        assert (
            ResourceVersion.objects.get(resource__dataset__name="garbage-days").encoding == "CP932"
        )
