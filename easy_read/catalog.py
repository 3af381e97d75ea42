"""Gettext catalogs for the easy-read messages: compiled on demand, reloaded when they change.

The .po files are the source and are committed; the .mo files are build output (git-ignored).
`pybabel compile` makes them, and so does the first answer that needs one when it is missing
or older than its .po, so a fresh checkout and an edited translation both just work.
"""

from __future__ import annotations

import gettext
import os
import tempfile
import threading
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
SOURCE_LOCALE = "en_GB"


def normalise_locale(locale: str) -> str:
    """'en-gb' and 'en_GB' both name the catalog directory en_GB."""
    try:
        return str(Locale.parse(locale.replace("-", "_")))
    except (ValueError, UnknownLocaleError) as error:
        raise ValueError(f"not a locale: {locale!r}") from error


def compile_catalog(po_path: Path) -> Path:
    """Write the .mo beside `po_path` unless it is already newer; return its path."""
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime_ns >= po_path.stat().st_mtime_ns:
        return mo_path
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=po_path.parent.parent.name)
    # Write then rename, so a reader in another process never sees half a file.
    fd, tmp_name = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as tmp_file:
            write_mo(tmp_file, catalog)
        os.replace(tmp_name, mo_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return mo_path


class Catalogs:
    """The translations under one locale directory, cached until their .po or .mo changes."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self.locale_dir = locale_dir
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, gettext.GNUTranslations]] = {}

    def available(self) -> list[str]:
        return sorted(
            po.parent.parent.name for po in self.locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
        )

    def _po_path(self, locale: str) -> Path | None:
        # A regional locale falls back to its language (cy_GB to cy), then to the source text.
        for name in (locale, locale.split("_")[0]):
            po_path = self.locale_dir / name / "LC_MESSAGES" / f"{DOMAIN}.po"
            if po_path.exists():
                return po_path
        return None

    def translations(self, locale: str) -> gettext.NullTranslations:
        po_path = self._po_path(normalise_locale(locale))
        if po_path is None:
            return gettext.NullTranslations()
        with self._lock:
            mo_path = compile_catalog(po_path)
            stamp = mo_path.stat().st_mtime_ns
            cached = self._cache.get(str(po_path))
            if cached is None or cached[0] != stamp:
                with mo_path.open("rb") as mo_file:
                    cached = (stamp, gettext.GNUTranslations(mo_file))
                self._cache[str(po_path)] = cached
            return cached[1]
