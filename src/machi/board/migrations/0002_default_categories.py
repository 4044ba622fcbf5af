"""The default categories in every municipality's board (new and existing)."""

from django.db import migrations

DEFAULT_CATEGORIES = [
    ("chiiki", "地域の話題", "まちの出来事やお知らせ、身近な話題"),
    ("kosodate", "子育て", "子育て・教育の情報交換"),
    ("bosai", "防災", "防災・防犯、災害への備え"),
    ("shisaku", "施策への意見", "市の施策やサービスへのご意見"),
    ("kurashi", "くらし", "ごみ・交通・生活の困りごと"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("board", "Category")
    using = schema_editor.connection.alias
    for order, (code, name, description) in enumerate(DEFAULT_CATEGORIES):
        Category.objects.using(using).get_or_create(
            code=code, defaults={"name": name, "description": description, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("board", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
