"""The resident's filing page: good filing with typed questions and a photo whose EXIF
is gone, each bad field named and nothing saved, honeypot, rate limits, blocked
addresses, fake images; the confirmation and follower mail over real SMTP."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from machi.requests import abuse, photos
from machi.requests.models import (
    AttributeType,
    Category,
    CategoryAttribute,
    Request,
    RequestPhoto,
    RequestReporter,
)
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A = "131016"
NEW = f"/{A}/requests/new/"
GOOD = {"category": "streetlight", "description": "街灯が消えています。",
        "address": "千代田区丸の内1-1", "lat": "", "long": ""}  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def kinds(in_a, doro):
    category = Category.objects.get(code="streetlight")
    CategoryAttribute.objects.create(
        category=category, code="pole", description="電柱番号", datatype=AttributeType.STRING,
        required=True, order=1,
    )  # fmt: skip
    CategoryAttribute.objects.create(
        category=category, code="since", description="いつから", datatype=AttributeType.DATE,
        order=2,
    )  # fmt: skip
    CategoryAttribute.objects.create(
        category=category, code="kind", description="状態", order=3,
        datatype=AttributeType.MULTIPLE,
        values=[{"key": "off", "name": "消えている"}, {"key": "blink", "name": "点滅"}],
    )  # fmt: skip
    return category


def good(**changes) -> dict:
    return {**GOOD, "attr_streetlight__pole": "A-12", **changes}


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 180, 20))
    exif = Image.Exif()
    exif[0x0110] = "Pixel 9 Pro"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (35.0, 40.0, 52.0)
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def saved() -> int:
    with tenant_context(A):
        return Request.objects.count()


def test_good_filing_with_questions_and_a_photo_without_exif(kinds, client: Client):
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the original has GPS
    photo = SimpleUploadedFile("IMG_0001.jpg", data, content_type="image/jpeg")
    done = client.post(NEW, {**good(), "attr_streetlight__since": "2026-12-01",
                             "attr_streetlight__kind": ["off", "blink"], "photos": [photo]},
                       follow=True)  # fmt: skip
    assert done.status_code == 200
    with tenant_context(A):
        item = Request.objects.get()
        assert item.attribute_values == {"pole": "A-12", "since": "2026-12-01",
                                         "kind": ["off", "blink"]}  # fmt: skip
        assert item.department == "doro"
        stored = RequestPhoto.objects.get(request=item)
        with photos.storage().open(stored.file, "rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
            assert image.format == "JPEG"
            exif = image.getexif()
            assert not exif.get_ifd(0x8825) and 0x0110 not in exif
        assert photos.storage().path(stored.file).startswith(str(photos.storage().location))
        assert photos.storage().location.endswith(f"/{A}/requests")
    assert item.public_code in done.content.decode()
    shown = client.get(f"/{A}/requests/{item.public_code}/photos/{stored.pk}/")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"category": ""}, "category", "分類を選んでください"),
        ({"category": "nope"}, "category", "この分類は選べません"),
        ({"description": "x" * 4001}, "description", "4000 文字以内"),
        ({"description": "<b>消えた</b>"}, "description", "HTML のタグは使えません"),
        ({"description": "https://spam.example/ www.x.example"}, "description", "URL だけ"),
        ({"address": ""}, "address", "場所を地図で選ぶか"),
        ({"address": "", "lat": "35.6"}, "lat", "両方入力"),
        ({"address": "", "lat": "abc", "long": "139"}, "lat", "緯度は数値"),
        ({"address": "", "lat": "95", "long": "139"}, "lat", "90"),
        ({"email": "not-mail"}, "email", "メールアドレスの形"),
    ],
)
def test_each_bad_field_is_named_and_nothing_saved(kinds, client, changes, field, message):
    page = client.post(NEW, good(**changes))
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html
    assert f'href="#id_{field}"' in html  # the summary links to the control
    assert f'aria-describedby="id_{field}_error' in html
    assert saved() == 0


def test_a_required_question_refused_by_the_service(kinds, client):
    page = client.post(NEW, {**GOOD})
    assert page.status_code == 400
    assert "「電柱番号」（pole）は必須です" in page.content.decode()
    assert saved() == 0


def test_fake_image_by_name_is_refused(kinds, client):
    fake = SimpleUploadedFile("light.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    page = client.post(NEW, {**good(), "photos": [fake]})
    assert page.status_code == 400
    assert "写真として読み取れないファイル" in page.content.decode()
    assert saved() == 0
    with tenant_context(A):
        assert not RequestPhoto.objects.exists()


def test_too_many_or_too_large_photos(kinds, client, monkeypatch):
    many = [SimpleUploadedFile(f"{i}.jpg", jpeg_with_gps()) for i in range(4)]
    assert "写真は3枚まで" in client.post(NEW, {**good(), "photos": many}).content.decode()
    monkeypatch.setattr(photos, "MAX_BYTES", 100)
    big = SimpleUploadedFile("big.jpg", jpeg_with_gps())
    assert "写真は1枚" in client.post(NEW, {**good(), "photos": [big]}).content.decode()
    assert saved() == 0


def test_honeypot(kinds, client):
    page = client.post(NEW, good(website="http://spam.example/"))
    assert page.status_code == 400
    assert "この欄には何も入力しないでください" in page.content.decode()
    assert saved() == 0


def test_rate_limit_per_ip_and_per_mail(kinds, client):
    for _ in range(abuse.PER_ADDRESS):
        assert client.post(NEW, good()).status_code == 302
    refused = client.post(NEW, good())
    assert refused.status_code == 429 and "しばらくしてから" in refused.content.decode()
    assert saved() == abuse.PER_ADDRESS
    cache.clear()
    other = Client(REMOTE_ADDR="192.0.2.9")
    for i in range(abuse.PER_EMAIL):
        ip = Client(REMOTE_ADDR=f"192.0.2.{20 + i}")
        assert ip.post(NEW, good(email="Taro@Example.jp")).status_code == 302
    assert other.post(NEW, good(email="taro@example.jp")).status_code == 429
    assert other.post(NEW, good()).status_code == 302  # the address itself is fine


def test_blocked_address(kinds, client):
    with tenant_context(A):
        abuse.blocked_address_add(email="Spam@Example.jp", reason="大量送信")
    page = client.post(NEW, good(email="spam@example.jp"))
    assert page.status_code == 400
    assert "このメールアドレスからは受け付けられません" in page.content.decode()
    assert saved() == 0
    with tenant_context(A):
        assert abuse.blocked_address_remove(email="SPAM@example.jp")
    assert client.post(NEW, good(email="spam@example.jp")).status_code == 302


def test_csrf_is_checked(kinds):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(NEW, good()).status_code == 403
    assert saved() == 0


def test_the_form_renders_the_typed_questions(kinds, client):
    html = client.get(NEW).content.decode()
    assert 'name="attr_streetlight__since"' in html and 'type="date"' in html
    assert 'type="checkbox"' in html and "点滅" in html
    assert "現在地を使う" in html and 'enctype="multipart/form-data"' in html


def test_confirmation_and_follower_mail_through_smtp(
    kinds,
    client,
    smtp_server,
    make_staff,
    municipality_a,
    django_capture_on_commit_callbacks,
    settings,
):
    from machi.requests.services import request_answer, request_status_change

    settings.MACHI_PUBLIC_URL = "https://machi.example.jp"
    assert client.post(NEW, good(email="hanako@example.jp")).status_code == 302
    [confirm] = smtp_server.wait_for(1)
    assert confirm["To"] == "hanako@example.jp"
    body = confirm.get_content()
    link = re.search(r"https://machi\.example\.jp/\S+/confirm/\S+/", body).group(0)
    path = link.removeprefix("https://machi.example.jp")
    assert client.get(path).status_code == 200
    with tenant_context(A):
        assert RequestReporter.objects.get().email_confirmed_at is None  # GET confirms nothing
    assert client.post(path).status_code == 200
    with tenant_context(A):
        assert RequestReporter.objects.get().email_confirmed_at is not None
        item = Request.objects.get()
    staff = make_staff(municipality_a, ("doro", "department_staff"), username="doro-staff")
    on_commit = django_capture_on_commit_callbacks(using=tenant_alias(A), execute=True)
    with tenant_context(A), on_commit:
        request_answer(request=item, text="来週交換します。", public=True, actor=staff)
        request_answer(request=item, text="内部メモ", public=False, actor=staff)
        request_status_change(request=item, status="fixed", actor=staff, text="交換しました。")
    mails = smtp_server.wait_for(3)
    assert len(mails) == 3
    assert "来週交換します。" in mails[1].get_content()
    assert "内部メモ" not in "".join(m.get_content() for m in mails)
    assert "完了" in mails[2].get_content()
    stop = re.search(r"https://machi\.example\.jp/\S+/unsubscribe/\S+/", mails[2].get_content())
    stop_path = stop.group(0).removeprefix("https://machi.example.jp")
    assert client.post(stop_path).status_code == 200
    smtp_server.clear()
    on_commit = django_capture_on_commit_callbacks(using=tenant_alias(A), execute=True)
    with tenant_context(A), on_commit as callbacks:
        request_status_change(request=item, status="closed", actor=staff)
    assert len(callbacks) == 1  # it ran, and found no confirmed follower
    with tenant_context(A):
        assert RequestReporter.objects.get().email_confirmed_at is None
    assert smtp_server.messages == []
    assert client.get(f"/{A}/requests/unsubscribe/forged/").status_code == 404


def test_block_address_command(in_a):
    import io as _io

    from django.core.management import CommandError, call_command

    from machi.requests.models import BlockedAddress

    def run(*args):
        call_command("requests", "block-address", *args, "--tenant", A,
                     stdout=_io.StringIO(), stderr=_io.StringIO())  # fmt: skip

    run("Bad@Example.jp", "--reason", "大量送信")
    assert list(BlockedAddress.objects.values_list("email", "reason")) == [
        ("bad@example.jp", "大量送信")
    ]
    with pytest.raises(CommandError):
        run("not-mail")
    run("bad@example.jp", "--remove")
    assert not BlockedAddress.objects.exists()
    with pytest.raises(CommandError, match="止められていません"):
        run("bad@example.jp", "--remove")
