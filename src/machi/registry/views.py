"""Staff screens of the registry (htmx): search, a resident, a household, My Number
reveal and the change filings.

Every screen needs a working role (counter clerk, department staff or supervisor); a
municipality administrator without one is refused. Reads go through the audited
selectors; changes go through the registry services and only staff of the
resident-records department (市民課) may make them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.japanese import DateParseError, parse_date
from machi.moves import selectors as moves_selectors
from machi.moves import services as moves
from machi.registry import selectors, services
from machi.registry.fields import JapaneseDateField
from machi.registry.forms import (
    STATUS_ALL,
    DeathForm,
    MoveOutForm,
    MoveWithinForm,
    NameChangeForm,
    ResidentSearchForm,
    RevealForm,
)
from machi.registry.models import Resident, ResidentType, Status
from machi.registry.mynumber import mask
from machi.web.decorators import roles_required
from machi.web.templatetags.dates import jdate

PAGE_SIZE = 50
WORKING_ROLES = (Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.SUPERVISOR)

MATCH_LABELS = {
    "exact": gettext_lazy("完全一致"),
    "variant": gettext_lazy("異体字"),
    "kana": gettext_lazy("読み"),
    "latin": gettext_lazy("英字"),
    "prefix": gettext_lazy("前方一致"),
    "number": gettext_lazy("番号"),
    "birth": gettext_lazy("生年月日"),
    "address": gettext_lazy("住所"),
}

CHANGE_LABELS = {
    "birth": gettext_lazy("出生"),
    "move_in": gettext_lazy("転入"),
    "move_within": gettext_lazy("転居"),
    "move_out": gettext_lazy("転出"),
    "move_out_confirm": gettext_lazy("転出確定"),
    "death": gettext_lazy("死亡"),
    "household_change": gettext_lazy("世帯変更"),
    "name_change.marriage": gettext_lazy("氏名の変更（婚姻）"),
    "name_change.divorce": gettext_lazy("氏名の変更（離婚）"),
    "migration": gettext_lazy("移行"),
}

# History fields shown by name only: the My Number (never its value), internal ids.
_LABEL_ONLY = {"my_number", "household_id", "gaiji"}


def working_role_required(view: Callable) -> Callable:
    return roles_required(*WORKING_ROLES)(view)


def _terminal(request: HttpRequest) -> Terminal:
    return Terminal.from_request(request)


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


# --- search ---------------------------------------------------------------------------


@require_GET
@never_cache
@working_role_required
def search(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = ResidentSearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "searched": False}
    if form.is_bound and form.is_valid() and form.has_terms():
        data = form.cleaned_data
        page_number = _page_number(request.GET.get("page"))
        statuses = () if data["status"] == STATUS_ALL else (Status.RESIDENT,)
        try:
            result = selectors.resident_search(
                query=data["q"],
                birth=data["birth"],
                postal_code=data["postal_code"],
                machiaza=data["machiaza"],
                banchi=data["banchi"],
                number=data["number"],
                statuses=statuses,
                limit=PAGE_SIZE,
                offset=(page_number - 1) * PAGE_SIZE,
            )
        except selectors.SearchError as error:
            form.add_error(None, str(error))
        else:
            hits = result.hits
            selectors.search_audit(
                actor=request.user,
                terminal=_terminal(request),
                function="registry:search",
                terms={name: data[name] for name in (*ResidentSearchForm.TERMS, "status")},
                hits=result.total,
            )
            context.update(
                searched=True,
                result=result,
                rows=[(hit.resident, MATCH_LABELS.get(hit.match, hit.match)) for hit in hits],
                page=_page(result.total, page_number, len(result.hits)),
                query_string=_query_without_page(request),
            )
    template = "registry/_results.html" if _partial(request) else "registry/search.html"
    # htmx swaps only 2xx responses by default: the partial shows its errors with a 200.
    status = 400 if form.is_bound and form.errors and not _partial(request) else 200
    return render(request, template, context, status=status)


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 100_000))
    except ValueError:
        return 1


def _page(total: int, number: int, shown: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    first = (number - 1) * PAGE_SIZE + 1
    return {
        "number": number,
        "pages": pages,
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
        "first_index": first,
        "last_index": first + shown - 1,
    }


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- resident -------------------------------------------------------------------------


def _history_rows(history: list) -> list[dict[str, Any]]:
    rows = []
    for entry in history:
        fields = []
        for name, change in (entry.changes or {}).items():
            fields.append(_changed_field(name, change))
        # A new record (転入, 出生): every field was empty before; list what it holds.
        created = _is_creation(fields)
        if created:
            fields = [f for f in fields if not f["values"] or f["new"] is not None]
        rows.append(
            {
                "entry": entry,
                "label": CHANGE_LABELS.get(entry.change, entry.change),
                "fields": fields,
                "created": created,
            }
        )
    return rows


def _is_creation(fields: list[dict[str, Any]]) -> bool:
    valued = [f for f in fields if f["values"]]
    return bool(valued) and all(f["was_absent"] for f in valued)


def _changed_field(name: str, change: Any) -> dict[str, Any]:
    try:
        field = Resident._meta.get_field(name.removesuffix("_id"))
        label = field.verbose_name
    except FieldDoesNotExist:  # a key of an older record: show it as it is
        field, label = None, name
    if name in _LABEL_ONLY or not isinstance(change, list) or len(change) != 2:
        return {"label": label, "old": None, "new": None, "values": False, "was_absent": False}
    old, new = (_display_value(field, value) for value in change)
    return {"label": label, "old": old, "new": new, "values": True, "was_absent": change[0] is None}


def _display_value(field: Any, value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _("あり") if value else _("なし")
    if field is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(field, JapaneseDateField) and isinstance(value, str):
        return _register_date(value)
    return value


def _register_date(text: str) -> str:
    """A date of the history (kept as the register's text) shown as every date is."""
    try:
        return jdate(parse_date(text))
    except DateParseError:
        return text  # an older record's text the parser no longer reads: not hidden


def _resident_context(request: HttpRequest, resident: Resident, **forms: Any) -> dict[str, Any]:
    members = list(selectors.household_members(household=resident.household))
    history = list(selectors.resident_history(resident=resident))
    may_change = selectors.staff_may_change_records(request.user)
    active = resident.status == Status.RESIDENT
    context: dict[str, Any] = {
        "resident": resident,
        "household": resident.household,
        "members": [m for m in members if m.pk != resident.pk],
        "history": _history_rows(history),
        "is_foreign": resident.resident_type == ResidentType.FOREIGN,
        "my_number_masked": mask(resident.my_number),
        "may_reveal": bool(resident.my_number)
        and selectors.staff_may_reveal_my_number(request.user),
        "may_change": may_change and active,
        "may_change_role": may_change,
        "outgoing_moves": moves_selectors.outgoing_moves_of(atena_number=resident.atena_number),
    }
    if context["may_reveal"]:
        context["reveal_form"] = RevealForm(prefix="reveal")
    if context["may_change"]:
        context.update(_change_forms(request, resident, **forms))
    return context


def _change_forms(request: HttpRequest, resident: Resident, **bound: Any) -> dict[str, Any]:
    municipality = request.municipality
    return {
        "move_within_form": bound.get("move_within_form")
        or MoveWithinForm(
            prefix="move",
            initial={"prefecture": municipality.prefecture, "city": municipality.name},
        ),
        "move_out_form": bound.get("move_out_form") or MoveOutForm(prefix="out"),
        "death_form": bound.get("death_form") or DeathForm(prefix="death"),
        "name_change_form": bound.get("name_change_form")
        or NameChangeForm(prefix="name", initial={"kana": resident.kana, "name": resident.name}),
        "open_form": next(iter(bound), None),
    }


@require_GET
@never_cache
@working_role_required
def resident_detail(request: HttpRequest, lg_code: str, atena_number: str) -> HttpResponse:
    resident = selectors.resident_get(
        atena_number=atena_number,
        actor=request.user,
        terminal=_terminal(request),
        function="registry:resident",
    )
    if resident is None:
        raise Http404(_("該当する住民はいません。"))
    return render(request, "registry/resident.html", _resident_context(request, resident))


@require_POST
@never_cache
@working_role_required
def my_number_reveal(request: HttpRequest, lg_code: str, atena_number: str) -> HttpResponse:
    if not selectors.staff_may_reveal_my_number(request.user):
        raise PermissionDenied(_("個人番号を表示する権限がありません。"))
    resident = selectors.resident_for_change(atena_number=atena_number)
    if resident is None:
        raise Http404(_("該当する住民はいません。"))
    if not resident.my_number:
        raise Http404(_("個人番号は登録されていません。"))
    form = RevealForm(request.POST, prefix="reveal")
    context: dict[str, Any] = {"resident": resident, "reveal_form": form, "number": None}
    if form.is_valid():
        number = selectors.resident_reveal_my_number(
            resident=resident,
            actor=request.user,
            purpose=form.cleaned_data["purpose"],
            terminal=_terminal(request),
            function="registry:my_number",
        )
        context["number"] = number
        context["number_display"] = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    template = "registry/_my_number.html" if _partial(request) else "registry/my_number.html"
    # htmx swaps only 2xx responses by default: a form error is still a 200 for htmx.
    status = 400 if form.errors and not _partial(request) else 200
    return render(request, template, context, status=status)


# --- changes --------------------------------------------------------------------------


def _filing(request: HttpRequest, data: dict[str, Any], view: str) -> services.Filing:
    return services.Filing(
        effective_on=data["effective_on"],
        filed_on=data["filed_on"],
        actor=request.user,
        terminal=_terminal(request),
        function=f"registry:{view}",
    )


def _together(resident: Resident, together: bool) -> list[Resident]:
    if not together:
        return [resident]
    members = selectors.household_members(household=resident.household)
    return [m for m in members if m.status == Status.RESIDENT]


def _change_view(
    form_class: type, prefix: str, form_key: str, done: Any
) -> Callable[[Callable], Callable]:
    """A POST view that validates ``form_class`` and runs the change ``apply`` returns."""

    def decorator(apply: Callable) -> Callable:
        @require_POST
        @never_cache
        @working_role_required
        def view(request: HttpRequest, lg_code: str, atena_number: str) -> HttpResponse:
            if not selectors.staff_may_change_records(request.user):
                raise PermissionDenied(_("住民記録を変更する権限がありません。"))
            resident = selectors.resident_for_change(atena_number=atena_number)
            if resident is None:
                raise Http404(_("該当する住民はいません。"))
            form = form_class(request.POST, prefix=prefix)
            if form.is_valid():
                try:
                    apply(request, resident, form.cleaned_data)
                except ValidationError as error:
                    for message in error.messages:
                        form.add_error(None, message)
                else:
                    messages.success(request, done)
                    return redirect("registry:resident", lg_code=lg_code, atena_number=atena_number)
            shown = selectors.resident_get(
                atena_number=atena_number,
                actor=request.user,
                terminal=_terminal(request),
                function="registry:resident",
            )
            context = _resident_context(request, shown, **{form_key: form})
            context["failed_form"] = form
            return render(request, "registry/resident.html", context, status=400)

        view.__name__ = apply.__name__
        view.__doc__ = apply.__doc__
        return view

    return decorator


@_change_view(MoveWithinForm, "move", "move_within_form", gettext_lazy("転居を記録しました。"))
def move_within(request: HttpRequest, resident: Resident, data: dict[str, Any]) -> None:
    """転居: a new address in this municipality."""
    services.resident_move_within(
        residents=_together(resident, data["together"]),
        address=services.Address(
            prefecture=data["prefecture"].strip(),
            city=data["city"].strip(),
            machiaza=data["machiaza"].strip(),
            banchi=data["banchi"].strip(),
            katagaki=data["katagaki"].strip(),
            postal_code=data["postal_code"],
        ),
        filing=_filing(request, data, "move_within"),
    )


@_change_view(MoveOutForm, "out", "move_out_form", gettext_lazy("転出を記録しました。"))
def move_out(request: HttpRequest, resident: Resident, data: dict[str, Any]) -> None:
    """転出: the resident leaves the municipality (to a municipality on the platform,
    with the resident's consent: the one-step move, 引越しワンストップ)."""
    if data.get("destination_lg_code"):
        moves.outgoing_move_record(
            residents=_together(resident, data["together"]),
            destination_lg_code=data["destination_lg_code"],
            destination=data["destination"].strip(),
            consent=data["consent"],
            filing=_filing(request, data, "move_out"),
        )
        return
    services.resident_move_out(
        residents=_together(resident, data["together"]),
        destination=data["destination"].strip(),
        to_abroad=data["to_abroad"],
        filing=_filing(request, data, "move_out"),
    )


@_change_view(DeathForm, "death", "death_form", gettext_lazy("死亡を記録しました。"))
def death(request: HttpRequest, resident: Resident, data: dict[str, Any]) -> None:
    """死亡: the record is closed."""
    services.resident_record_death(resident=resident, filing=_filing(request, data, "death"))


@_change_view(
    NameChangeForm, "name", "name_change_form", gettext_lazy("氏名の変更を記録しました。")
)
def name_change(request: HttpRequest, resident: Resident, data: dict[str, Any]) -> None:
    """氏名の変更 by marriage or divorce."""
    services.resident_change_name(
        resident=resident,
        name=data["name"].strip(),
        kana=data["kana"].strip(),
        reason=data["reason"],
        former_surname=data["former_surname"].strip() or None,
        former_surname_kana=data["former_surname_kana"].strip() or None,
        filing=_filing(request, data, "name_change"),
    )


# --- household ------------------------------------------------------------------------


@require_GET
@never_cache
@working_role_required
def household_detail(request: HttpRequest, lg_code: str, household_number: str) -> HttpResponse:
    household = selectors.household_get(
        household_number=household_number,
        actor=request.user,
        terminal=_terminal(request),
        function="registry:household",
    )
    if household is None:
        raise Http404(_("該当する世帯はありません。"))
    members = list(selectors.household_members(household=household))
    active = [m for m in members if m.status == Status.RESIDENT]
    head = next((m for m in active if m.relationship == "世帯主"), None)
    return render(
        request,
        "registry/household.html",
        {
            "household": household,
            "members": members,
            "address_of": head or (active[0] if active else None),
        },
    )
