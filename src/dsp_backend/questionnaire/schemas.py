"""The referral questionnaire's shape (FHIR R4 Questionnaire's ideas: linkId, enableWhen,
answerOption, required) and the two conversations the service leads: what comes next, and what
a free-text answer means.

Answers travel as a JSON object keyed by linkId. Values are plain JSON: text, true/false, ISO
dates, numbers, lists; `person_name` is {"given", "family"} and `invitees` a list of people.
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dsp_backend.eligibility.schemas import EligibilityResult
from dsp_backend.rating.schemas import RatingSuggestion
from dsp_backend.variants.schemas import ReferralSource

AnswerType = Literal[
    "choice",
    "boolean",
    "date",
    "age",
    "text",
    "name",
    "person_name",
    "nhs_number",
    "postcode",
    "email",
    "phone",
    "contact",
    "people",
    "area",
    "diagnosis",
    "criteria",
    "rating",
]
Operator = Literal["=", "!=", "in", "exists", ">="]
Audience = Literal["professional", "self"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnswerOption(Strict):
    code: str
    display: str
    words: list[str] = Field(default=[], description="what people say for this option")


class EnableWhen(Strict):
    """FHIR's enableWhen: `question` is a linkId, or a "$fact" the service derives."""

    question: str
    operator: Operator
    answer: Any


class Item(Strict):
    linkId: str = Field(pattern=r"^[a-z0-9_]+$")
    section: str
    label: str = Field(description="what a person calls this answer, in the summary")
    text: str
    why: str
    text_self: str | None = None
    why_self: str | None = None
    type: AnswerType
    required: bool = True
    captures: str | None = Field(
        default=None, description="linkIds this answer's extra words also answer (space-separated)"
    )
    enableWhen: list[EnableWhen] = []
    answerOption: list[AnswerOption] = []

    def wording(self, audience: Audience) -> tuple[str, str]:
        if audience == "self":
            return self.text_self or self.text, self.why_self or self.why
        return self.text, self.why


class Term(Strict):
    """A word of the pathway a professional may ask about, and what it means (terms.yml)."""

    patterns: list[str] = Field(min_length=1)
    text: str


class Questionnaire(Strict):
    id: str
    title: str
    items: list[Item]

    def item(self, link_id: str) -> Item | None:
        return next((i for i in self.items if i.linkId == link_id), None)


Answers = dict[str, Any]


class Option(BaseModel):
    code: str
    display: str
    say: str = Field(default="", description="what a button sends: the display unless given")

    @model_validator(mode="after")
    def _say_display(self) -> "Option":
        if not self.say:
            self.say = self.display
        return self


class Question(BaseModel):
    """A question as the assistant asks it now: wording, why, and the choices that apply."""

    linkId: str
    type: AnswerType
    text: str = Field(description="what to ask, with anything the answers so far add to it")
    why: str
    options: list[Option] = []
    multiple: bool = Field(default=False, description="several options may be chosen")


class SummaryLine(BaseModel):
    linkId: str
    label: str
    value: str = Field(description="the answer as a person reads it; an NHS number is masked")


class NextRequest(Strict):
    referral_source: ReferralSource = "professional"
    answers: Answers = Field(default={}, description="the answers so far, by linkId")


class Progress(BaseModel):
    answered: int
    to_ask: int = Field(description="questions still to ask, as the answers stand now")


class Next(BaseModel):
    """What comes next: a question, the summary when nothing is missing, or a stop with why."""

    status: Literal["question", "summary", "stopped"]
    question: Question | None = None
    summary: list[SummaryLine] = []
    stopped: str | None = Field(default=None, description="why the referral cannot go on")
    eligibility: EligibilityResult | None = None
    suggestion: RatingSuggestion | None = None
    progress: Progress


class InterpretRequest(Strict):
    referral_source: ReferralSource = "professional"
    question: str = Field(
        description="the linkId asked, '$opening' for the message that started the referral, "
        "'$summary' at the summary, or '$explain' for a question about the pathway's words"
    )
    text: Annotated[str, Field(max_length=2000)]
    answers: Answers = {}
    today: date | None = Field(default=None, description="for tests; the service's date else")


class Interpreted(BaseModel):
    """What the text said: the answers as they stand after it, and what to tell the person."""

    understood: bool
    answers: Answers
    message: str | None = Field(
        default=None,
        description="plain English: a clarification when not understood, or what was noted",
    )
    options: list[Option] = Field(default=[], description="choices to offer with the message")
    action: Literal["submit", "explain"] | None = Field(
        default=None, description="submit: send the referral; explain: `message` answers a question"
    )
