"""道路課, 公園緑地課 and 企画課 for municipalities created before they became default
departments (the default request categories name them)."""

from django.db import migrations

DEPARTMENTS = {"doro": "道路課", "koen": "公園緑地課", "kikaku": "企画課"}


def add_departments(apps, schema_editor):
    alias = schema_editor.connection.alias
    Municipality = apps.get_model("tenancy", "Municipality")
    Department = apps.get_model("accounts", "Department")
    for municipality in Municipality.objects.using(alias).all():
        for code, name in DEPARTMENTS.items():
            Department.objects.using(alias).get_or_create(
                municipality=municipality, code=code, defaults={"name": name}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_reset_links_and_notices"),
    ]

    # Reversing leaves the departments: staff or requests may already belong to them.
    operations = [migrations.RunPython(add_departments, migrations.RunPython.noop)]
