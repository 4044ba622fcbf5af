"""Inserting many model rows with little per-row overhead (SQLite).

``bulk_create`` compiles every value of every row through the ORM's insert compiler
(pre-save, prepare, adapt per field): ~25 µs per row and field group, most of an
intake's time under SQLite's single write lock. :func:`rows_insert` does what it does
for the field types the hot tables use — with a plan per model built once — and sends
one ``executemany`` (or one ``INSERT … RETURNING id`` when the ids are needed).

Values are adapted exactly as ``Field.get_db_prep_save`` would (plain strings, integers
and booleans as they are, aware datetimes and dates through the backend's adapters,
JSON with the field's encoder); any other field or an unexpected value type goes
through ``get_db_prep_save`` itself. On other databases it is ``bulk_create``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models

_IDENTITY = {
    models.CharField: str,
    models.TextField: str,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.BooleanField: bool,
}
MAX_PARAMS = 999  # SQLite's historic limit on host parameters per statement

_plans: dict[tuple[type[models.Model], bool], tuple[str, list[Callable[[Any], Any]]]] = {}


def _converter(field: models.Field, connection: Any) -> Callable[[Any], Any]:
    attname = field.attname
    generic = field.get_db_prep_save
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda obj: generic(field.pre_save(obj, True), connection)
    kind = type(field)
    if kind in _IDENTITY:
        expected = _IDENTITY[kind]

        def plain(obj: Any) -> Any:
            value = getattr(obj, attname)
            if value is None or type(value) is expected:
                return value
            return generic(value, connection)

        return plain
    if isinstance(field, models.ForeignKey) and type(field.target_field) in (
        models.AutoField,
        models.BigAutoField,
    ):

        def key(obj: Any) -> Any:
            value = getattr(obj, attname)
            if value is None and (related := getattr(obj, field.name, None)) is not None:
                value = related.pk  # assigned after the related row was saved
                setattr(obj, attname, value)
            return value if value is None or type(value) is int else generic(value, connection)

        return key
    adapt_datetime = connection.ops.adapt_datetimefield_value
    if kind is models.DateTimeField:

        def moment(obj: Any) -> Any:
            value = getattr(obj, attname)
            if type(value) is datetime.datetime and value.tzinfo is not None:
                return adapt_datetime(value)
            return generic(value, connection)

        return moment
    if kind is models.DateField:

        def day(obj: Any) -> Any:
            value = getattr(obj, attname)
            return value.isoformat() if type(value) is datetime.date else generic(value, connection)

        return day
    if kind is models.JSONField:
        adapt_json, encoder = connection.ops.adapt_json_value, field.encoder

        def document(obj: Any) -> Any:
            value = getattr(obj, attname)
            if value is None:
                return None
            if type(value) in (dict, list, str, int, float, bool):
                return adapt_json(value, encoder)
            return generic(value, connection)

        return document
    return lambda obj: generic(getattr(obj, attname), connection)


def _plan(
    model: type[models.Model], connection: Any, with_pk: bool
) -> tuple[str, list[Callable[[Any], Any]], int]:
    key = (model, with_pk)
    plan = _plans.get(key)
    if plan is None:
        fields = [
            f for f in model._meta.concrete_fields if with_pk or not f.primary_key
        ]  # fmt: skip
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608 - model metadata
        plan = _plans[key] = (sql, [_converter(f, connection) for f in fields])
    sql, converters = plan
    return sql, converters, len(converters)


def rows_insert(
    model: type[models.Model],
    objs: Sequence[models.Model],
    *,
    using: str,
    returning: bool = False,
) -> list[models.Model]:
    """Insert ``objs`` (unsaved instances of ``model``) on database ``using`` in order.

    ``returning``: set their primary keys from ``INSERT … RETURNING`` (else they are
    left unset, as ``bulk_create`` does on a backend without RETURNING). Instances whose
    primary key is set keep it. Returns ``objs``."""
    objs = list(objs)
    if not objs:
        return objs
    connection = connections[using]
    if connection.vendor != "sqlite":
        return model.objects.using(using).bulk_create(objs)
    with_pk = all(obj.pk is not None for obj in objs)
    sql, converters, width = _plan(model, connection, with_pk)
    rows = [tuple([convert(obj) for convert in converters]) for obj in objs]
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        if not returning or with_pk:
            cursor.executemany(sql + placeholders, rows)
        else:
            step = max(1, MAX_PARAMS // width)
            for start in range(0, len(rows), step):
                chunk = rows[start : start + step]
                cursor.execute(
                    sql + ", ".join([placeholders] * len(chunk)) + f" RETURNING {pk_column}",
                    [value for row in chunk for value in row],
                )
                for obj, (pk,) in zip(objs[start : start + step], cursor.fetchall(), strict=True):
                    obj.pk = pk
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs
