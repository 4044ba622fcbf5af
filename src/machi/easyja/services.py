"""Staff change the municipality's ふりがな: the grade and the reading corrections.

Every change is in the audit log (the word and reading are public page text, no
personal data) and takes effect at once in this process (selectors.ruby_config_forget).
"""

from __future__ import annotations

from typing import Any

import jaconv
from django.db import transaction
from django.utils.translation import gettext as _

from machi.accounts.roles import Role
from machi.audit.services import Terminal, audit_append
from machi.easyja.models import ReadingCorrection, RubySetting
from machi.easyja.selectors import ruby_config_forget
from machi.japanese.ruby import GRADES, valid_reading
from machi.tenancy.context import current_tenant_alias

EDIT_ROLES = (Role.WEB_AUTHOR, Role.MUNICIPALITY_ADMIN)


class RubyError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.messages = [message]


def _require_editor(actor: Any) -> None:
    if actor is None or not actor.has_role(*EDIT_ROLES):
        raise RubyError(_("ふりがなを変更する役割がありません。"))


def ruby_setting_update(*, grade: int, actor: Any, terminal: Terminal | None = None) -> RubySetting:
    _require_editor(actor)
    if grade not in GRADES:
        raise RubyError(_("学年は0から6の数で選んでください。"))
    alias = current_tenant_alias()
    with transaction.atomic(using=alias):
        setting = RubySetting.objects.select_for_update().first() or RubySetting()
        setting.grade = grade
        setting.save()
        audit_append(action="easyja.ruby.grade_set", actor=actor, object_type="ruby_setting",
                     object_id=str(setting.pk), function="easyja.ruby_setting_update",
                     terminal=terminal, detail={"grade": grade})  # fmt: skip
    ruby_config_forget(alias)
    return setting


def reading_correction_save(
    *, word: str, reading: str, actor: Any, terminal: Terminal | None = None
) -> ReadingCorrection:
    """Add the correction, or change the reading of a word already corrected."""
    _require_editor(actor)
    word, reading = word.strip(), jaconv.kata2hira(reading.strip().replace(" ", ""))
    if not word or len(word) > ReadingCorrection._meta.get_field("word").max_length:
        raise RubyError(_("語は1文字以上40文字以内で入力してください。"))
    if not any("\u3400" <= c <= "\u9fff" or c in "々〆ヶ" for c in word):
        raise RubyError(_("漢字を含む語を入力してください。"))
    if not reading or len(reading) > 80 or not valid_reading(reading):
        raise RubyError(_("読みはひらがなかカタカナで入力してください。"))
    alias = current_tenant_alias()
    with transaction.atomic(using=alias):
        correction, created = ReadingCorrection.objects.update_or_create(
            word=word, defaults={"reading": reading}
        )
        audit_append(action="easyja.reading." + ("added" if created else "changed"),
                     actor=actor, object_type="reading_correction",
                     object_id=str(correction.pk), function="easyja.reading_correction_save",
                     terminal=terminal, detail={"word": word, "reading": reading})  # fmt: skip
    ruby_config_forget(alias)
    return correction


def reading_correction_delete(
    *, correction_id: int, actor: Any, terminal: Terminal | None = None
) -> str:
    """Remove a correction; the word it was for."""
    _require_editor(actor)
    alias = current_tenant_alias()
    with transaction.atomic(using=alias):
        correction = ReadingCorrection.objects.filter(pk=correction_id).first()
        if correction is None:
            raise RubyError(_("読みの修正が見つかりません。"))
        word = correction.word
        correction.delete()
        audit_append(action="easyja.reading.deleted", actor=actor,
                     object_type="reading_correction", object_id=str(correction_id),
                     function="easyja.reading_correction_delete", terminal=terminal,
                     detail={"word": word})  # fmt: skip
    ruby_config_forget(alias)
    return word
