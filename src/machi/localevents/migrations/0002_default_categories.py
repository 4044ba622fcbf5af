from django.db import migrations

CATEGORIES = [
    ("matsuri", {"ja": "祭り・行事", "ja-easy": "おまつり", "en": "Festivals"}),
    ("kouza", {"ja": "講座・教室", "ja-easy": "べんきょうの かい", "en": "Classes and talks"}),
    ("sports", {"ja": "スポーツ", "ja-easy": "スポーツ", "en": "Sports"}),
    ("kosodate", {"ja": "子育て", "ja-easy": "こそだて", "en": "Families and children"}),
    ("bunka", {"ja": "文化・芸術", "ja-easy": "ぶんか・げいじゅつ", "en": "Culture and arts"}),
    ("bosai", {"ja": "防災", "ja-easy": "さいがいへの そなえ", "en": "Disaster preparedness"}),
    ("other", {"ja": "その他", "ja-easy": "そのほか", "en": "Other"}),
]


def add(apps, schema_editor):
    Category = apps.get_model("localevents", "Category")
    for order, (code, name) in enumerate(CATEGORIES):
        Category.objects.using(schema_editor.connection.alias).get_or_create(
            code=code, defaults={"name": name, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("localevents", "0001_events")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
