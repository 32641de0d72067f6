"""Domain errors. Each carries a Vietnamese and an English message; the API maps kinds to HTTP codes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    message_en: str
    code: str = "invalid"


@dataclass
class DomainError(Exception):
    message: str
    message_en: str
    code: str = "error"
    fields: list[FieldProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.message_en} / {self.message}"


class NotFound(DomainError):
    """The thing does not exist, or the asker may not know that it does."""


class Forbidden(DomainError):
    """The asker is known but may not do this."""


class Conflict(DomainError):
    """Someone else changed it first, or it is no longer in a state that allows this."""


class InvalidInput(DomainError):
    """The input breaks a rule; ``fields`` name what is at fault."""


class UploadRejected(DomainError):
    """A file that is too large or of a type that is not accepted."""

    too_large: bool = False


@dataclass
class RateLimited(DomainError):
    """Too many requests from one client or address: try again after ``retry_after`` seconds."""

    retry_after: int = 60


def not_found(what_vi: str, what_en: str) -> NotFound:
    return NotFound(f"Không tìm thấy {what_vi}.", f"{what_en} not found.", code="not_found")
