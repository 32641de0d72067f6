"""Walk every path of a process model, then walk each again with a restart before every command.

A *driver* acts on one dossier (or one bare process instance) and can "restart": throw away
everything the process holds in memory and carry on from what was stored. ``explore`` makes
walks until every element of the model has been reached, preferring at each wait a choice not
yet made (a task with a data variant not yet used, or letting the next timer fire), then one not
yet made right after the previous one (so 'fails the evaluation' meets 'the leader signs');
``replay``
takes the same choices again with a restart before each one. The two walks must see the same
thing after every step: a restored instance is the same instance (DESIGN rule 14).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

TIMER = "<timer>"


@dataclass(frozen=True)
class Option:
    """Something that can happen now: a waiting task (by spec name and ordinal among the waiting
    instances of that spec), or the next timer firing (``spec_name == TIMER``)."""

    spec_name: str
    ordinal: int = 0
    variants: int = 1


@dataclass(frozen=True)
class Choice:
    spec_name: str
    ordinal: int = 0
    variant: int = 0

    def __str__(self) -> str:
        if self.spec_name == TIMER:
            return "timer fires"
        return f"{self.spec_name}#{self.ordinal} with variant {self.variant}"


class Driver(Protocol):
    def options(self) -> list[Option]: ...

    def take(self, choice: Choice) -> bool:
        """Do it; False when the product refuses it here (nothing changed)."""

    def restart(self) -> None: ...

    def finished(self) -> bool: ...

    def observe(self) -> Any:
        """What a person would see of the dossier now (compared between the two walks)."""

    def reached(self) -> frozenset[str]: ...


@dataclass
class Walk:
    choices: list[Choice] = field(default_factory=list)
    observations: list[Any] = field(default_factory=list)
    reached: frozenset[str] = frozenset()


def _expand(options: list[Option]) -> list[Choice]:
    return [Choice(o.spec_name, o.ordinal, v) for o in options for v in range(o.variants)]


def _kind(choice: Choice) -> tuple[str, int]:
    return (choice.spec_name, choice.variant)


def explore(
    new_driver: Callable[[], Driver],
    elements: frozenset[str],
    *,
    max_walks: int = 40,
    max_steps: int = 60,
    seed: int = 2026,
) -> tuple[list[Walk], frozenset[str]]:
    """Walks (without restarts) until every element is reached or ``max_walks`` were made."""
    rng = random.Random(seed)
    made: set[tuple[str, int]] = set()
    followed: set[tuple[tuple[str, int] | None, tuple[str, int]]] = set()
    covered: frozenset[str] = frozenset()
    walks: list[Walk] = []
    for _ in range(max_walks):
        driver = new_driver()
        walk = Walk(observations=[driver.observe()])
        previous: tuple[str, int] | None = None
        for _ in range(max_steps):
            if driver.finished():
                break
            choices = _expand(driver.options())
            rng.shuffle(choices)
            # Never made first, then never made right after the previous choice, then the rest.
            choices.sort(key=lambda c: (_kind(c) in made, (previous, _kind(c)) in followed))
            for choice in choices:
                if driver.take(choice):
                    made.add(_kind(choice))
                    followed.add((previous, _kind(choice)))
                    previous = _kind(choice)
                    walk.choices.append(choice)
                    walk.observations.append(driver.observe())
                    break
            else:
                break  # nothing can happen: the replay must end here too
        walk.reached = driver.reached()
        walks.append(walk)
        covered |= walk.reached
        if elements <= covered:
            break
    return walks, covered


def replay(new_driver: Callable[[], Driver], choices: list[Choice], *, restart: bool) -> Walk:
    """The same choices again, with a restart before every one of them when ``restart``."""
    driver = new_driver()
    walk = Walk(observations=[driver.observe()])
    for choice in choices:
        if restart:
            driver.restart()
        assert driver.take(choice), f"after a restart, '{choice}' was refused (it was done without one)"
        walk.choices.append(choice)
        walk.observations.append(driver.observe())
    if restart:
        driver.restart()
        walk.observations[-1] = driver.observe()
    walk.reached = driver.reached()
    return walk


def first_difference(expected: Walk, actual: Walk) -> str | None:
    """Where two walks of the same choices part (None when they never do)."""
    for step, (seen, again) in enumerate(zip(expected.observations, actual.observations, strict=True)):
        if seen != again:
            after = "the start" if step == 0 else f"step {step} ({expected.choices[step - 1]})"
            return f"after {after}:\n  without restarts: {seen}\n  with restarts:    {again}"
    if expected.reached != actual.reached:
        return f"reached {sorted(expected.reached)} without restarts, {sorted(actual.reached)} with"
    return None


def covering(walks: list[Walk]) -> list[Walk]:
    """Few of ``walks`` that together reach every element any of them reaches (greedy: the walk
    reaching most elements not yet reached first; ties go to the earlier walk), in walk order."""
    wanted = frozenset().union(*(walk.reached for walk in walks))
    chosen: list[int] = []
    covered: frozenset[str] = frozenset()
    while covered != wanted:
        best = max(range(len(walks)), key=lambda i: (len(walks[i].reached - covered), -i))
        chosen.append(best)
        covered |= walks[best].reached
    return [walks[i] for i in sorted(chosen)]
