"""Inserting many model rows with little per-row overhead (SQLite), and reading a few
rows on every request without compiling a query each time.

``bulk_create`` compiles every value of every row through the ORM's insert compiler
(pre-save, prepare, adapt per field): ~25 µs per row and field group, most of an
intake's time under SQLite's single write lock. :func:`rows_insert` does what it does
for the field types the hot tables use — with a plan per model built once — and sends
one ``executemany`` (or one ``INSERT … RETURNING id`` when the ids are needed).

Values are adapted as ``Field.get_db_prep_save`` would (plain strings, integers and
booleans as they are, aware datetimes and dates through the backend's adapters); JSON
fields without a custom encoder are written by :func:`json_text` — the same value as
``json.dumps``'s, in compact text (a float NaN or infinity becomes ``null`` instead of
the non-standard ``NaN``). Any other field or an unexpected value type goes through
``get_db_prep_save`` itself. On other databases it is ``bulk_create``.

:func:`rows_select` reads the instances of one model matching a fixed ``WHERE`` clause:
~20 µs of SQL instead of ~150 µs of building and compiling a queryset. The sign-in path
(session, staff member, second factor) runs it on every request.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from django.db import connections, models
from django.db.models.base import ModelState
from django.db.models.expressions import Expression
from django.db.models.signals import post_init, pre_init

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
# Values json.dumps rejects go to it (and fail there) rather than being written the way
# orjson would write them; orjson has no such switch for UUIDs and enums, which the ORM
# would refuse too and no caller passes.
_JSON_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
MAX_PARAMS = 999  # SQLite's historic limit on host parameters per statement

_plans: dict[tuple[type[models.Model], bool], tuple[str, list[Callable[[Any], Any]]]] = {}
_new_plans: dict[type[models.Model], list[tuple[str, str, models.Field]] | None] = {}
_select_plans: dict[tuple[type[models.Model], str, str], tuple[str, list[str], list[Any]]] = {}


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
        # What the adapter makes of an aware datetime already in the connection's time
        # zone (UTC, timezone.now()): the naive text, without the conversion.
        utc = connection.timezone in (datetime.UTC, ZoneInfo("UTC"))

        def moment(obj: Any) -> Any:
            value = getattr(obj, attname)
            if type(value) is datetime.datetime and value.tzinfo is not None:
                if utc and value.tzinfo is datetime.UTC:
                    return str(value.replace(tzinfo=None))
                return adapt_datetime(value)
            return generic(value, connection)

        return moment
    if kind is models.DateField:

        def day(obj: Any) -> Any:
            value = getattr(obj, attname)
            return value.isoformat() if type(value) is datetime.date else generic(value, connection)

        return day
    if isinstance(field, models.JSONField) and field.encoder is None:
        prepare = field.get_prep_value  # JapaneseDateField: the date's dict

        def document(obj: Any) -> Any:
            value = getattr(obj, attname)
            if value is None:
                return None
            if isinstance(value, Expression):
                return generic(value, connection)
            return json_text(prepare(value))

        return document
    return lambda obj: generic(getattr(obj, attname), connection)


def json_text(value: Any) -> str:
    """``value`` as JSON text: the value ``json.dumps`` would write, made by orjson
    (~10× faster: an intake encodes ~50 documents with the write lock held). The text is
    compact and keeps non-ASCII characters as they are, so it is shorter than
    ``json.dumps``'s; both read back to the same value. What orjson refuses (integers
    beyond 64 bits, keys that are not strings, lone surrogates) goes to ``json.dumps``,
    which encodes it, or raises as the ORM would."""
    try:
        return orjson.dumps(value, option=_JSON_STRICT).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def rows_new(model: type[models.Model], values: dict[str, Any]) -> models.Model:
    """An unsaved ``model`` instance holding ``values`` — what ``model(**values)`` makes,
    without ``Model.__init__``'s work per field (~10 µs an instance; an intake builds
    ~50 rows). Keys are attribute names (``resident_id``) or relation names with an
    instance (``resident=…``, possibly unsaved); fields not given get their defaults.
    The instance is made the way unpickling makes one; a model with ``pre_init`` or
    ``post_init`` receivers is built by ``Model.__init__``."""
    if model not in _new_plans:
        listened = pre_init.has_listeners(model) or post_init.has_listeners(model)
        _new_plans[model] = None if listened else [
            (f.attname, f.name, f) for f in model._meta.concrete_fields
        ]  # fmt: skip
    plan = _new_plans[model]
    if plan is None:
        return model(**values)
    obj = model.__new__(model)
    state = ModelState()
    attributes = obj.__dict__
    attributes["_state"] = state
    used = 0
    for attname, name, field in plan:
        if attname in values:
            attributes[attname] = values[attname]
            used += 1
        elif name != attname and name in values:
            related = values[name]
            target = field.target_field.attname
            attributes[attname] = None if related is None else getattr(related, target)
            state.fields_cache[name] = related
            used += 1
        else:
            attributes[attname] = field.get_default()
    if used != len(values):
        known = {name for entry in plan for name in entry[:2]}
        unknown = ", ".join(sorted(set(values) - known))
        raise TypeError(f"{model.__name__} has no field {unknown}")
    return obj


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


def _select_plan(
    model: type[models.Model], connection: Any, where: str
) -> tuple[str, list[str], list[Any]]:
    key = (model, connection.alias, where)
    plan = _select_plans.get(key)
    if plan is None:
        fields = model._meta.concrete_fields
        quote = connection.ops.quote_name
        table = model._meta.db_table
        columns = ", ".join(quote(f.column) for f in fields)
        sql = f"SELECT {columns} FROM {quote(table)} WHERE {where}"  # noqa: S608 - model metadata and the caller's fixed clause
        converters = []
        for field in fields:
            # What the ORM's compiler applies to a column it selects.
            column = field.get_col(table)
            chain = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            converters.append((column, chain) if chain else None)
        plan = _select_plans[key] = (sql, [f.attname for f in fields], converters)
    return plan


def rows_select(
    model: type[models.Model], *, using: str, where: str, params: Sequence[Any]
) -> list[models.Model]:
    """The instances of ``model`` on database ``using`` matching ``where`` — a fixed SQL
    condition with ``%s`` placeholders (never built from input: the SQL is planned once
    per clause). ``params`` must be adapted already (``connection.ops.adapt_*``), as
    for a raw cursor. Values are converted as the ORM converts them."""
    connection = connections[using]
    sql, attnames, converters = _select_plan(model, connection, where)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    instances = []
    for row in rows:
        values = list(row)
        for index, converter in enumerate(converters):
            if converter is not None:
                column, chain = converter
                value = values[index]
                for convert in chain:
                    value = convert(value, column, connection)
                values[index] = value
        instances.append(model.from_db(using, attnames, values))
    return instances
