"""pg_trgm on PostgreSQL sees Japanese: the database's LC_CTYPE is UTF-8 (under C,
pg_trgm takes every kanji and kana for a separator and extracts no trigram), the FAQ's
GIN indexes answer a Japanese LIKE, and the search finds Japanese answers through them."""

from __future__ import annotations

import re

import pytest
from django.db import connections, transaction

from machi.contact.selectors import faq_search
from machi.contact.services.faq import faq_load_default
from machi.tenancy.context import current_tenant_alias

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def pg(in_a):
    connection = connections[current_tenant_alias()]
    if connection.vendor != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's (SQLite uses FTS5 trigram)")
    faq_load_default()
    return connection


def test_trigrams_of_japanese(pg) -> None:
    with pg.cursor() as cursor:
        cursor.execute("SHOW lc_ctype")
        (ctype,) = cursor.fetchone()
        cursor.execute(
            "SELECT show_trgm(%s), similarity(%s, %s)", [" 住民票 ", "住民票の写し", "住民票"]
        )
        trigrams, similarity = cursor.fetchone()
    assert "utf" in ctype.lower().replace("-", "")
    assert len(trigrams) >= 3 and similarity > 0.3


def test_the_gin_index_answers_a_japanese_like(pg) -> None:
    with transaction.atomic(using=pg.alias), pg.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM contact_faqanswer WHERE search_title LIKE %s", ["% 住民票 %"]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        # A fresh table (no dead rows of earlier tests in its index): with trigrams the
        # index hands on only the row that has them all; without (C ctype) the pattern
        # has none and the index hands on every row.
        cursor.execute("CREATE TEMP TABLE trgm_probe (text text) ON COMMIT DROP")
        cursor.execute(
            "INSERT INTO trgm_probe SELECT ' 印鑑 登録 ' || n FROM generate_series(1, 200) n"
        )
        cursor.execute("INSERT INTO trgm_probe VALUES (' 住民票 写し 請求 ')")
        cursor.execute("CREATE INDEX ON trgm_probe USING gin (text gin_trgm_ops)")
        cursor.execute("ANALYZE trgm_probe")
        cursor.execute(
            "EXPLAIN ANALYZE SELECT * FROM trgm_probe WHERE text LIKE %s", ["% 住民票 %"]
        )
        analysed = "\n".join(row[0] for row in cursor.fetchall())
    assert "contact_faq_title_trgm" in plan
    (line,) = [line for line in analysed.splitlines() if "Bitmap Index Scan" in line]
    assert re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=1 ", line), analysed


def test_search_finds_japanese_on_postgres(pg) -> None:
    hits = faq_search(query="住民票を取りたい")
    assert hits and hits[0].answer.question == "住民票の写しの請求"
