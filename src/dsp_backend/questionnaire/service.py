"""The service leads the referral's content: the next question as it should be asked now, the
summary when nothing is missing, what a free-text answer means, and why a question is asked.
"""

import re
from datetime import date

from dsp_backend.questionnaire import interpret as interpreting
from dsp_backend.questionnaire import logic, reading
from dsp_backend.questionnaire.schemas import (
    Answers,
    Audience,
    Interpreted,
    Item,
    Next,
    Option,
    Progress,
    Question,
    SummaryLine,
)
from dsp_backend.variants.schemas import ReferralSource, Variant

# At most this many criteria are shown as matching what the referrer described.
SHOWN_CRITERIA = 3


def proposed_criteria(state: logic.State) -> list[str]:
    """The criteria whose words the referrer used in describing what is happening, best first;
    all of them where none matched, so the referrer can still tick."""
    criteria = logic.criteria_for(state.variant, state.facts["age_group"])
    described = str(state.answers.get("current_situation") or "")
    scored = []
    for index, criterion in enumerate(criteria):
        hits = reading.find_choices(described, [reading.Choice(criterion.id, criterion.words)])
        if hits:
            scored.append((-len(hits), index, criterion.id))
    if not scored:
        return [c.id for c in criteria]
    return [cid for _, _, cid in sorted(scored)[:SHOWN_CRITERIA]]


def _audience(source: ReferralSource) -> Audience:
    return "self" if source == "self" else "professional"


def _criteria_question(item: Item, state: logic.State, text: str, why: str) -> Question:
    by_id = {c.id: c for c in logic.criteria_for(state.variant, state.facts["age_group"])}
    shown = proposed_criteria(state)
    matched = len(shown) < len(by_id) or len(by_id) <= SHOWN_CRITERIA
    lead = "From what you describe, these seem to apply:" if matched else "Do any of these apply?"
    lines = [lead] + [f"{n}. {by_id[c].title}" for n, c in enumerate(shown, 1)]
    lines.append(
        f"{text} Say the numbers (for example 1 and 2), 'all' or 'none'; 'more' gives each in full."
    )
    options = [
        Option(code=str(n), display=by_id[c].title, say=str(n)) for n, c in enumerate(shown, 1)
    ]
    if len(shown) > 1:
        options.append(Option(code="all", display="All of these", say="all of these"))
    options.append(Option(code="none", display="None of these", say="none of these"))
    return Question(
        linkId=item.linkId,
        type=item.type,
        text="\n".join(lines),
        why=why,
        options=options,
        multiple=True,
    )


def _rating_question(item: Item, state: logic.State, why: str) -> Question:
    suggestion = state.suggestion
    assert suggestion is not None  # the rating is asked after what is happening
    choosable = suggestion.choosable_at_referral
    lines = [suggestion.reasons[0]]
    lines += suggestion.reasons[1:-1]
    lines.append(f"You decide. {item.text}")
    options = [Option(code=r, display=r.capitalize()) for r in choosable]
    return Question(
        linkId=item.linkId, type=item.type, text="\n".join(lines), why=why, options=options
    )


def render(item: Item, state: logic.State) -> Question:
    """The question as it should be asked now: its wording, and the choices that apply."""
    text, why = item.wording(_audience(state.source))
    if item.type == "criteria":
        return _criteria_question(item, state, text, why)
    if item.type == "rating":
        return _rating_question(item, state, why)
    options: list[Option] = []
    if item.type == "choice":
        options = [Option(code=o.code, display=o.display) for o in item.answerOption]
    elif item.type == "boolean":
        options = [Option(code="yes", display="Yes"), Option(code="no", display="No")]
    elif item.type == "area":
        options = interpreting.area_options(state.variant)
    elif item.type == "diagnosis":
        options = [Option(code=o.code, display=o.display) for o in item.answerOption[:3]]
    elif item.type == "people" and (state.answers.get(item.linkId) or {}).get("people"):
        text = "Anyone else to invite? Give their name, role, email and phone number, or say no."
        options = [Option(code="no", display="No, that is everyone")]
    return Question(linkId=item.linkId, type=item.type, text=text, why=why, options=options)


def _masked(nhs_number: str) -> str:
    return f"*** *** {nhs_number[-4:]}"


def display(item: Item, value: object, state: logic.State) -> str:
    """An answer as a person reads it. The NHS number is masked: the summary is for checking."""
    if item.type == "boolean":
        return "yes" if value else "no"
    if item.type == "person_name" and isinstance(value, dict):
        return f"{value['given']} {value['family']}"
    if item.type == "nhs_number":
        return _masked(str(value))
    if item.type == "people" and isinstance(value, dict):
        return "; ".join(f"{p['name']} ({p['role']})" for p in value["people"])
    if item.type == "criteria" and isinstance(value, list):
        titles = {c.id: c.title for c in state.variant.ratings.all_criteria()}
        return ", ".join(titles.get(str(c), str(c)) for c in value) or "another concern"
    if item.type == "area":
        names = {a.id: a.name for a in state.variant.areas}
        return names.get(str(value), f"outside {state.variant.name}")
    if item.type in ("choice", "diagnosis"):
        labels = {o.code: o.display for o in item.answerOption}
        labels.update(both="Learning disability and autism")
        labels.update(learning_difficulty_only="A learning difficulty only")
        return labels.get(str(value), str(value))
    if item.type == "date" and isinstance(value, str):
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


def summary(state: logic.State) -> list[SummaryLine]:
    lines = [
        SummaryLine(
            linkId=item.linkId,
            label=item.label,
            value=display(item, state.answers[item.linkId], state),
        )
        for item in state.asked()
        if item.linkId != "rag"
    ]
    if state.rag is not None:
        lines.append(
            SummaryLine(linkId="rag", label="rating", value=f"{state.rag}, on the {state.register}")
        )
    elif state.variant.ratings.rated_by == "dsr_meeting":
        lines.append(SummaryLine(linkId="rag", label="rating", value="rated by the DSR meeting"))
    return lines


def next_step(*, answers: Answers, source: ReferralSource, variant: Variant, today: date) -> Next:
    state = logic.state_of(answers, source, variant, today)
    to_ask = state.to_ask()
    progress = Progress(answered=len(state.asked()), to_ask=len(to_ask))
    common = {"eligibility": state.eligibility, "suggestion": state.suggestion}
    stop = logic.stop_reason(state)
    if stop is not None:
        return Next(status="stopped", stopped=stop, progress=progress, **common)
    if to_ask:
        return Next(
            status="question", question=render(to_ask[0], state), progress=progress, **common
        )
    return Next(status="summary", summary=summary(state), progress=progress, **common)


_WHY = re.compile(r"\bwhy\b.*\b(need|ask|want|matter|important|this|that)\b|^\s*why\??\s*$", re.I)
# Asking for the criteria in full rather than choosing among them.
_MORE = re.compile(
    r"\b(more|details?|in full|full text|explain|what do (?:they|these) mean)\b", re.I
)
_SEND = re.compile(
    r"\b(send|submit|yes|yep|yeah|correct|all good|looks good|looks right|that'?s right|"
    r"go ahead|confirm|fine|ok|okay)\b",
    re.I,
)


def explain(item: Item | None, text: str, source: ReferralSource, variant: Variant) -> str | None:
    """ "Why do you need this?" from the questionnaire; what a rating means from the variant."""
    if item is not None and _WHY.search(text):
        return item.wording(_audience(source))[1]
    said = reading.normalise(text)
    if re.search(r"\b(what|mean|means|meaning)\b", said):
        for definition in variant.ratings.definitions:
            if re.search(rf"\b{definition.rag}\b", said):
                return f"{definition.rag.capitalize()}: {definition.text}"
    return None


def change_target(text: str, state: logic.State) -> Item | None:
    """The answered question a person names when they want to change it ("the date of birth is
    wrong", "change his NHS number")."""
    said = reading.normalise(text)
    best: tuple[int, Item] | None = None
    for item in state.asked():
        names = [item.label.lower(), item.linkId.replace("_", " ")]
        for name in names:
            words = [
                w for w in reading.normalise(name).split() if w not in ("the", "your", "their")
            ]
            hits = sum(1 for w in words if re.search(rf"\b{re.escape(w)}\b", said))
            if words and hits == len(words) and (best is None or hits > best[0]):
                best = (hits, item)
    return best[1] if best else None


def interpret(
    *,
    question: str,
    text: str,
    answers: Answers,
    source: ReferralSource,
    variant: Variant,
    today: date,
) -> Interpreted:
    state = logic.state_of(answers, source, variant, today)
    item = logic.questionnaire().item(question)
    if question == "$explain":
        explained = explain(None, text, source, variant)
        return Interpreted(
            understood=explained is not None,
            answers=answers,
            message=explained,
            action="explain" if explained else None,
        )
    asks = "?" in text or re.match(r"^\s*(why|what)\b", text, re.I)
    short = len(reading.words_of(text)) <= 15
    explained = explain(item, text, source, variant) if asks and short else None
    if explained:
        return Interpreted(understood=True, answers=answers, message=explained, action="explain")
    if question == "$summary":
        target = change_target(text, state)
        if target is not None:
            kept = {k: v for k, v in answers.items() if k != target.linkId}
            return Interpreted(
                understood=True, answers=kept, message=f"OK, let us change {target.label}."
            )
        if re.search(r"\b(change|wrong|mistake|correct it|not right|edit)\b", text, re.I):
            return Interpreted(
                understood=False,
                answers=answers,
                message="Which answer would you like to change? For example 'change the date "
                "of birth'.",
            )
        if _SEND.search(text) and reading.read_boolean(text) is not False:
            return Interpreted(understood=True, answers=answers, action="submit")
        return Interpreted(
            understood=False,
            answers=answers,
            message="Shall I send the referral? Say 'send it', or tell me which answer to change.",
            options=[Option(code="send", display="Send it")],
        )
    shown = proposed_criteria(state) if question == "concerns" else []
    if shown and _MORE.search(text) and not re.search(r"\d", text):
        by_id = {c.id: c for c in state.variant.ratings.all_criteria()}
        full = [f"{n}. {by_id[c].title}: {by_id[c].text}" for n, c in enumerate(shown, 1)]
        return Interpreted(
            understood=True, answers=answers, message="\n".join(full), action="explain"
        )
    return interpreting.interpret(question=question, text=text, state=state, shown=shown)
