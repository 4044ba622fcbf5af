"""A municipality's SQLite file is stored relative to MACHI_DATA_DIR, so a copied or
restored data directory opens its own files (issue 16 §1)."""

from __future__ import annotations

import importlib
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connections

from machi.tenancy.databases import default_database_url, tenant_database_config
from machi.tenancy.dbconfig import sqlite_url

relative_migration = importlib.import_module(
    "machi.tenancy.migrations.0002_relative_sqlite_locations"
)


def test_a_new_sqlite_municipality_is_stored_relative_to_the_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.TENANT_DATA_DIR = tmp_path / "tenants"
    settings.TENANT_DATABASE_URL_TEMPLATE = ""
    assert default_database_url("131016") == "sqlite:///tenants/131016.sqlite3"


def test_a_file_outside_the_data_dir_stays_absolute(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.TENANT_DATA_DIR = tmp_path / "elsewhere"
    settings.TENANT_DATABASE_URL_TEMPLATE = ""
    url = default_database_url("131016")
    assert url == sqlite_url(tmp_path / "elsewhere" / "131016.sqlite3")
    assert tenant_database_config(url)["NAME"] == str(tmp_path / "elsewhere" / "131016.sqlite3")


def test_a_copied_data_dir_opens_its_own_files(settings, tmp_path):
    original, copy = tmp_path / "original", tmp_path / "copy"
    (original / "tenants").mkdir(parents=True)
    with sqlite3.connect(original / "tenants" / "131016.sqlite3") as db:
        db.execute("CREATE TABLE t (x)")
    shutil.copytree(original, copy)
    url = "sqlite:///tenants/131016.sqlite3"

    settings.DATA_DIR = copy
    name = Path(tenant_database_config(url)["NAME"])
    assert name == copy / "tenants" / "131016.sqlite3"
    with sqlite3.connect(name) as db:
        db.execute("INSERT INTO t VALUES (1)")
    with sqlite3.connect(original / "tenants" / "131016.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.django_db
def test_the_migration_rewrites_absolute_paths_inside_the_data_dir(settings, tmp_path):
    from machi.tenancy.models import Municipality

    settings.DATA_DIR = tmp_path
    inside = sqlite_url(tmp_path / "tenants" / "131016.sqlite3")
    outside = "sqlite:////srv/other/271403.sqlite3"
    postgres = "postgres://machi@db.example/machi_011002"
    for lg_code, url in (("131016", inside), ("271403", outside), ("011002", postgres)):
        Municipality.objects.filter(lg_code=lg_code).delete()
        Municipality.objects.create(lg_code=lg_code, name=lg_code, database_url=url)
    editor = SimpleNamespace(connection=connections["default"])

    relative_migration._relative(apps, editor)
    urls = dict(Municipality.objects.values_list("lg_code", "database_url"))
    assert urls["131016"] == "sqlite:///tenants/131016.sqlite3"
    assert urls["271403"] == outside
    assert urls["011002"] == postgres

    relative_migration._absolute(apps, editor)
    assert Municipality.objects.get(lg_code="131016").database_url == inside
