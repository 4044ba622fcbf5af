"""A covering index of the registry's residents for 地域・年齢別人口.

The two grouped counts (people per 町丁目, sex and age band; households per 町丁目) read
only status, machiaza, sex, birth_date_approx and household_id. Without this index they
scan the whole resident table (about 1.8 KB a row with the encrypted names and keys:
1.8 GB for a million residents), with it a ~40 MB index: 7.9 s → 2.7 s for a million
residents on SQLite (docs/performance.md). Created here, beside the only reader that
needs it; plain SQL that SQLite and PostgreSQL both take.
"""

from django.db import migrations

INDEX = "standarddata_population_cover"


class Migration(migrations.Migration):
    dependencies = [
        ("standarddata", "0002_facility_owner"),
        ("registry", "0002_residentkey_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                f'CREATE INDEX "{INDEX}" ON "registry_resident" '
                '("status", "machiaza", "sex", "birth_date_approx", "household_id")'
            ),
            reverse_sql=f'DROP INDEX "{INDEX}"',
        ),
    ]
