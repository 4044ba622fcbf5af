from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from machi.accounts.models import Department
from machi.accounts.roles import DEFAULT_DEPARTMENTS
from machi.accounts.services import staff_create

pytestmark = pytest.mark.django_db(databases="__all__")


def test_municipality_has_default_departments(municipality_a):
    names = dict(Department.objects.filter(municipality=municipality_a).values_list("code", "name"))
    assert names == DEFAULT_DEPARTMENTS


def test_staff_belongs_to_exactly_one_municipality(municipality_a):
    with pytest.raises(ValidationError, match="1つの自治体"):
        staff_create(username="x", display_name="x", password="a-long-password-1")
    with pytest.raises(ValidationError, match="1つ以上の課"):
        staff_create(
            username="x",
            display_name="x",
            password="a-long-password-1",
            municipality=municipality_a,
        )
    with pytest.raises(ValidationError, match="1つの自治体"):
        staff_create(
            username="x",
            display_name="x",
            password="a-long-password-1",
            municipality=municipality_a,
            is_platform_operator=True,
        )


def test_my_number_reveal_only_in_my_number_departments(municipality_a):
    with pytest.raises(ValidationError, match="番号利用事務"):
        staff_create(
            username="x",
            display_name="x",
            password="a-long-password-1",
            municipality=municipality_a,
            memberships=[("kankyo", "department_staff")],
            reveal_my_number_departments=frozenset({"kankyo"}),
        )


def test_weak_password_refused(municipality_a):
    with pytest.raises(ValidationError):
        staff_create(
            username="x",
            display_name="x",
            password="short",
            municipality=municipality_a,
            memberships=[("shimin", "counter_clerk")],
        )


def test_unknown_department_or_role_refused(municipality_a):
    with pytest.raises(ValidationError, match="課 nope"):
        staff_create(
            username="x",
            display_name="x",
            password="a-long-password-1",
            municipality=municipality_a,
            memberships=[("nope", "counter_clerk")],
        )
    with pytest.raises(ValidationError, match="役割 boss"):
        staff_create(
            username="y",
            display_name="x",
            password="a-long-password-1",
            municipality=municipality_a,
            memberships=[("shimin", "boss")],
        )


def test_members_made_with_one_precomputed_hash_sign_in_with_its_password(municipality_a):
    from django.contrib.auth.hashers import make_password

    shared = make_password("one-demo-passphrase")
    members = []
    for i in range(2):
        member = staff_create(
            username=f"demo{i}", display_name="デモ", password="one-demo-passphrase",
            password_hash=shared, municipality=municipality_a,
            memberships=[("shimin", "counter_clerk")],
        )  # fmt: skip
        members.append(member)
    for member in members:
        member.refresh_from_db()
        assert member.check_password("one-demo-passphrase")
        assert not member.check_password("another-passphrase")
    with pytest.raises(ValidationError):  # the password is still validated
        staff_create(
            username="weak", display_name="デモ", password="123", password_hash=shared,
            municipality=municipality_a, memberships=[("shimin", "counter_clerk")],
        )  # fmt: skip
