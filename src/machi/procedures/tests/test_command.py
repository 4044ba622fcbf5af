"""`machi navigator --input scenario.json [--tenant <code>]`."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from machi.procedures import services
from machi.procedures.tests.helpers import P, S, fired
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

SCENARIO = S("move_in", ["o"], [P("o", "1958-01-01", householder=True)], answers={"has_dog": True})


def run(*args, stdin=None):
    out = io.StringIO()
    if stdin is not None:
        import sys

        old, sys.stdin = sys.stdin, io.StringIO(stdin)
        try:
            call_command("navigator", *args, stdout=out)
        finally:
            sys.stdin = old
    else:
        call_command("navigator", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(SCENARIO, ensure_ascii=False), encoding="utf-8")
    return path


def test_default_catalogue_without_tenant(scenario_file):
    result = run("--input", str(scenario_file))
    assert fired(result, "kaigo.enroll") == ["o"]
    assert fired(result, "dog.transfer_in") == [None]


def test_stdin():
    assert fired(run("--input", "-", stdin=json.dumps(SCENARIO)), "juki.move_in") == ["o"]


def test_tenant_catalogue(scenario_file, make_staff, municipality_a, municipality_b):
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    with tenant_context("131016"):
        services.catalogue_upload(
            text="procedures:\n  - code: dog.transfer_in\n    disabled: true\n",
            actor=admin,
            comment="x",
        )
    assert fired(run("--input", str(scenario_file), "--tenant", "131016"), "dog.transfer_in") == []
    assert fired(run("--input", str(scenario_file), "--tenant", "271403"), "dog.transfer_in") == [
        None
    ]


def test_bad_input_is_a_command_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(S("moving", ["p9"], [P("a")])), encoding="utf-8")
    with pytest.raises(CommandError) as info:
        call_command("navigator", "--input", str(path))
    assert 'event.type: 未知の出来事 "moving"' in str(info.value)
    assert "event.subjects[0]: 'p9' は persons にいません" in str(info.value)


def test_malformed_json_and_missing_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"event": ', encoding="utf-8")
    with pytest.raises(CommandError, match="1行 11列: JSON として読めません"):
        call_command("navigator", "--input", str(path))
    with pytest.raises(CommandError, match="読めません"):
        call_command("navigator", "--input", str(tmp_path / "missing.json"))


def test_unknown_tenant(scenario_file):
    with pytest.raises(CommandError):
        call_command("navigator", "--input", str(scenario_file), "--tenant", "011002")
