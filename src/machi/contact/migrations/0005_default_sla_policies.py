"""Default SLA targets for every municipality (priority → first response, resolution,
warning before breach, in business minutes), so that timers run from the first ticket.

Frozen here rather than imported: a later change of the defaults must not rewrite what
this migration did. A municipality that already has any policy chose its own targets
(a priority left without one has no timer on purpose), so nothing is added there, and
no existing row is ever changed. The values are explained in docs/contact.md.
"""

from django.db import migrations

# priority (4 緊急, 3 高, 2 中, 1 低): minutes of business time; one business day of the
# default hours (8:30–17:15) is 525 minutes.
DEFAULTS = {
    4: (60, 525, 15),
    3: (240, 1050, 60),
    2: (525, 2625, 120),
    1: (1050, 5250, 240),
}


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("contact", "SlaPolicy")
    db = schema_editor.connection.alias
    if SlaPolicy.objects.using(db).exists():
        return
    SlaPolicy.objects.using(db).bulk_create(
        SlaPolicy(
            priority=priority,
            first_response_minutes=first,
            resolution_minutes=resolution,
            warn_before_minutes=warn,
        )
        for priority, (first, resolution, warn) in DEFAULTS.items()
    )


class Migration(migrations.Migration):
    dependencies = [("contact", "0004_mail_bounces")]

    # Reversing leaves the rows: they may have been edited since and are not ours to drop.
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
