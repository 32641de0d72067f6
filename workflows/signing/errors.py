"""Errors of the signing library, as the project's domain errors (Vietnamese first, English second)."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.errors import DomainError


@dataclass
class SigningConfigError(DomainError):
    """The signing settings are wrong: ``setting`` names the environment variable at fault.

    An operator's mistake, not a user's: the API shows it as a server error and the job that
    signs issued documents stops retrying until the configuration is fixed."""

    setting: str = ""


class SigningFailed(DomainError):
    """The document could not be signed (an unreadable PDF, a signer that failed)."""


class TimestampUnavailable(SigningFailed):
    """The timestamp server did not answer or refused: worth retrying later."""


def config_error(setting: str, vi: str, en: str) -> SigningConfigError:
    """A configuration error whose messages start with the setting's name."""
    return SigningConfigError(
        message=f"{setting}: {vi}", message_en=f"{setting}: {en}", code="signing_config", setting=setting
    )
