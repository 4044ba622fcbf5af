"""`machi opendata publish-standard`: builds the dataset and publishes it through the
catalogue; bad input changes nothing."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management.base import CommandError

from machi.opendata.models import Dataset
from machi.opendata.standard.cli import publish_standard_command
from machi.opendata.standard.demo import standard_demo_seed
from machi.registry.tests.conftest import person
from machi.tenancy.context import tenant_context

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
