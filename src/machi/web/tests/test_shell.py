from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.urls import reverse

from machi.accounts.roles import Role

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK))


def test_navigation_follows_roles(make_staff, municipality_a, signed_in, clerk):
    home = reverse("web:home", args=["131016"])
    page = signed_in(clerk).get(home).content.decode()
    assert "監査ログ" not in page and "職員管理" not in page
    supervisor = make_staff(municipality_a, ("shimin", Role.SUPERVISOR))
    page = signed_in(supervisor).get(home).content.decode()
    assert "監査ログ" in page and "職員管理" not in page
    admin = make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN))
    page = signed_in(admin).get(home).content.decode()
    assert "職員管理" in page


def test_home_page_shape(signed_in, clerk):
    response = signed_in(clerk).get(reverse("web:home", args=["131016"]))
    page = response.content.decode()
    assert '<html lang="ja">' in page
    assert 'class="skip-link" href="#main"' in page
    assert '<main id="main"' in page
    assert "千代田区" in page and "職員ホーム" in page
    assert page.count("<h1>") == 1


def test_csp_nonce_reaches_htmx_script(signed_in, clerk):
    response = signed_in(clerk).get(reverse("web:home", args=["131016"]))
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    page = response.content.decode()
    assert f'src="/static/django_htmx/htmx-2.min.js" defer nonce="{nonce}"' in page
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


def test_no_external_assets(signed_in, clerk, client):
    pages = [
        client.get(reverse("accounts:login")).content.decode(),
        signed_in(clerk).get(reverse("web:home", args=["131016"])).content.decode(),
        client.get("/api/v1/docs").content.decode(),
    ]
    for page in pages:
        for url in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert not re.match(r"^(https?:)?//", url), url


def test_security_headers(client):
    response = client.get(reverse("accounts:login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("path", "status", "text"), [("/no/such/page/", 404, "ページが見つかりません")]
)
def test_error_pages_in_house_style(client, path, status, text):
    response = client.get(path)
    assert response.status_code == status
    page = response.content.decode()
    assert text in page and "machi.css" in page and 'lang="ja"' in page


def test_403_page(signed_in, clerk):
    response = signed_in(clerk).get(reverse("audit:search", args=["131016"]))
    assert response.status_code == 403
    assert "権限がありません" in response.content.decode()


def test_500_page_needs_no_database(rf, django_assert_num_queries):
    from machi.web import views

    with django_assert_num_queries(0):
        response = views.error_500(rf.get("/"))
    assert response.status_code == 500
    assert "システムエラー" in response.content.decode()


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "MACHI_DEBUG": "0",
        "MACHI_SECRET_KEY": "k" * 20 + "-production-like-secret-" + "q9" * 20,
        "MACHI_ALLOWED_HOSTS": "machi.example.jp",
        "MACHI_DATA_DIR": str(tmp_path),
        "MACHI_PUBLIC_URL": "https://machi.example.jp",
    }
    env.pop("MACHI_SSL_REDIRECT", None)
    command = [sys.executable, "-m", "machi", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # without the public address residents' mail would link nowhere: refused
    del env["MACHI_PUBLIC_URL"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "machi.requests.E001" in result.stdout + result.stderr
