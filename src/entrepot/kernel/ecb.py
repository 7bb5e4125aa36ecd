"""The ECB's reference-rate files, read into dated rates per euro.

The ECB publishes the same rates in two shapes: a CSV (`eurofxref-hist.csv`, often zipped: a `Date`
column, then one column per currency, `N/A` where there was no fixing) and an XML envelope
(`eurofxref-hist.xml`: `Cube time=...` holding `Cube currency=... rate=...`). Both are read here, so
an operator can load whichever they downloaded; XML goes through defusedxml because the file may come
from an upload.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from defusedxml import DefusedXmlException, ElementTree

from entrepot.kernel.errors import ValidationFailed

# Rates beyond these bounds are typos, not fixings: the ECB's range is about 0.0001 (none) to 30,000 (IDR).
LOWEST_RATE, HIGHEST_RATE = Decimal("1e-6"), Decimal("1e9")
FIRST_DAY, LAST_DAY = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


@dataclass(frozen=True, slots=True)
class PublishedRate:
    currency: str
    on: dt.date
    per_eur: Decimal


def read_ecb_file(path: str | Path) -> list[PublishedRate]:
    data = Path(path).read_bytes()
    return parse_ecb(data, str(path))


def parse_ecb(data: bytes, name: str = "file") -> list[PublishedRate]:
    """Rates from an ECB file's bytes: a zip holding one CSV or XML file, a CSV, or an XML envelope."""
    if data[:4] == b"PK\x03\x04":
        return _parse_zip(data, name)
    text = _decode(data, name)
    if text.lstrip().startswith("<"):
        return parse_ecb_xml(text, name)
    return parse_ecb_csv(text, name)


def _parse_zip(data: bytes, name: str) -> list[PublishedRate]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith((".csv", ".xml"))]
            if len(members) != 1:
                raise ValidationFailed(f"{name}: a zip of ECB rates must hold exactly one .csv or .xml file")
            return parse_ecb(archive.read(members[0]), f"{name}:{members[0]}")
    except zipfile.BadZipFile as error:
        raise ValidationFailed(f"{name}: not a readable zip file ({error})") from None


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{name}: not UTF-8 text") from None


def parse_ecb_csv(text: str, name: str = "file") -> list[PublishedRate]:
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header or header[0].strip() != "Date":
        raise ValidationFailed(f"{name}: an ECB CSV starts with a Date column, then one column per currency")
    currencies = [c.strip().upper() for c in header[1:]]
    rates = []
    for line, row in enumerate(rows, start=2):
        if not row or not row[0].strip():
            continue
        day = _day(row[0], f"{name} line {line}")
        for currency, cell in zip(currencies, row[1:], strict=False):
            value = cell.strip()
            if currency and value and value != "N/A":
                rates.append(PublishedRate(currency, day, _rate(value, f"{name} line {line}, {currency}")))
    return _checked(rates, name)


def parse_ecb_xml(text: str, name: str = "file") -> list[PublishedRate]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise ValidationFailed(f"{name}: not well-formed XML ({error})") from None
    except DefusedXmlException:
        raise ValidationFailed(
            f"{name}: XML with a DTD or entities is refused (the ECB's has none)"
        ) from None
    rates = []
    for element in root.iter():
        if not element.tag.endswith("Cube") or "time" not in element.attrib:
            continue
        where = f"{name}, Cube time={element.attrib['time']}"
        day = _day(element.attrib["time"], where)
        for cube in element:
            currency, value = cube.attrib.get("currency"), cube.attrib.get("rate")
            if currency and value:
                rates.append(PublishedRate(currency.upper(), day, _rate(value, f"{where}, {currency}")))
    return _checked(rates, name)


def _checked(rates: list[PublishedRate], name: str) -> list[PublishedRate]:
    if not rates:
        raise ValidationFailed(f"{name}: no rates found")
    return rates


def _day(text: str, where: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"{where}: {text.strip()[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed(f"{where}: {day} is outside {FIRST_DAY} to {LAST_DAY}")
    return day


def _rate(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"{where}: {text[:40]!r} is not a number") from None
    if not value.is_finite() or not LOWEST_RATE <= value <= HIGHEST_RATE:
        raise ValidationFailed(f"{where}: {text} is not a plausible rate per euro")
    return value
