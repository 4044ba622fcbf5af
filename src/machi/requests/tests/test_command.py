"""`machi requests`: areas from GeoJSON, rules, category departments; bad files refused."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from machi.requests.models import Area, Category, RoutingRule
from machi.requests.tests.conftest import square
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


def run(*args):
    out = io.StringIO()
    call_command("requests", *args, "--tenant", "131016", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def feature(name, geometry):
    return {"type": "Feature", "properties": {"name": name}, "geometry": json.loads(geometry)}


def test_import_rule_and_list(tmp_path, doro):
    path = tmp_path / "areas.geojson"
    path.write_text(
        collection(feature("一丁目", square(0, 0, 1, 1)), feature("二丁目", square(1, 0, 2, 1)))
    )
    run("areas-import", str(path), "--kind", "chome")
    run("rule", "--department", "kankyo", "--category", "noise", "--area", "二丁目")
    run("category-department", "park", "--department", "doro")
    listing = run("list")
    assert "rule\tnoise\t二丁目\tkankyo" in listing
    with tenant_context("131016"):
        assert Area.objects.count() == 2 and RoutingRule.objects.count() == 1
        assert Category.objects.get(code="park").department == "doro"
    with tenant_context("271403"):
        assert not Area.objects.exists()


def test_bad_feature_imports_nothing(tmp_path, in_a):
    path = tmp_path / "areas.geojson"
    path.write_text(
        collection(
            feature("一丁目", square(0, 0, 1, 1)),
            {
                "type": "Feature",
                "properties": {"name": "x"},
                "geometry": {"type": "Point", "coordinates": [0, 0]},
            },
        )
    )
    with pytest.raises(CommandError, match="2 番目"):
        run("areas-import", str(path))
    with tenant_context("131016"):
        assert not Area.objects.exists()
    path.write_text("[]")
    with pytest.raises(CommandError, match="FeatureCollection"):
        run("areas-import", str(path))
    with pytest.raises(CommandError, match="ありません"):
        run("category-department", "park", "--department", "nowhere")
    with pytest.raises(CommandError, match="区域"):
        run("rule", "--department", "kankyo", "--area", "無い区域")
