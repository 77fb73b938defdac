"""Configuration from the environment (``REVCYCLE_*``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVCYCLE_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".revcycle"), description="Working folder: store, database,"
                       " reports.")
    sender_id: str = Field("REVCYCLE", max_length=15,
                           description="Our interchange sender id (ISA06, GS02).")
    sender_qualifier: str = Field("ZZ", min_length=2, max_length=2,
                                  description="ISA05 qualifier of the sender id.")
    usage_indicator: Literal["P", "T"] = Field("T", description="ISA15: P production, T test.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
