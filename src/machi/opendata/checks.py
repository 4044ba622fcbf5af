"""What an uploaded resource file must be: its format judged by its content (not by the
name or the browser's content type), within the size bound, and for a CSV a table that
parses in one of the encodings Japanese municipalities publish in.

A refused file raises :class:`FileRefused` with the line (where there is one) and the
reason; nothing is stored.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _

from machi.opendata.models import MEDIA_TYPES, Format

MAX_BYTES = 20 * 1024 * 1024
GEOJSON_TYPES = frozenset(
    {
        "FeatureCollection",
        "Feature",
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)


class FileRefused(ValueError):
    def __init__(self, reason: str, *, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.line is None:
            return self.reason
        return _("%(line)d行目: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class Checked:
    format: str
    media_type: str
    encoding: str = ""
    rows: int | None = None


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the encoding's name: UTF-8 with or without a BOM, else CP932
    (Shift_JIS with the vendor extensions Windows writes). Neither: refused at the
    first line that is not UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8-BOM"
        except UnicodeDecodeError as error:
            raise FileRefused(
                _("UTF-8 として読めない文字があります。"),
                line=_line_of(data, error.start + len(codecs.BOM_UTF8)),
            ) from error
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp932"), "CP932"
        except UnicodeDecodeError:
            raise FileRefused(
                _("文字コードを判別できません (UTF-8 でも Shift_JIS でもありません)。"),
                line=_line_of(data, utf8_error.start),
            ) from utf8_error


def check_csv(data: bytes) -> Checked:
    text, encoding = decode_text(data)
    if "\x00" in text:
        raise FileRefused(
            _("NUL 文字が含まれています。"), line=text[: text.index("\x00")].count("\n") + 1
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    width = None
    rows = 0
    try:
        for row in reader:
            if not row:
                continue  # a blank line (often the last one) is not a row
            if width is None:
                width = len(row)
                if any(not cell.strip() for cell in row):
                    raise FileRefused(_("見出し行に空の列名があります。"), line=reader.line_num)
                continue
            if len(row) != width:
                raise FileRefused(
                    _("列の数が見出し行と違います (見出し %(width)d 列、この行 %(count)d 列)。")
                    % {"width": width, "count": len(row)},
                    line=reader.line_num,
                )
            rows += 1
    except csv.Error as error:
        raise FileRefused(
            _("CSV として読めません (%(error)s)。") % {"error": error}, line=reader.line_num
        ) from error
    if width is None:
        raise FileRefused(_("空のファイルです。"))
    charset = "Shift_JIS" if encoding == "CP932" else "utf-8"
    return Checked(
        format=Format.CSV, media_type=f"text/csv; charset={charset}", encoding=encoding, rows=rows
    )


def _json(data: bytes) -> object:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRefused(
            _("JSON は UTF-8 でなければなりません。"), line=_line_of(data, error.start)
        ) from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FileRefused(
            _("JSON として読めません (%(error)s)。") % {"error": error.msg}, line=error.lineno
        ) from error


def check_json(data: bytes) -> Checked:
    _json(data)
    return Checked(format=Format.JSON, media_type=MEDIA_TYPES[Format.JSON], encoding="UTF-8")


def check_geojson(data: bytes) -> Checked:
    value = _json(data)
    if not isinstance(value, dict) or value.get("type") not in GEOJSON_TYPES:
        raise FileRefused(
            _("GeoJSON ではありません (type が FeatureCollection などではありません)。")
        )
    if value["type"] == "FeatureCollection" and not isinstance(value.get("features"), list):
        raise FileRefused(_("GeoJSON の features が配列ではありません。"))
    return Checked(format=Format.GEOJSON, media_type=MEDIA_TYPES[Format.GEOJSON], encoding="UTF-8")


def check_xlsx(data: bytes) -> Checked:
    if not data.startswith(b"PK\x03\x04"):
        raise FileRefused(_("XLSX (Excel ブック) ではありません。"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise FileRefused(_("XLSX (Excel ブック) ではありません。"))
            if archive.testzip() is not None:
                raise FileRefused(_("XLSX ファイルが壊れています。"))
    except zipfile.BadZipFile as error:
        raise FileRefused(_("XLSX ファイルが壊れています。")) from error
    return Checked(format=Format.XLSX, media_type=MEDIA_TYPES[Format.XLSX])


CHECKS = {
    Format.CSV: check_csv,
    Format.JSON: check_json,
    Format.GEOJSON: check_geojson,
    Format.XLSX: check_xlsx,
}


def check_file(*, format: str, content: bytes) -> Checked:
    """The file as the format it claims to be, judged by its bytes."""
    check = CHECKS.get(format)
    if check is None:
        raise FileRefused(_("この形式は扱えません (CSV、JSON、GeoJSON、XLSX のいずれか)。"))
    if len(content) > MAX_BYTES:
        raise FileRefused(
            _("ファイルが大きすぎます (上限 %(limit)d MB)。")
            % {"limit": MAX_BYTES // (1024 * 1024)}
        )
    if not content:
        raise FileRefused(_("空のファイルです。"))
    return check(content)
