"""The English translation is complete and the compiled catalogue matches the source."""

from __future__ import annotations

from pathlib import Path

import polib

import machi

PO = Path(machi.__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_every_message_is_translated():
    po = polib.pofile(str(PO))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy


def test_compiled_catalogue_matches_source():
    po = polib.pofile(str(PO))
    mo = polib.mofile(str(PO.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo}
    for entry in po.translated_entries():
        assert compiled.get((entry.msgctxt, entry.msgid)) == (
            entry.msgstr,
            entry.msgstr_plural,
        ), f"run `machi compilemessages`: {entry.msgid!r} differs"


def test_every_template_string_is_in_the_catalogue():
    """`{% translate "…" %}` strings missed by makemessages would show in Japanese on the
    English screens (the catalogue above only checks what it holds)."""
    import re

    msgids = {e.msgid for e in polib.pofile(str(PO)) if not e.obsolete}
    tag = re.compile(r'{%\s*(?:translate|trans)\s+"([^"]+)"')
    missing = set()
    for template in Path(machi.__file__).parent.rglob("templates/**/*.html"):
        missing.update(
            f"{template.name}: {text}"
            for text in tag.findall(template.read_text())
            if text not in msgids
        )
    assert not missing, sorted(missing)
