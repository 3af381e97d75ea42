"""A submitted referral as a FHIR QuestionnaireResponse, validated by `fhir.resources`.

FHIR R4B keeps R4's QuestionnaireResponse unchanged, and `fhir.resources` 8 ships R4B (not R4),
so the resource is validated against R4B's model. The person is identified by the register's
dsp_id (001 section 6), never by name, in the resource's `identifier`; the answers themselves are
the referral's, personal data included: the export is for the DSR admin lead only.
"""

from datetime import datetime
from typing import Any

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from dsp_backend.database.core import as_utc
from dsp_backend.questionnaire import logic
from dsp_backend.questionnaire.schemas import Answers, Item

QUESTIONNAIRE_URL = "urn:dsp-assistant:questionnaire:dsp-referral"
DSP_ID_SYSTEM = "urn:dsp-assistant:dsp-id"


def _answers(item: Item, value: Any) -> list[dict[str, Any]]:
    """One item's answer list in FHIR's value[x] shape."""
    if item.type == "boolean":
        return [{"valueBoolean": bool(value)}]
    if item.type == "date":
        return [{"valueDate": value}]
    if item.type == "age":
        return [{"valueInteger": int(value)}]
    if item.type in ("choice", "area", "diagnosis", "rating"):
        labels = {o.code: o.display for o in item.answerOption}
        coding = {"code": str(value), "display": labels.get(str(value), str(value))}
        return [{"valueCoding": coding}]
    if item.type == "criteria":
        return [{"valueCoding": {"code": str(code)}} for code in value]
    if item.type == "person_name":
        return [{"valueString": f"{value['given']} {value['family']}"}]
    return [{"valueString": str(value)}]


def _item(item: Item, value: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"linkId": item.linkId, "text": item.text}
    if item.type == "people":
        # Each person is a group of four answers.
        found["item"] = [
            {
                "linkId": f"{item.linkId}.person",
                "item": [
                    {"linkId": f"{item.linkId}.{part}", "answer": [{"valueString": person[part]}]}
                    for part in ("name", "role", "email", "phone")
                ],
            }
            for person in value["people"]
        ]
    else:
        found["answer"] = _answers(item, value)
    return found


def questionnaire_response(*, dsp_id: str, answers: Answers, authored: datetime) -> dict[str, Any]:
    """The referral's answers as a QuestionnaireResponse (status completed), validated."""
    items = [
        _item(item, answers[item.linkId])
        for item in logic.questionnaire().items
        if answers.get(item.linkId) is not None
    ]
    resource = QuestionnaireResponse.model_validate(
        {
            "resourceType": "QuestionnaireResponse",
            "identifier": {"system": DSP_ID_SYSTEM, "value": dsp_id},
            "questionnaire": QUESTIONNAIRE_URL,
            "status": "completed",
            # FHIR's dateTime needs a zone with a time.
            "authored": as_utc(authored).isoformat(),
            "item": items,
        }
    )
    exported: dict[str, Any] = resource.model_dump(mode="json", exclude_none=True)
    return exported
