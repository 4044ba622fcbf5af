"""The site's search index (an FTS5 trigram table on SQLite, pg_trgm GIN indexes on
PostgreSQL, as the FAQ's: contact 0002) and the default sections of a new site."""

import datetime

from django.db import migrations

SQLITE = ["CREATE VIRTUAL TABLE site_search_fts USING fts5(title, body, tokenize='trigram')"]
SQLITE_DROP = ["DROP TABLE IF EXISTS site_search_fts"]
POSTGRES = ["CREATE EXTENSION IF NOT EXISTS pg_trgm"] + [
    f"CREATE INDEX site_{table}_{column}_trgm ON site_{table} "
    f"USING gin (search_{column} gin_trgm_ops)"
    for table in ("page", "newsitem")
    for column in ("title", "body")
]
POSTGRES_DROP = [
    f"DROP INDEX IF EXISTS site_{t}_{c}_trgm"
    for t in ("page", "newsitem")
    for c in ("title", "body")
]

# The same as machi.site.services.SECTIONS, frozen here: a migration must not change
# when the code does.
SECTIONS = (
    ("kurashi", {"ja": "くらし・手続き", "ja-easy": "くらし と てつづき", "en": "Living and procedures"}),
    ("kosodate", {"ja": "子育て", "ja-easy": "こそだて", "en": "Children and families"}),
    ("bosai", {"ja": "防災", "ja-easy": "さいがい に そなえる", "en": "Disaster preparedness"}),
    ("kenko", {"ja": "健康・福祉", "ja-easy": "けんこう と ふくし", "en": "Health and welfare"}),
    ("shisei", {"ja": "市政情報", "ja-easy": "まち の しごと", "en": "Municipal government"}),
)  # fmt: skip


def forward(apps, schema_editor):
    connection = schema_editor.connection
    vendor = connection.vendor
    for statement in SQLITE if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else []:
        schema_editor.execute(statement)
    # Sections: published at once, searchable once their text is indexed by the next
    # save (their text is a one-line placeholder each municipality rewrites).
    alias = connection.alias
    Page = apps.get_model("site", "Page")
    Version = apps.get_model("site", "Version")
    SiteState = apps.get_model("site", "SiteState")
    now = datetime.datetime.now(datetime.UTC)
    for position, (slug, title) in enumerate(SECTIONS, start=1):
        if Page.objects.using(alias).filter(path=slug).exists():
            continue
        body = {"ja": f"{title['ja']}に関する情報をご案内します。"}
        page = Page.objects.using(alias).create(
            slug=slug, path=slug, position=position, created_at=now, updated_at=now,
            title=title, body=body, status="published", published_at=now,
        )  # fmt: skip
        version = Version.objects.using(alias).create(
            page_id=page.pk, number=1, title=title, body=body, state="approved", note="初期設定",
            author_username="machi", reviewer_username="machi", created_at=now, reviewed_at=now,
        )  # fmt: skip
        page.live_version_id = version.pk
        page.save(using=alias, update_fields=["live_version"])
    SiteState.objects.using(alias).get_or_create(pk=1, defaults={"changed_at": now})


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    drops = SQLITE_DROP if vendor == "sqlite" else POSTGRES_DROP if vendor == "postgresql" else []
    for statement in drops:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("site", "0001_pages_news_versions")]
    operations = [migrations.RunPython(forward, backward)]
