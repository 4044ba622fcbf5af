"""`machi opendata publish-standard`: builds the dataset and publishes it through the
catalogue; bad input changes nothing."""

from __future__ import annotations

import csv
import datetime
import io
import urllib.request

import ckanapi
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rdflib import Graph
from rdflib.namespace import DCAT, DCTERMS, RDF

from machi.opendata.models import Dataset
from machi.opendata.standard.cli import publish_standard_command
from machi.opendata.standard.demo import standard_demo_seed
from machi.opendata.standard.schema import schema_load, schema_validate
from machi.opendata.tests.conftest import A
from machi.registry.tests.conftest import person
from machi.tenancy.context import tenant_context
from machi.web.demo import demo_residents_seed

pytestmark = pytest.mark.django_db(databases="__all__")


def test_population_is_published_with_the_date_and_method_in_its_notes(move_in):
    move_in([person("山田 一郎", "ヤマダ イチロウ")])
    out = io.StringIO()
    publish_standard_command(
        lg_code="131016", dataset="population", date=datetime.date(2026, 12, 1), stdout=out
    )
    assert "地域・年齢別人口" in out.getvalue() and "3/3" in out.getvalue()
    with tenant_context("131016"):
        dataset = Dataset.objects.get(name="population-by-area-and-age")
        assert dataset.is_published
        assert "基準日: 2026-12-01" in dataset.notes and "二次秘匿" in dataset.notes
        # Publishing the same again adds no version.
        count = dataset.resources.get().versions.count()
    publish_standard_command(
        lg_code="131016", dataset="population", date=datetime.date(2026, 12, 1), stdout=out
    )
    with tenant_context("131016"):
        assert (
            Dataset.objects.get(name="population-by-area-and-age").resources.get().versions.count()
            == count
        )


def test_shelters_are_published_in_their_municipality_only(municipality_a, municipality_b):
    standard_demo_seed(lg_code="131016")
    publish_standard_command(lg_code="131016", dataset="shelters", date=None, stdout=io.StringIO())
    with tenant_context("131016"):
        assert Dataset.objects.filter(name="evacuation-space", state="published").exists()
    with tenant_context("271403"):
        assert not Dataset.objects.filter(name="evacuation-space").exists()


@pytest.mark.parametrize(
    ("lg_code", "dataset", "date", "message"),
    [
        ("131016", "people", None, "--dataset"),
        ("999999", "population", None, None),
        ("131016", "aed", datetime.date(2026, 1, 1), "--date"),
    ],
)
def test_bad_input_is_refused(municipality_a, lg_code, dataset, date, message):
    with pytest.raises(CommandError, match=message):
        publish_standard_command(lg_code=lg_code, dataset=dataset, date=date, stdout=io.StringIO())
    with tenant_context("131016"):
        assert not Dataset.objects.exists()


def test_the_demo_municipality_publishes_what_ckanapi_and_dcat_list(
    municipality_a, server_url, client
):
    """The demo path: synthetic residents and the demo masters, then the real command
    for population and shelters; ckanapi lists and shows both, their CSV downloaded over
    HTTP passes the shipped schema, and the DCAT catalogue carries both datasets."""
    residents = demo_residents_seed(lg_code=A, count=300)
    assert residents.created == 300 and residents.rejected == 0
    assert standard_demo_seed(lg_code=A) == 9
    assert standard_demo_seed(lg_code=A) == 0  # again: nothing changes
    out = io.StringIO()
    for dataset in ("population", "shelters"):
        call_command("opendata", "publish-standard", "--tenant", A, "--dataset", dataset,
                     stdout=out)  # fmt: skip
    assert "地域・年齢別人口" in out.getvalue() and "指定緊急避難場所一覧" in out.getvalue()

    slugs = {"population": "population-by-area-and-age", "shelters": "evacuation-space"}
    with ckanapi.RemoteCKAN(f"{server_url}/{A}", user_agent="machi-tests") as ckan:
        listed = ckan.action.package_list()
        assert set(slugs.values()) <= set(listed)
        found = ckan.action.package_search(fq="tags:自治体標準オープンデータセット", rows=10)
        assert {p["name"] for p in found["results"]} == set(slugs.values())
        for dataset, slug in slugs.items():
            package = ckan.action.package_show(id=slug)
            assert package["license_id"] == "cc-by-4.0"
            (resource,) = package["resources"]
            assert resource["format"] == "CSV"
            content = urllib.request.urlopen(resource["url"], timeout=10).read()  # noqa: S310
            assert schema_validate(dataset=dataset, content=content) == []
            header = content.decode("utf-8-sig").split("\r\n")[0].split(",")
            assert header == [field["name"] for field in schema_load(dataset)["fields"]]
            if dataset == "population":
                assert "基準日" in package["notes"] and "二次秘匿" in package["notes"]
                rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[1:]
                assert len(rows) > 1
                for row in rows:  # no published figure identifies fewer than 3 people
                    for value in row[6:-1]:
                        assert value == "X" or int(value) == 0 or int(value) >= 3, row
            else:
                assert len(content.decode("utf-8-sig").split("\r\n")) == 1 + 3 + 1

    graph = Graph().parse(data=client.get(f"/{A}/dcat/catalog.ttl").content.decode(),
                          format="turtle")  # fmt: skip
    (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
    titles = {str(graph.value(d, DCTERMS.title)) for d in graph.objects(catalog, DCAT.dataset)}
    assert {"地域・年齢別人口", "指定緊急避難場所一覧"} <= titles
    for dataset in graph.objects(catalog, DCAT.dataset):
        if str(graph.value(dataset, DCTERMS.title)) in {"地域・年齢別人口", "指定緊急避難場所一覧"}:
            (dist,) = graph.objects(dataset, DCAT.distribution)
            assert graph.value(dist, DCAT.accessURL) is not None
            assert graph.value(dist, DCTERMS.license) is not None
