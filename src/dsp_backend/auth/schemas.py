from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    action_server = "action_server"
    referrer = "referrer"
    dsr_admin = "dsr_admin"
    tco = "tco"
    commissioner = "commissioner"


@dataclass(frozen=True)
class Actor:
    """Who is calling: a token id and its role. Recorded in the audit log, never a name."""

    token_id: int
    role: Role

    @property
    def ref(self) -> str:
        return f"token:{self.token_id}"
