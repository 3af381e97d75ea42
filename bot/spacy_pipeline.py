"""Builds the project's spaCy pipeline at set-up: no model is downloaded from anywhere.

A blank English pipeline, a lookup lemmatizer (tables from spacy-lookups-data) and an entity_ruler that
finds NHS numbers, postcodes, dates of birth and the place and council names of every local variant.
Rasa's SpacyNLP loads the result by path. Run: python -m bot.spacy_pipeline OUTPUT_DIR
"""

import sys
from pathlib import Path
from typing import Any

import spacy
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Place names are data of the register service's variants; read as data, nothing imported across sides.
VARIANT_FILES = sorted((ROOT / "src" / "dsp_backend" / "variants").glob("*.yml"))

MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)


def place_names() -> list[str]:
    names: set[str] = set()
    for path in VARIANT_FILES:
        variant = yaml.safe_load(path.read_text(encoding="utf-8"))
        for area in variant["areas"]:
            names.update([area["name"], area["council"], *area.get("towns", [])])
    return sorted(names)


def patterns() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        # NHS number: 10 digits, written whole or as 3-3-4.
        {"label": "nhs_number", "pattern": [{"TEXT": {"REGEX": r"^\d{10}$"}}]},
        {
            "label": "nhs_number",
            "pattern": [
                {"TEXT": {"REGEX": r"^\d{3}$"}},
                {"TEXT": {"REGEX": r"^\d{3}$"}},
                {"TEXT": {"REGEX": r"^\d{4}$"}},
            ],
        },
        # UK postcode: outward code then inward code ("LE1 5WW"), or written without the space.
        {
            "label": "postcode",
            "pattern": [
                {"TEXT": {"REGEX": r"^(?i:[A-Z]{1,2}\d[A-Z\d]?)$"}},
                {"TEXT": {"REGEX": r"^(?i:\d[A-Z]{2})$"}},
            ],
        },
        {
            "label": "postcode",
            "pattern": [{"TEXT": {"REGEX": r"^(?i:[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2})$"}}],
        },
        # Dates: 03/12/2012, 3-12-2012, 2012-12-03, 3 December 2012, 3rd Dec 2012.
        {"label": "date", "pattern": [{"TEXT": {"REGEX": r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$"}}]},
        {"label": "date", "pattern": [{"TEXT": {"REGEX": r"^\d{4}-\d{2}-\d{2}$"}}]},
        {
            "label": "date",
            "pattern": [
                {"TEXT": {"REGEX": r"^\d{1,2}(st|nd|rd|th)?$"}},
                {"LOWER": {"REGEX": rf"^({MONTHS})$"}},
                {"TEXT": {"REGEX": r"^\d{4}$"}},
            ],
        },
    ]
    for name in place_names():
        tokens = [{"LOWER": word.lower()} for word in name.replace("-", " - ").split()]
        found.append({"label": "place", "pattern": tokens})
    return found


def build() -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()  # loads the lookup tables; it also empties the ruler, so patterns come after
    ruler.add_patterns(patterns())  # type: ignore[attr-defined]
    nlp.meta["name"] = "dsp"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "DSP Assistant pipeline built at set-up (bot/spacy_pipeline.py)"
    return nlp


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bot.spacy_pipeline OUTPUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    build().to_disk(out)
    print(f"spaCy pipeline written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
