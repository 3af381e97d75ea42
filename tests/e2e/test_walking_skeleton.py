"""A person opens the page, says hello and asks which area the assistant covers: every tier answers."""

from typing import Any

Stack = Any  # the `stack` fixture of conftest.py


def texts(response_json: dict) -> list[str]:  # type: ignore[type-arg]
    return [message["text"] for message in response_json["messages"]]


def test_hello_and_which_area_through_every_tier(stack: Stack) -> None:
    with stack.chat() as chat:
        hello = chat.post("/chat", json={"message": "hello"})
        assert hello.status_code == 200
        assert any("Dynamic Support Pathway" in text for text in texts(hello.json()))

        area = chat.post("/chat", json={"message": "which area do you cover?"})
        assert area.status_code == 200
        # The words come from the variant file, through the action server and the register service.
        assert any("Leicester, Leicestershire and Rutland" in text for text in texts(area.json()))


def test_rasa_and_the_action_server_listen_on_loopback_only(stack: Stack) -> None:
    import subprocess

    listening = subprocess.run(["ss", "-ltn"], capture_output=True, text=True, check=True).stdout
    for port in (stack.env["DSP_ACTIONS_PORT"], stack.env["DSP_RASA_PORT"]):
        lines = [line for line in listening.splitlines() if line.split()[3].endswith(f":{port}")]
        assert lines, f"nothing listens on {port}"
        assert all(line.split()[3].startswith("127.0.0.1:") for line in lines), lines


def test_what_a_person_types_stays_out_of_every_log(stack: Stack) -> None:
    """Health data: nothing person-identifiable in logs (DESIGN.md, Data protection)."""
    from pathlib import Path

    name, nhs_number = "Zebedee Quixotic-Marmalade", "943 476 5919"
    with stack.chat() as chat:
        answered = chat.post("/chat", json={"message": f"my name is {name}, NHS {nhs_number}"})
        assert answered.status_code == 200
    logs = sorted((Path(stack.env["DSP_VAR_DIR"]) / "log").glob("*.log"))
    assert {log.name for log in logs} >= {"register_service.log", "action_server.log", "rasa.log"}
    for log in logs:
        text = log.read_text(errors="replace")
        assert "Zebedee" not in text and nhs_number not in text, log.name
