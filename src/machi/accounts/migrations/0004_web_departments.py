"""広報課 and 防災課 for municipalities created before they became default departments
(the website, announcements and the community board are theirs)."""

from django.db import migrations

DEPARTMENTS = {"koho": "広報課", "bosai": "防災課"}


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
        ("accounts", "0003_request_departments"),
    ]

    # Reversing leaves the departments: staff may already belong to them.
    operations = [migrations.RunPython(add_departments, migrations.RunPython.noop)]
