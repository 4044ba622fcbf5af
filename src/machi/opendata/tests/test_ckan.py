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


@pytest.fixture
def many(catalogue):
    """120 more published datasets beside the catalogue's (a page of 100 is full): two
    tags and two resources each, one resource with two versions, one with none, one
    mirrored dataset with an external resource and another publisher."""
    from django.utils import timezone

    from machi.opendata.models import (
        Dataset,
        Organization,
        Resource,
        ResourceVersion,
        State,
        Tag,
    )

    now = timezone.now()
    org = catalogue["aed"].organization
    pref = Organization.objects.create(
        name="pref-13", title="東京都", harvest_source="https://example.org/", created_at=now
    )
    tags = Tag.objects.bulk_create([Tag(name=f"分類{i}") for i in range(5)])
    datasets = Dataset.objects.bulk_create(
        Dataset(name=f"bulk-{i:03d}", title=f"統計 {i}", notes="地区別の表", organization=org,
                state=State.PUBLISHED, created_at=now,
                modified_at=now - timezone.timedelta(minutes=i), published_at=now)
        for i in range(120)
    )  # fmt: skip
    Dataset.tags.through.objects.bulk_create(
        Dataset.tags.through(dataset_id=d.pk, tag_id=tags[(i + j) % 5].pk)
        for i, d in enumerate(datasets)
        for j in range(2)
    )
    resources = Resource.objects.bulk_create(
        Resource(dataset=d, name=f"表{j}", format=("CSV", "JSON")[j], position=1 - j,
                 created_at=now, modified_at=now)
        for d in datasets
        for j in range(2)
    )  # fmt: skip
    ResourceVersion.objects.bulk_create(
        ResourceVersion(resource=r, number=n, content=b"a\r\n1\r\n", size=6, sha256=f"{n}" * 64,
                        media_type="text/csv; charset=utf-8", created_at=now)
        for r in resources[1:]
        for n in ((1, 2) if r is resources[1] else (1,))
    )  # fmt: skip
    mirror = Dataset.objects.create(
        name="pref-shelters", title="都の避難所", organization=pref, state=State.PUBLISHED,
        created_at=now, modified_at=now, licence="cc-zero", frequency="DAILY",
        harvest_id="13-shelters", harvest_url="https://example.org/dataset/13-shelters",
    )  # fmt: skip
    Resource.objects.create(
        dataset=mirror, name="避難所", format="CSV", created_at=now, modified_at=now,
        external_url="https://example.org/shelters.csv",
    )  # fmt: skip
    return datasets


def _tenant_queries(client, action, **params):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from machi.tenancy.context import tenant_alias

    with CaptureQueriesContext(connections[tenant_alias(A)]) as queries:
        status, body = _get(client, action, **params)
    assert status == 200, body
    return len(queries), body["result"]


def test_package_search_reads_a_page_in_four_queries(client, many):
    # The count, the page's rows, their tags, their resources: not one more per package.
    for params in (
        {"rows": "100"},
        {"rows": "100", "start": "20", "sort": "name asc"},
        {"rows": "10"},
        {"q": "統計", "rows": "100"},
        {"fq": "tags:分類1 res_format:JSON", "rows": "100", "sort": "metadata_modified desc"},
    ):
        count, result = _tenant_queries(client, "package_search", **params)
        assert count == 4, params
        assert len(result["results"]) == min(int(params["rows"]), result["count"])
    count, result = _tenant_queries(client, "package_search", rows="100")
    assert result["count"] == 123
    count, result = _tenant_queries(client, "package_search", rows="100", start="500")
    assert (count, result["count"], result["results"]) == (1, 123, [])
    count, result = _tenant_queries(client, "package_search", q="存在しない語", rows="100")
    assert (count, result["count"], result["results"]) == (2, 0, [])


def test_package_search_answers_what_package_show_answers(client, many):
    # The page is read as rows, package_show from model instances: the same packages.
    _status, body = _get(client, "package_search", rows="1000", sort="name asc")
    found = body["result"]["results"]
    assert len(found) == 123
    by_name = {p["name"]: p for p in found}
    for name in ("aed", "facilities", "pref-shelters", "bulk-000", "bulk-001", "bulk-119"):
        _status, shown = _get(client, "package_show", id=name)
        assert by_name[name] == shown["result"]
    mirror = by_name["pref-shelters"]
    assert mirror["organization"]["name"] == "pref-13"
    assert mirror["url"] == "https://example.org/dataset/13-shelters"
    assert mirror["resources"][0]["url"] == "https://example.org/shelters.csv"
    assert mirror["extras"][-1] == {"key": "harvest_source_id", "value": "13-shelters"}
    first = by_name["bulk-000"]
    assert [r["name"] for r in first["resources"]] == ["表1", "表0"]  # by position
    assert [r["version"] for r in first["resources"]] == [2, None]  # the latest
    assert first["resources"][0]["mimetype"] == "text/csv"
    assert first["resources"][0]["hash"] == "sha256:" + "2" * 64
    assert [r["version"] for r in by_name["bulk-001"]["resources"]] == [1, 1]
    assert by_name["bulk-000"]["num_tags"] == 2
    _status, page = _get(client, "package_search", rows="3", start="1",
                         sort="metadata_modified desc")  # fmt: skip
    newest = sorted(sorted(found, key=lambda p: p["name"]),
                    key=lambda p: p["metadata_modified"], reverse=True)  # fmt: skip
    assert page["result"]["results"] == newest[1:4]
    _status, shown = _get(client, "organization_show", id=f"lg-{A}", include_datasets="true")
    assert shown["result"]["packages"] == [p for p in found if p["name"] != "pref-shelters"]
