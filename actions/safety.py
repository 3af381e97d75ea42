"""The crisis safety net (DESIGN.md Safety): emergency routes at once, then the offer to carry on.

It reads only the easy-read content, which is the same in every variant, so it works when the
register service cannot be reached. Inside a form the form asks its question again next, which
is the offer to carry on; elsewhere the carry-on topic offers its two buttons.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

import easy_read


def emergency_text() -> str:
    return "\n".join(easy_read.answer(easy_read.EMERGENCY_TOPIC, None))


def say_emergency(dispatcher: CollectingDispatcher) -> None:
    """The emergency routes, marked as an emergency: the chat page shows them as one, with the
    numbers as links that call."""
    dispatcher.utter_message(text=emergency_text(), json_message={"emergency": True})


def carry_on_buttons() -> list[dict[str, str]]:
    return [
        {"title": follow_up.title, "payload": f"/{follow_up.intent}"}
        for follow_up in easy_read.follow_ups(easy_read.CARRY_ON_TOPIC, None)
    ]


class ActionCrisisRoutes(Action):
    def name(self) -> str:
        return "action_crisis_routes"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        say_emergency(dispatcher)
        if tracker.active_loop_name is None:
            offer = "\n".join(easy_read.answer(easy_read.CARRY_ON_TOPIC, None))
            dispatcher.utter_message(text=offer, buttons=carry_on_buttons())
        return []
