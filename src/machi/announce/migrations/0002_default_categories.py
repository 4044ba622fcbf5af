"""The default categories of announcements; a municipality may add its own."""

from django.db import migrations

DEFAULTS = [
    ("bousai", {"ja": "防災・安全", "ja-easy": "さいがい・あんぜん", "en": "Disaster and safety"}),
    ("kurashi", {"ja": "くらし・手続き", "ja-easy": "くらし・てつづき", "en": "Living"}),
    ("kosodate", {"ja": "子育て・教育", "ja-easy": "こそだて", "en": "Children and education"}),
    ("kenko", {"ja": "健康・福祉", "ja-easy": "けんこう", "en": "Health and welfare"}),
    ("kankyo", {"ja": "環境・ごみ", "ja-easy": "かんきょう・ごみ", "en": "Environment and waste"}),
    ("event", {"ja": "イベント", "ja-easy": "イベント", "en": "Events"}),
]


def seed(apps, schema_editor):
    Category = apps.get_model("announce", "Category")
    db = schema_editor.connection.alias
    for order, (code, name) in enumerate(DEFAULTS, start=1):
        Category.objects.using(db).get_or_create(
            code=code, defaults={"name": name, "order": order * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("announce", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
