import pytest

from machi.requests.checks import public_url_check


@pytest.mark.parametrize(
    ("url", "errors"),
    [("https://machi.example.jp", 0), ("", 1), ("http://machi.example.jp", 1)],
)
def test_production_needs_the_https_public_address(settings, url, errors):
    settings.MACHI_PUBLIC_URL = url
    found = public_url_check()
    assert len(found) == errors
    assert all(e.id == "machi.requests.E001" and "MACHI_PUBLIC_URL" in e.msg for e in found)
