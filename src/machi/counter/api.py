"""Counter API: the life-event intake (POST /api/v1/{lg_code}/life-events)."""

from __future__ import annotations

import json
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status
from pydantic import BaseModel, ConfigDict, Field

from machi.accounts.roles import Role
from machi.apiclients.auth import StaffSession
from machi.audit.services import Terminal
from machi.counter.services.intake import IntakeError, life_event_confirm
from machi.procedures.engine.schema import inline_json_schema

INTAKE_ROLES = (Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.SUPERVISOR)


router = Router(tags=["counter"])


# The request body as documentation: ``life_event_confirm`` checks it field by field and
# answers 422 naming every problem (one message per field, which a schema cannot give).
class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    postal_code: str = Field(description="郵便番号（1000001 または 100-0001）")
    prefecture: str
    city: str
    machiaza: str = Field(description="町字")
    banchi: str = Field(description="番地・号")
    katagaki: str = Field("", description="方書（建物名・部屋番号）")


class LifeEventPersonIn(BaseModel):
    """A resident (``atena_number``; the registry gives the rest) or a new person
    (newborn, newcomer: ``name``, ``sex``, ``birth_date`` and ``relationship`` required).
    The navigator's facts (``insurance``, ``pension``, ``my_number_card`` …, DOMAIN.md §6)
    may be given too; for a resident they override the registry's."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="この入力の中での識別子（event.subjects が指す）")
    atena_number: str | None = Field(None, description="宛名番号（既にいる住民）")
    name: str | None = Field(None, description="氏名（新しく記録する人）")
    kana: str | None = Field(None, description="フリガナ")
    sex: Literal["1", "2"] | None = Field(None, description="性別: 1 男, 2 女")
    birth_date: str | None = Field(None, description="生年月日: YYYY-MM-DD、和暦、不詳の形も可")
    relationship: str | None = Field(None, description="続柄（世帯主、妻、子 …）")
    nationality: str | None = Field(None, description="国籍（ISO 3166-1 alpha-2、既定 JP）")
    name_alphabet: str | None = Field(None, description="アルファベット氏名（外国人住民）")
    my_number: str | None = Field(None, description="個人番号（12桁、検査用数字つき）")
    insurance: Literal["kokuho", "employee", "kouki", "welfare", "none"] | None = None


class NotifierMemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["member"]
    person: str = Field(description="届出人の persons の id")


class NotifierAgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["agent"]
    name: str = Field(max_length=100)
    relationship: str = Field(max_length=40, description="本人との関係")
    kana: str = Field("", max_length=100)
    address: str = Field("", max_length=200)


class LifeEventEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="move_in, move_out, move_within, birth, death, … (DOMAIN.md §6)")
    date: str = Field(description="出来事の日: YYYY-MM-DD または和暦")
    subjects: list[str] = Field(min_length=1, description="出来事の本人の persons の id")
    from_abroad: bool = False
    to_abroad: bool = False


class LifeEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: LifeEventEventIn
    persons: list[LifeEventPersonIn] = Field(min_length=1)
    answers: dict[str, bool | int | str | None] = Field(
        default_factory=dict, description="ナビゲーターの質問への答え（DOMAIN.md §6）"
    )
    address: AddressIn | None = Field(None, description="新しい住所（転入・転居）")
    previous_address: str = Field("", description="前住所（転入）")
    destination: str = Field("", description="転出先（転出）")
    destination_lg_code: str | None = Field(
        None, description="転出先の自治体コード（引越しワンストップ、consent が必要）"
    )
    consent: bool = Field(False, description="転出先へ記録を送ることへの本人の同意")
    reservation: str | None = Field(None, description="転入予約の番号（引越しワンストップ）")
    notifier: NotifierMemberIn | NotifierAgentIn | None = Field(
        None, description="窓口に来た届出人", discriminator="kind"
    )


class ProcedureOut(Schema):
    code: str
    title: str
    department: str
    person: str | None
    # who files the procedure or receives the benefit when not ``person``
    filer: str | None = None
    due: str | None
    reason: str


class IntakeOut(Schema):
    visit: str
    status_url: str
    change: str
    procedures: list[ProcedureOut]
    task_ids: list[int]
    atena_numbers: dict[str, str]
    residents_changed: list[str]


class IntakeErrorOut(Schema):
    detail: str
    errors: list[str]


@router.post(
    "/{lg_code}/life-events",
    auth=StaffSession(*INTAKE_ROLES),
    response={201: IntakeOut, 400: IntakeErrorOut, 422: IntakeErrorOut},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_json_schema(LifeEventIn)}},
        }
    },
    summary="ライフイベントの受付（総合窓口）",
)
def life_events(request: HttpRequest, lg_code: str):
    """Record a life event: the registry change, every procedure that follows (the
    navigator), one task per procedure for its department, the outbox events — in one
    transaction. The body is the navigator input whose persons are existing residents
    (``atena_number``) or new persons (``name``, ``kana``, ``sex``, ``birth_date``,
    ``relationship``), plus ``address`` (move in/within) or ``destination`` (move out),
    and optionally the 届出人 who came to the counter: ``notifier`` = ``{"kind": "member",
    "person": <persons id>}`` or ``{"kind": "agent", "name", "relationship", "kana"?,
    "address"?}``. The procedure the registry change itself carries out (転入届, 出生…)
    is created done."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        message = f"JSON として読めません: {error}"
        return Status(400, {"detail": message, "errors": [message]})
    try:
        result = life_event_confirm(
            data=data, actor=request.auth, terminal=Terminal.from_request(request)
        )
    except IntakeError as error:
        return Status(422, {"detail": str(error), "errors": error.errors})
    return Status(
        201,
        {
            "visit": result.visit.public_code,
            "status_url": reverse("counter:visit_status", args=[lg_code, result.visit.public_code]),
            "change": result.change,
            "procedures": result.procedures,
            "task_ids": result.task_ids,
            "atena_numbers": result.atena_numbers,
            "residents_changed": result.residents_changed,
        },
    )
