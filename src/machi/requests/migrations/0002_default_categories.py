"""The default categories every municipality starts with (administrators edit them).

Frozen here rather than imported: a later change of the defaults must not rewrite
what this migration did. Departments a municipality lacks (道路課 ``doro``, 公園緑地課
``koen``, 企画課 ``kikaku``) leave those requests in the triage queue until it adds them.
"""

from django.db import migrations

DEFAULTS = [
    ("road_damage", "道路の損傷", "doro", True, 7, "要望・通報", "道路,穴,陥没,舗装"),
    ("streetlight", "街灯の故障", "doro", True, 7, "要望・通報", "街灯,防犯灯,照明"),
    ("garbage", "ごみ・不法投棄", "kankyo", True, 7, "要望・通報", "ごみ,不法投棄,粗大ごみ"),
    ("park", "公園", "koen", True, 14, "要望・通報", "公園,遊具,樹木"),
    ("noise", "騒音", "kankyo", True, 14, "要望・通報", "騒音,振動"),
    ("policy_opinion", "施策への意見", "kikaku", False, 30, "意見", "意見,提案"),
    ("other", "その他", "", True, 14, "要望・通報", ""),
]


def create(apps, schema_editor):
    Category = apps.get_model("requests", "Category")
    db = schema_editor.connection.alias
    for order, (code, name, dept, public, days, group, keywords) in enumerate(DEFAULTS):
        Category.objects.using(db).get_or_create(
            code=code,
            defaults={
                "name": name, "department": dept, "public_by_default": public,
                "expected_response_days": days, "group": group, "keywords": keywords,
                "order": order,
            },
        )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("requests", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
