"""Actions every journey shares."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import register_client

SERVICE_UNAVAILABLE = (
    "Sorry, I cannot reach the register service just now. Please try again in a few minutes."
)


class ActionTellArea(Action):
    """Answers "which area do you cover?" from the register service's variant, never from the bot."""

    def name(self) -> str:
        return "action_tell_area"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            variant = await register_client.get_variant()
        except (register_client.RegisterUnavailable, register_client.RegisterRejected):
            dispatcher.utter_message(text=SERVICE_UNAVAILABLE)
            return []
        dispatcher.utter_message(text=f"I cover {variant['area_summary']}")
        return []
