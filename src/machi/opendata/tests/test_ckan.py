"""The CKAN Action API subset, read by the real ckanapi client over HTTP, and its error
envelope for bad parameters, unknown actions and ids."""

import json

import ckanapi
import pytest

from machi.opendata.tests.conftest import A, B

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def ckan(server_url, catalogue):
    with ckanapi.RemoteCKAN(f"{server_url}/{A}", user_agent="machi-tests") as remote:
        yield remote


def test_ckanapi_list_search_show(ckan, catalogue):
    assert ckan.action.package_list() == ["aed", "facilities"]  # not the draft

    found = ckan.action.package_search(fq="tags:防災", rows=10)
    assert found["count"] == 1
    assert [p["name"] for p in found["results"]] == ["aed"]
    assert ckan.action.package_search(fq="res_format:CSV")["count"] == 1
    assert ckan.action.package_search(q="施設")["count"] == 1
    assert ckan.action.package_search(q="存在しない語")["count"] == 0
    page = ckan.action.package_search(sort="name desc", rows=1, start=1)
    assert (page["count"], [p["name"] for p in page["results"]]) == (2, ["aed"])
    facets = ckan.action.package_search(**{"facet.field": ["tags", "res_format"]})
    assert facets["facets"]["res_format"] == {"CSV": 1, "GeoJSON": 1}
    assert facets["search_facets"]["tags"]["items"][0]["count"] >= 1

    package = ckan.action.package_show(id="aed")
    assert package["id"] == str(catalogue["aed"].uuid)
    assert package["license_id"] == "cc-by-4.0"
    assert package["organization"]["name"] == f"lg-{A}"
    assert package["maintainer_email"] == "bosai@example.jp"
    assert sorted(t["name"] for t in package["tags"]) == ["AED", "防災"]
    (resource,) = package["resources"]
    assert resource["format"] == "GeoJSON"
    assert resource["mimetype"] == "application/geo+json"
    assert resource["url"].endswith(f"/{A}/opendata/aed/resource/{resource['id']}/")
    assert ckan.action.package_show(id=package["id"])["name"] == "aed"  # by UUID too
    assert ckan.action.resource_show(id=resource["id"])["package_id"] == package["id"]

    assert ckan.action.organization_list() == [f"lg-{A}"]
    (org,) = ckan.action.organization_list(all_fields=True)
    assert org["package_count"] == 2
    shown = ckan.action.organization_show(id=f"lg-{A}", include_datasets=True)
    assert [p["name"] for p in shown["packages"]] == ["aed", "facilities"]
    assert ckan.action.tag_list() == ["AED", "公共施設", "施設", "防災"]
    assert ckan.action.status_show()["ckan_version"].startswith("2.")


def test_ckanapi_errors(ckan):
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="draft-only")  # a draft is not public
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="nothing-here")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.resource_show(id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(rows="many")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_show()
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(fq="colour:red")
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(sort="name sideways")


def _get(client, action, **params):
    response = client.get(f"/{A}/api/3/action/{action}", params)
    return response.status_code, json.loads(response.content)


def test_envelope_and_status_codes(client, catalogue):
    status, body = _get(client, "package_show", id="aed")
    assert status == 200
    assert body["success"] is True
    assert body["help"].endswith("/api/3/action/help_show?name=package_show")

    status, body = _get(client, "package_create", name="x")
    assert status == 400
    assert body["success"] is False
    assert body["error"]["__type"] == "Bad request"
    assert "Action name not known" in body["error"]["message"]

    status, body = _get(client, "package_show", id="nope")
    assert (status, body["error"]["__type"]) == (404, "Not Found Error")
    status, body = _get(client, "package_search", rows="2000")
    assert (status, body["error"]["__type"]) == (400, "Validation Error")
    assert "rows" in body["error"]
    status, body = _get(client, "package_search", start="-1")
    assert status == 400
    status, body = _get(client, "package_search", fq='tags:"unterminated')
    assert (status, body["error"]["__type"]) == (400, "Search Query Error")

    response = client.post(
        f"/{A}/api/3/action/package_list", b"[1, 2", content_type="application/json"
    )
    assert response.status_code == 400
    status, body = _get(client, "help_show", name="package_search")
    assert "fq" in body["result"]


def test_other_municipality_sees_only_its_own(client, catalogue):
    _status, body = _get(client, "package_list")
    assert body["result"] == ["aed", "facilities"]
    response = client.get(f"/{B}/api/3/action/package_list")
    assert json.loads(response.content)["result"] == []
    response = client.get(f"/{B}/api/3/action/package_show", {"id": "aed"})
    assert response.status_code == 404
    assert client.get("/999999/api/3/action/package_list").status_code == 404
