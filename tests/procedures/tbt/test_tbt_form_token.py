"""The public form's signed token: any change to it is refused, however it happened to end."""

from __future__ import annotations

import pytest

from tests.support import tampered
from workflows.errors import InvalidInput
from workflows.procedures.tbt import antiabuse

KEY = "test-signing-key"


def _challenge_whose_signature_ends_in_00() -> antiabuse.FormChallenge:
    """A token like the one CI drew on 04/12/2026: its 32-hex signature ended in "00" (1 in 256),
    so the old forgery, which overwrote the tail with "00", sent back the very same token."""
    for _ in range(20_000):
        challenge = antiabuse.new_challenge(KEY)
        if challenge.token.endswith("00"):
            return challenge
    raise AssertionError("no signature ending in 00 in 20,000 draws")


def _answer(challenge: antiabuse.FormChallenge) -> str:
    a, b = (int(word) for word in challenge.question_en.removeprefix("What is ").rstrip("?").split(" plus "))
    return str(a + b)


def test_the_genuine_token_is_accepted_and_a_tampered_one_refused_on_the_token_field():
    challenge = _challenge_whose_signature_ends_in_00()
    antiabuse.check_challenge(KEY, challenge.token, _answer(challenge), None)

    assert tampered(challenge.token) != challenge.token
    with pytest.raises(InvalidInput) as refused:
        antiabuse.check_challenge(KEY, tampered(challenge.token), _answer(challenge), None)
    assert [problem.field for problem in refused.value.fields] == ["form_token"]


@pytest.mark.parametrize("secret", ["abc0", "abc1", "xyz", "000", "L_cRHGGGccI8GFRoj5TsjAUy"])
def test_tampering_always_changes_the_secret_and_keeps_its_length(secret):
    changed = tampered(secret)
    assert changed != secret and len(changed) == len(secret) and changed[:-1] == secret[:-1]
