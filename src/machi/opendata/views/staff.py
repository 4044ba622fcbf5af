"""Staff pages of the catalogue: the list of datasets, new dataset, its page (edit,
upload a file as a new version, publish, unpublish).

Who: web authors (ウェブ作成者) prepare datasets and upload files; web approvers and
municipality administrators also publish and unpublish. The services check the role
again; a dataset that is not in this municipality's database is 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.audit.services import Terminal
from machi.opendata import selectors, services
from machi.opendata.checks import MAX_BYTES
from machi.opendata.forms import DatasetForm, UploadForm
from machi.opendata.models import Dataset
from machi.web.decorators import roles_required


def _dataset(name: str) -> Dataset:
    dataset = selectors.dataset_by_id(id_or_name=name, public=False)
    if dataset is None or dataset.name != name:
        raise Http404("データセットが見つかりません。")
    return dataset


def _errors(form) -> list[tuple[str, str, str]]:
    return [
        (form[name].label, error, form[name].auto_id) if name in form.fields else ("", error, "")
        for name, field_errors in (form.errors.items() if form.is_bound else [])
        for error in field_errors
    ]


def _add_errors(form, error: services.OpendataError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            for message in errors:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


@roles_required(*services.EDIT_ROLES)
@require_GET
@never_cache
def staff_home(request: HttpRequest, lg_code: str) -> HttpResponse:
    datasets = Dataset.objects.select_related("organization").order_by("-modified_at", "name")
    return render(request, "opendata/staff/home.html", {"datasets": datasets})


@roles_required(*services.EDIT_ROLES)
@require_http_methods(["GET", "POST"])
@never_cache
def staff_new(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dataset = services.dataset_create(
                actor=request.user,
                name=data["name"],
                title=data["title"],
                notes=data["notes"],
                tags=form.tag_list(),
                frequency=data["frequency"],
                licence=data["licence"],
                department=data["department"],
                contact_name=data["contact_name"],
                contact_email=data["contact_email"],
                terminal=Terminal.from_request(request),
            )
        except services.OpendataError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request, "データセットを下書きとして作りました。ファイルを登録してください。"
            )
            return redirect("opendata:staff_dataset", lg_code=lg_code, dataset=dataset.name)
    status = 400 if form.is_bound else 200
    return render(
        request, "opendata/staff/new.html", {"form": form, "errors": _errors(form)}, status=status
    )


def _page(
    request: HttpRequest, dataset: Dataset, *, form=None, upload=None, status: int = 200
) -> HttpResponse:
    if form is None:
        form = DatasetForm(
            editing=True,
            initial={
                "title": dataset.title,
                "notes": dataset.notes,
                "frequency": dataset.frequency,
                "licence": dataset.licence,
                "department": dataset.department,
                "contact_name": dataset.contact_name,
                "contact_email": dataset.contact_email,
                "tags": "、".join(t.name for t in dataset.tags.all()),
            },
        )
    upload = upload or UploadForm()
    resources = [(r, selectors.resource_versions(resource=r)) for r in dataset.resources.all()]
    context = {
        "dataset": dataset,
        "form": form,
        "upload": upload,
        "resources": resources,
        "errors": _errors(form) + _errors(upload),
        "may_publish": request.user.has_role(*services.PUBLISH_ROLES),
    }
    return render(request, "opendata/staff/dataset.html", context, status=status)


@roles_required(*services.EDIT_ROLES)
@require_http_methods(["GET", "POST"])
@never_cache
def staff_dataset(request: HttpRequest, lg_code: str, dataset: str) -> HttpResponse:
    name = dataset  # the URL names the dataset; below, the row
    dataset = _dataset(name)
    if request.method == "GET":
        return _page(request, dataset)
    form = DatasetForm(request.POST, editing=True)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.dataset_update(
                actor=request.user,
                dataset=dataset,
                title=data["title"],
                notes=data["notes"],
                tags=form.tag_list(),
                frequency=data["frequency"],
                licence=data["licence"],
                department=data["department"],
                contact_name=data["contact_name"],
                contact_email=data["contact_email"],
                terminal=Terminal.from_request(request),
            )
        except services.OpendataError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "データセットを保存しました。")
            return redirect("opendata:staff_dataset", lg_code=lg_code, dataset=name)
    return _page(request, dataset, form=form, status=400)


@roles_required(*services.EDIT_ROLES)
@require_POST
@never_cache
def staff_upload(request: HttpRequest, lg_code: str, dataset: str) -> HttpResponse:
    name = dataset  # the URL names the dataset; below, the row
    dataset = _dataset(name)
    upload = UploadForm(request.POST, request.FILES)
    if upload.is_valid():
        file = upload.cleaned_data["file"]
        if file.size > MAX_BYTES:
            upload.add_error(
                "file", f"ファイルが大きすぎます (上限 {MAX_BYTES // (1024 * 1024)} MB)。"
            )
        else:
            try:
                version = services.resource_upload(
                    actor=request.user,
                    dataset=dataset,
                    name=upload.cleaned_data["resource_name"],
                    format=upload.cleaned_data["format"],
                    content=file.read(),
                    description=upload.cleaned_data["description"],
                    terminal=Terminal.from_request(request),
                )
            except services.OpendataError as error:
                _add_errors(upload, error)
            else:
                if version is None:
                    messages.info(
                        request, "最新の版と同じファイルでした。新しい版は作っていません。"
                    )
                else:
                    messages.success(request, f"ファイルを第{version.number}版として登録しました。")
                return redirect("opendata:staff_dataset", lg_code=lg_code, dataset=name)
    return _page(request, _dataset(name), upload=upload, status=400)


@roles_required(*services.PUBLISH_ROLES)
@require_POST
@never_cache
def staff_state(request: HttpRequest, lg_code: str, dataset: str, action: str) -> HttpResponse:
    if action not in ("publish", "unpublish"):
        raise Http404("この操作はありません。")
    name = dataset  # the URL names the dataset; below, the row
    dataset = _dataset(name)
    try:
        services.dataset_state_set(
            actor=request.user,
            dataset=dataset,
            publish=action == "publish",
            terminal=Terminal.from_request(request),
        )
    except services.OpendataError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, "公開しました。" if action == "publish" else "公開を停止しました。"
        )
    return redirect("opendata:staff_dataset", lg_code=lg_code, dataset=name)
