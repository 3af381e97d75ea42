"""All settings of the register service, read once from the environment."""

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    variant: str = Field(default="llr", alias="DSP_VARIANT")
    database_url: str = Field(default="", alias="DATABASE_URL")
    var_dir: Path = Field(default=PROJECT_ROOT / "var", alias="DSP_VAR_DIR")
    # Rasa replicas behind /chat; a conversation always goes to the same one.
    rasa_urls: list[str] = Field(default=["http://127.0.0.1:5005"], alias="DSP_RASA_URLS")
    # The action server, for /health/ready.
    actions_url: str = Field(default="http://127.0.0.1:5055", alias="DSP_ACTIONS_URL")
    chat_timeout_seconds: float = Field(default=30.0, alias="DSP_CHAT_TIMEOUT")
    chat_rate_per_minute: int = Field(default=30, alias="DSP_CHAT_RATE_PER_MINUTE")
    chat_rate_per_address_per_minute: int = Field(
        default=240, alias="DSP_CHAT_RATE_PER_ADDRESS_PER_MINUTE"
    )
    chat_max_message_chars: int = Field(default=2000, alias="DSP_CHAT_MAX_MESSAGE_CHARS")
    # A conversation ends after this long without a message (its cookie expires).
    chat_session_minutes: int = Field(default=120, alias="DSP_CHAT_SESSION_MINUTES")
    # A signed-in session of the register pages ends after this long without a page.
    admin_session_minutes: int = Field(default=30, alias="DSP_ADMIN_SESSION_MINUTES")
    # Signs conversation cookies. Empty: a key kept in var/secret_key, made on first use.
    secret_key: str = Field(default="", alias="DSP_SECRET_KEY")
    # /docs and /redoc load their scripts from a CDN, which this service never does: off unless
    # asked for (the OpenAPI document itself is always at /openapi.json).
    api_docs: bool = Field(default=False, alias="DSP_API_DOCS")
    # Where people reach the service: links in emails start with it.
    public_url: str = Field(default="http://localhost:8000", alias="DSP_PUBLIC_URL")
    # Email (the outbox). Without a host, messages wait in the outbox until one is set.
    smtp_host: str = Field(default="", alias="DSP_SMTP_HOST")
    smtp_port: int = Field(default=25, alias="DSP_SMTP_PORT")
    smtp_starttls: bool = Field(default=False, alias="DSP_SMTP_STARTTLS")
    # TLS from the first byte (SMTPS, usually port 465) rather than STARTTLS.
    smtp_tls: bool = Field(default=False, alias="DSP_SMTP_TLS")
    smtp_username: str = Field(default="", alias="DSP_SMTP_USERNAME")
    smtp_password: str = Field(default="", alias="DSP_SMTP_PASSWORD")
    smtp_sender: str = Field(default="dsp-assistant@localhost", alias="DSP_SMTP_SENDER")
    # Where the Transforming Care Officers are told of a red rating (001 s10): a team mailbox.
    # Empty: the notification waits on the register as an open follow-up.
    tco_email: str = Field(default="", alias="DSP_TCO_EMAIL")

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'dsp.sqlite3'}"
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()


def secret_key(settings: Settings) -> bytes:
    """The key that signs conversation cookies: the setting, else one kept under var/ so that
    conversations survive a restart (made on first use, readable by this user only)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.var_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()
