"""Rasa custom actions. They hold no domain rules: they ask the register service and turn its answers
into conversation. actions.register_client is the only module that speaks HTTP to the service."""
