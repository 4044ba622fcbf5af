"""The staff page for ふりがな: the grade, the reading corrections and a preview.

One URL, the action in the POST body, so no id travels in the path; web authors and
municipality administrators only (other roles 403).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from machi.audit.services import Terminal
from machi.easyja import services
from machi.easyja.forms import CorrectionForm, GradeForm, PreviewForm
from machi.easyja.models import ReadingCorrection
from machi.easyja.selectors import ruby_config
from machi.japanese.ruby import text_html
from machi.web.decorators import roles_required


@require_http_methods(["GET", "POST"])
@never_cache
@roles_required(*services.EDIT_ROLES)
def readings(request: HttpRequest, lg_code: str) -> HttpResponse:
    config = ruby_config()
    grade_form = GradeForm(initial={"grade": config.grade})
    correction_form = CorrectionForm()
    preview_form = PreviewForm()
    preview = None
    status = 200
    action = request.POST.get("action") if request.method == "POST" else None
    terminal = Terminal.from_request(request)
    try:
        if action == "grade":
            grade_form = GradeForm(request.POST)
            if grade_form.is_valid():
                services.ruby_setting_update(
                    grade=grade_form.cleaned_data["grade"], actor=request.user, terminal=terminal
                )
                messages.success(request, _("ふりがなを付ける漢字を変更しました。"))
                return redirect("easyja:readings", lg_code)
            status = 400
        elif action == "save":
            correction_form = CorrectionForm(request.POST)
            if correction_form.is_valid():
                try:
                    saved = services.reading_correction_save(
                        **correction_form.cleaned_data, actor=request.user, terminal=terminal
                    )
                except services.RubyError as refusal:
                    correction_form.add_error(None, refusal.messages[0])
                    status = 400
                else:
                    messages.success(
                        request, _("「%(word)s」の読みを登録しました。") % {"word": saved.word}
                    )
                    return redirect("easyja:readings", lg_code)
            else:
                status = 400
        elif action == "delete":
            try:
                correction_id = int(request.POST.get("correction", ""))
            except ValueError:
                correction_id = 0
            word = services.reading_correction_delete(
                correction_id=correction_id, actor=request.user, terminal=terminal
            )
            deleted = _("「%(word)s」の読みの修正を削除しました。") % {"word": word}
            messages.success(request, deleted)
            return redirect("easyja:readings", lg_code)
        elif action == "preview":
            preview_form = PreviewForm(request.POST)
            if preview_form.is_valid():
                preview = text_html(
                    preview_form.cleaned_data["text"],
                    grade=config.grade,
                    corrections=config.corrections,
                )
            else:
                status = 400
        elif action is not None:
            messages.error(request, _("操作が分かりません。"))
            status = 400
    except services.RubyError as refusal:
        messages.error(request, refusal.messages[0])
        status = 400
    return render(
        request,
        "easyja/readings.html",
        {
            "grade_form": grade_form,
            "correction_form": correction_form,
            "preview_form": preview_form,
            "preview": preview,
            "corrections": ReadingCorrection.objects.all(),
        },
        status=status,
    )
