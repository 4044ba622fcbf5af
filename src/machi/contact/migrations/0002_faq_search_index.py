"""The FAQ search index: an FTS5 trigram table on SQLite, pg_trgm GIN indexes on
PostgreSQL (DESIGN.md, SQLite FTS5 / pg_trgm)."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE contact_faq_fts USING fts5(title, keywords, body, tokenize='trigram')",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS contact_faq_fts"]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *(
        f"CREATE INDEX contact_faq_{column}_trgm ON contact_faqanswer "
        f"USING gin (search_{column} gin_trgm_ops)"
        for column in ("title", "keywords", "body")
    ),
]
POSTGRES_DROP = [
    f"DROP INDEX IF EXISTS contact_faq_{c}_trgm" for c in ("title", "keywords", "body")
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in SQLITE if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else []:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    drops = SQLITE_DROP if vendor == "sqlite" else POSTGRES_DROP if vendor == "postgresql" else []
    for statement in drops:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("contact", "0001_tickets_sla_faq")]
    operations = [migrations.RunPython(forward, backward)]
