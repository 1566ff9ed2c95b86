"""Error codes of the notifications domain."""

from enum import StrEnum


class Code(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"
