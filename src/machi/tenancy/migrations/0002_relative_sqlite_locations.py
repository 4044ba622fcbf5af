"""Store municipalities' SQLite files relative to MACHI_DATA_DIR (issue 16): an absolute
path made a copied or restored data directory open the original's files."""

from pathlib import Path

from django.conf import settings
from django.db import migrations


def _relative(apps, schema_editor):
    Municipality = apps.get_model("tenancy", "Municipality")
    data_dir = Path(settings.DATA_DIR).resolve()
    prefix = "sqlite:////"
    for municipality in Municipality.objects.using(schema_editor.connection.alias).filter(
        database_url__startswith=prefix
    ):
        path = Path("/" + municipality.database_url[len(prefix) :])
        try:
            relative = path.relative_to(data_dir)
        except ValueError:
            continue  # a file outside the data directory stays where it is
        municipality.database_url = f"sqlite:///{relative.as_posix()}"
        municipality.save(update_fields=["database_url"])


def _absolute(apps, schema_editor):
    Municipality = apps.get_model("tenancy", "Municipality")
    data_dir = Path(settings.DATA_DIR).resolve()
    for municipality in (
        Municipality.objects.using(schema_editor.connection.alias)
        .filter(database_url__startswith="sqlite:///")
        .exclude(database_url__startswith="sqlite:////")
    ):
        path = data_dir / municipality.database_url[len("sqlite:///") :]
        municipality.database_url = f"sqlite:///{path}"
        municipality.save(update_fields=["database_url"])


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]

    operations = [migrations.RunPython(_relative, _absolute)]
