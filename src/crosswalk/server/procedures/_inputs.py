"""Input validation shared by every procedure: camelCase fields, unknown keys refused."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from crosswalk.services.conversations import MAX_TEXT_LENGTH

Id = Annotated[str, Field(min_length=1, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=1000)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH)]
TimeoutMs = Annotated[int, Field(ge=0, le=600_000)]
Limit = Annotated[int, Field(ge=1, le=500)]


class ApiInput(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )
