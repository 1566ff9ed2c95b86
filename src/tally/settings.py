"""Configuration from the environment (TALLY_*), validated once at start-up."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

VAR_DIR = Path("var")
_WEAK_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message names it in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./var/tally.db"
    redis_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = []
    email_url: str = "console://"
    sms_url: str = "console://"
    log_level: str = "INFO"
    web_concurrency: int = Field(default=1, ge=1, le=64)
    # Compiled query plans (graph.fastpath); off runs every operation through graphql-core.
    fast_path: bool = True
    # Items a connection page may hold. The schema documents 100; only benchmarks raise it
    # (the wide-list scenario pages 10,000 rows at once).
    max_page_size: int = Field(default=100, ge=1)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        # Accept the URLs people paste (postgres://, postgresql://) and pick the async driver.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix):]
        if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
            return "sqlite+aiosqlite://" + url[len("sqlite://"):]
        if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("must be a postgresql:// or sqlite+aiosqlite:// URL")
        return url

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if not url:
            return None
        if not url.startswith(("redis://", "rediss://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return url

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("email_url", "sms_url")
    @classmethod
    def _provider_scheme(cls, url: str) -> str:
        if not url.startswith(("console://", "file://", "http://", "https://")):
            raise ValueError("must be console://, file:///dir or an http(s):// provider URL")
        return url

    @field_validator("log_level")
    @classmethod
    def _level(cls, level: str) -> str:
        level = level.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @model_validator(mode="after")
    def _secret(self) -> Settings:
        if self.secret_key and len(self.secret_key) >= _WEAK_SECRET_LENGTH:
            return self
        if self.env is Environment.PRODUCTION:
            raise ValueError(
                f"TALLY_SECRET_KEY: production needs a random secret of at least {_WEAK_SECRET_LENGTH} characters"
            )
        if self.secret_key:
            raise ValueError(f"TALLY_SECRET_KEY: must be at least {_WEAK_SECRET_LENGTH} characters")
        self.secret_key = _development_secret() if self.env is Environment.DEVELOPMENT else secrets.token_urlsafe(48)
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def embedded(self) -> bool:
        """No Redis: the bus is in memory and jobs run in-process."""
        return self.redis_url is None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _development_secret() -> str:
    """A key generated on first run and kept under var/, so tokens survive a restart."""
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_settings(**overrides: object) -> Settings:
    """Read and validate the environment; a bad value raises one line naming the setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "TALLY_" + str(first["loc"][0]).upper() if first["loc"] else ""
        message = first["msg"].removeprefix("Value error, ")
        if message.startswith("TALLY_"):
            raise ConfigurationError(message) from None
        raise ConfigurationError(f"{name}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
