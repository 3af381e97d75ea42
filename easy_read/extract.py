"""Babel extractor for the easy-read YAML content, registered in easy_read/babel.cfg.

It parses each file with the same code that serves the answers, so what is extracted is
exactly what can be said. Each message carries a note naming its topic or glossary term.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from easy_read.content import CONTENT_DIR, file_texts, parse_variants, parse_yaml


def extract_yaml(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, None, str, list[str]]]:
    path = Path(getattr(fileobj, "name", "topic.yml"))
    # Babel opens one file at a time; topics need the variant list that sits beside them.
    content_dir = path.parent.parent if path.parent.name == "topics" else path.parent
    variants_file = content_dir / "variants.yml"
    if not variants_file.exists():
        variants_file = CONTENT_DIR / "variants.yml"
    known = parse_variants(parse_yaml(variants_file.read_text("utf-8")))
    for text, note in file_texts(path, parse_yaml(fileobj.read()), known):
        yield text.line, None, str(text), [note]
