"""DCAT-AP 3 read back with rdflib, the dataset page's schema.org JSON-LD, the resource
URLs (stable and per version), and the staff pages' roles."""

import datetime
import json
import re

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from machi.opendata.services import ResourceIn, dataset_publish
from machi.opendata.tests.conftest import CSV_UTF8, A, B
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")
HYDRA_NEXT = URIRef("http://www.w3.org/ns/hydra/core#next")


def _graph(client, suffix: str, fmt: str, **params) -> Graph:
    response = client.get(f"/{A}/dcat/catalog.{suffix}", params)
    assert response.status_code == 200, response.content
    return Graph().parse(data=response.content.decode(), format=fmt)


@pytest.mark.parametrize(("suffix", "fmt"), [("jsonld", "json-ld"), ("ttl", "turtle")])
def test_dcat_has_the_required_dcat_ap_properties(client, catalogue, suffix, fmt):
    graph = _graph(client, suffix, fmt)
    (cat,) = graph.subjects(RDF.type, DCAT.Catalog)
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher):
        assert graph.value(cat, prop) is not None, prop
    assert graph.value(graph.value(cat, DCTERMS.publisher), FOAF.name) is not None
    datasets = set(graph.objects(cat, DCAT.dataset))
    assert len(datasets) == 2  # the draft is not in it
    for dataset in datasets:
        assert (dataset, RDF.type, DCAT.Dataset) in graph
        assert graph.value(dataset, DCTERMS.title) is not None
        assert graph.value(dataset, DCTERMS.description) is not None
        distributions = list(graph.objects(dataset, DCAT.distribution))
        assert distributions
        for dist in distributions:
            assert (dist, RDF.type, DCAT.Distribution) in graph
            assert graph.value(dist, DCAT.accessURL) is not None
            assert graph.value(dist, DCTERMS.license) is not None
    titles = {str(graph.value(d, DCTERMS.title)) for d in datasets}
    assert titles == {"公共施設一覧", "AED設置箇所一覧"}


def test_dcat_paging_and_modified_since(client, catalogue, monkeypatch):
    from machi.opendata import dcat

    monkeypatch.setattr(dcat, "PAGE_SIZE", 1)
    first = _graph(client, "ttl", "turtle")
    (cat,) = first.subjects(RDF.type, DCAT.Catalog)
    assert len(list(first.objects(cat, DCAT.dataset))) == 1
    (next_page,) = first.objects(None, HYDRA_NEXT)
    assert "page=2" in str(next_page)
    second = _graph(client, "ttl", "turtle", page=2)
    assert not list(second.objects(None, HYDRA_NEXT))

    future = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).date().isoformat()
    empty = _graph(client, "jsonld", "json-ld", modified_since=future)
    assert not list(empty.objects(None, DCAT.dataset))
    assert client.get(f"/{A}/dcat/catalog.ttl", {"modified_since": "yesterday"}).status_code == 400
    assert client.get(f"/{A}/dcat/catalog.ttl", {"page": "0"}).status_code == 400


def test_dataset_page_schema_org_and_cache_headers(client, catalogue):
    response = client.get(f"/{A}/opendata/aed/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public")
    assert "ETag" in response
    match = re.search(
        rb'<script type="application/ld\+json">(.*?)</script>', response.content, re.S
    )
    data = json.loads(match.group(1))
    assert data["@type"] == "Dataset"
    assert data["name"] == "AED設置箇所一覧"
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert data["distribution"][0]["encodingFormat"] == "application/geo+json"
    again = client.get(f"/{A}/opendata/aed/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert client.get(f"/{A}/opendata/draft-only/").status_code == 404
    assert client.get(f"/{B}/opendata/aed/").status_code == 404
    listing = client.get(f"/{A}/opendata/", {"tag": "防災"})
    assert "AED設置箇所一覧" in listing.content.decode()
    assert "下書きの防災データ" not in listing.content.decode()
    english = client.get(f"/{A}/opendata/aed/", {"lang": "en"}, follow=True)
    assert english.status_code == 200


def test_dataset_text_is_escaped_in_page_and_json_ld(client, in_a):
    hostile = "</script><script>alert(1)</script>"
    dataset_publish(
        slug="xss",
        title=hostile,
        notes=hostile,
        tags=["<b>"],
        frequency="ANNUAL",
        resources=[ResourceIn(name="表", format="CSV", content=CSV_UTF8, media_type="text/csv")],
    )
    body = client.get(f"/{A}/opendata/xss/").content.decode()
    assert "<script>alert(1)" not in body
    assert "</script><script>" not in body


def test_stable_url_serves_the_latest_and_each_version_stays(client, published):
    resource = published.resources.get()
    base = f"/{A}/opendata/facilities/resource/{resource.uuid}/"
    first = client.get(base)
    assert first.content == CSV_UTF8
    assert first["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in first["Content-Disposition"]
    newer = CSV_UTF8 + "体育館,千代田区3-3,35.70,139.77\r\n".encode()
    with tenant_context(A):
        dataset_publish(
            slug="facilities",
            title="公共施設一覧",
            notes="区の公共施設です。",
            tags=["施設"],
            frequency="ANNUAL",
            resources=[
                ResourceIn(name="公共施設一覧", format="CSV", content=newer, media_type="text/csv")
            ],
        )
    assert client.get(base).content == newer
    assert client.get(base + "v/1/").content == CSV_UTF8
    assert "immutable" in client.get(base + "v/1/")["Cache-Control"]
    assert client.get(base + "v/9/").status_code == 404
    assert client.get(base, HTTP_IF_NONE_MATCH=client.get(base)["ETag"]).status_code == 304
    assert client.get(f"/{B}/opendata/facilities/resource/{resource.uuid}/").status_code == 404


def test_staff_pages_by_role(signed_in, author, approver, clerk, approver_b, in_a):
    home = f"/{A}/opendata/staff/"
    assert signed_in(clerk).get(home).status_code == 403
    assert signed_in(approver_b).get(home).status_code == 403
    writer = signed_in(author)
    assert writer.get(home).status_code == 200
    response = writer.post(
        home + "new/",
        {
            "name": "shelters",
            "title": "避難場所",
            "frequency": "ANNUAL",
            "licence": "cc-by-4.0",
            "tags": "防災、避難",
        },
    )
    assert response.status_code == 302
    bad = writer.post(
        home + "new/",
        {"name": "shelters", "title": "", "frequency": "ANNUAL", "licence": "cc-by-4.0"},
    )
    assert bad.status_code == 400
    from django.core.files.uploadedfile import SimpleUploadedFile

    broken = SimpleUploadedFile(
        "x.csv", "名称,住所\r\n公園\r\n".encode("cp932"), content_type="text/csv"
    )
    refused = writer.post(
        home + "shelters/upload/", {"resource_name": "一覧", "format": "CSV", "file": broken}
    )
    assert refused.status_code == 400
    assert "2行目" in refused.content.decode()
    good = SimpleUploadedFile(
        "x.csv", "名称,住所\r\n公園,千代田1\r\n".encode("cp932"), content_type="text/plain"
    )
    assert (
        writer.post(
            home + "shelters/upload/", {"resource_name": "一覧", "format": "CSV", "file": good}
        ).status_code
        == 302
    )
    assert writer.post(home + "shelters/publish/").status_code == 403
    assert signed_in(approver).post(home + "shelters/publish/").status_code == 302
    from machi.opendata.models import Dataset

    assert Dataset.objects.get(name="shelters").is_published
    assert signed_in(approver).get(home + "nothing/").status_code == 404
