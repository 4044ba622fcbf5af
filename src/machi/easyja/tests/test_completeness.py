"""Every message a resident can see has its やさしい日本語 (issue 14, §1 languages).

Which messages a resident sees is read from the source, not from the .po file's
reference comments (those are only as fresh as the last makemessages): the templates
and Python modules of the resident pages are listed below (site, requests' public
pages, the progress page, the pre-application navigator, the board, events,
announcements, the contact form and FAQ, public comment, the language switch and the
error pages), their gettext calls are extracted the way makemessages does (Django's
``templatize`` for templates, the syntax tree for Python), and each msgid must have a
non-empty ``msgstr`` in ``locale/ja_Easy/LC_MESSAGES/django.po``. In a Python module
the staff parts are left out: top-level functions and classes named ``staff_…`` /
``Staff…`` and the ones listed as staff-only.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
from django.utils.translation.template import templatize

MACHI = Path(__file__).resolve().parents[2]
PO = MACHI / "locale" / "ja_Easy" / "LC_MESSAGES" / "django.po"

RESIDENT_TEMPLATES = (
    "site/templates/site/*.html",  # staff/ is a folder of its own
    "web/templates/web/_language_switch.html",
    "web/templates/errors/*.html",
    "requests/templates/requests/public/*.html",
    "counter/templates/counter/status.html",
    "counter/templates/counter/preapply*.html",
    "board/templates/board/*.html",
    "localevents/templates/localevents/*.html",  # staff/ is a folder of its own
    "announce/templates/announce/public_*.html",
    "announce/templates/announce/subscribe*.html",
    "announce/templates/announce/unsubscribe.html",
    "announce/templates/announce/_lang.html",
    "contact/templates/contact/public/*.html",
    "publiccomment/templates/publiccomment/public_*.html",
    "publiccomment/templates/publiccomment/_lang.html",
    "publiccomment/templates/publiccomment/_period.html",
)
STAFF_TEMPLATE = re.compile(r"(^|/)staff_[^/]*\.html$")

# module -> top-level names that are staff-only (besides staff_* / Staff*)
RESIDENT_MODULES: dict[str, frozenset[str]] = {
    "site/views/public.py": frozenset(),
    "web/language.py": frozenset(),
    "requests/views/public.py": frozenset(),
    "counter/views/status.py": frozenset(),
    "counter/views/preapplications.py": frozenset(),
    "board/views.py": frozenset({"_staff_redirect", "_request_categories"}),
    "localevents/views/public.py": frozenset(),
    "localevents/forms.py": frozenset(),
    "announce/views.py": frozenset({"_staff_url", "_form_page", "_save", "_announcement"}),
    "contact/views/public.py": frozenset(),
    "publiccomment/views.py": frozenset({"_staff_url", "_departments", "_staff_page",
                                         "_consultation_or_403", "_apply_error"}),
    "publiccomment/forms.py": frozenset({"ConsultationForm", "DocumentForm", "GroupForm",
                                         "ResultForm"}),
}  # fmt: skip

GETTEXT = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy",
           "pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}  # fmt: skip
TEMPLATE_CALL = re.compile(
    r"\b(n?p?gettext)\(((?:u?'(?:[^'\\]|\\.)*'\s*,?\s*)+)"  # the literal arguments
)
LITERAL = re.compile(r"u?'(?:[^'\\]|\\.)*'")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

Message = tuple[str, str]  # (msgctxt or "", msgid)


def _template_messages(text: str, origin: str) -> set[Message]:
    found = set()
    for call in TEMPLATE_CALL.finditer(templatize(text, origin=origin)):
        args = [ast.literal_eval(literal.lstrip("u")) for literal in LITERAL.findall(call[2])]
        context = args.pop(0) if call[1].startswith(("pgettext", "npgettext")) else ""
        found.add((context, args[0]))
    return found


def _python_messages(text: str, staff_only: frozenset[str]) -> set[Message]:
    found = set()
    for node in ast.parse(text).body:
        name = getattr(node, "name", "")
        if name.startswith(("staff_", "Staff")) or name in staff_only:
            continue
        for call in ast.walk(node):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called not in GETTEXT:
                continue
            strings = [a.value for a in call.args if isinstance(a, ast.Constant)]
            if not strings or not all(isinstance(s, str) for s in strings):
                continue
            context = strings.pop(0) if called.startswith(("pgettext", "npgettext")) else ""
            if strings:
                found.add((context, strings[0]))
    return found


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def resident_messages() -> dict[Message, set[str]]:
    """(context, msgid) -> the resident-facing files that use it."""
    where: dict[Message, set[str]] = {}
    for pattern in RESIDENT_TEMPLATES:
        for path in sorted(MACHI.glob(pattern)):
            relative = str(path.relative_to(MACHI))
            if STAFF_TEMPLATE.search(relative):
                continue
            for message in _template_messages(path.read_text(encoding="utf-8"), relative):
                where.setdefault(message, set()).add(relative)
    for module, staff_only in RESIDENT_MODULES.items():
        text = (MACHI / module).read_text(encoding="utf-8")
        for message in _python_messages(text, staff_only):
            where.setdefault(message, set()).add(module)
    return where


def test_the_sources_are_found():
    """The lists above name files that exist and do hold resident messages (a file
    moved or renamed must not silently drop out of the check)."""
    for pattern in RESIDENT_TEMPLATES:
        assert list(MACHI.glob(pattern)), pattern
    for module in RESIDENT_MODULES:
        assert (MACHI / module).exists(), module
    messages = resident_messages()
    assert ("", "本文へ移動") in messages and ("", "サイト内検索") in messages
    assert ("", "ことば") not in messages  # a translation (of 表示言語), not a source
    # staff views of a mixed module are left out
    staff_only = _python_messages(
        "def staff_list():\n    _('職員だけ')\ndef public_list():\n    _('みんな')\n",
        frozenset(),
    )
    assert staff_only == {("", "みんな")}


def test_every_resident_message_has_easy_japanese():
    catalogue = {(e.msgctxt or "", e.msgid): e for e in polib.pofile(str(PO)) if not e.obsolete}
    missing = []
    for message, files in sorted(resident_messages().items()):
        entry = catalogue.get(message)
        translated = entry is not None and (
            entry.msgstr.strip() or any(v.strip() for v in entry.msgstr_plural.values())
        )
        if not translated or "fuzzy" in entry.flags:
            missing.append(f"{message[1]!r}  ({', '.join(sorted(files))})")
        elif _placeholders(entry.msgstr or entry.msgstr_plural[0]) != _placeholders(entry.msgid):
            # a msgstr naming other placeholders fails the page (KeyError) at render time
            missing.append(f"{message[1]!r}: placeholders of {entry.msgstr!r} differ")
    assert not missing, (
        f"{len(missing)} resident messages without やさしい日本語 in {PO.relative_to(MACHI)}:\n"
        + "\n".join(missing)
    )
