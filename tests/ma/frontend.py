"""
What Music Assistant's setup dialog (frontend 2.17.350) does with a step, for the tests.

Read from the built frontend (``SetupFlowDialog``, ``allRequiredValuesPresent``): the submit
button is enabled when every required field that is not presentational holds a value or a
default that is not null (an empty string counts as filled in), or waits behind a
``depends_on`` that is not met (the field is then disabled); showing the same step of the same
flow again keeps the client's value of every entry whose key did not change (pictures
included); the button says "Finish" only for ``last_step`` true.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    # newer models only
    from music_assistant_models.setup_flow import SetupFlowStep  # type: ignore[import-not-found,unused-ignore]

#: Entry types the dialog only shows (never required, never submitted).
PRESENTATIONAL: Final = frozenset({"divider", "label", "alert", "image", "action"})


def initial_values(step: SetupFlowStep) -> dict[str, Any]:
    """
    Return the values the dialog holds for a freshly built form.

    :param step: The form step.
    """
    return {
        entry.key: entry.value if entry.value is not None else entry.default_value
        for entry in step.entries
    }


def values_after(
    previous: SetupFlowStep, held: dict[str, Any], step: SetupFlowStep
) -> dict[str, Any]:
    """
    Return the values the dialog holds when ``step`` replaces ``previous`` on screen.

    :param previous: The step shown before.
    :param held: The values the dialog held for it (typed in, or as built).
    :param step: The new step.
    """
    fresh = initial_values(step)
    if (previous.flow_id, previous.step_id) != (step.flow_id, step.step_id):
        return fresh
    return {key: held.get(key, value) if key in held else value for key, value in fresh.items()}


def dependency_unmet(entry: Any, step: SetupFlowStep, held: dict[str, Any]) -> bool:
    """
    Return whether an entry waits behind an unmet ``depends_on`` (disabled, or hidden).

    :param entry: The entry.
    :param step: The form step it is on.
    :param held: The values the dialog holds.
    """
    if entry.depends_on is None:
        return False
    if entry.depends_on not in {e.key for e in step.entries}:
        return True
    value = held.get(entry.depends_on)
    if entry.depends_on_value is not None:
        return bool(value != entry.depends_on_value)
    if entry.depends_on_value_not is not None:
        return bool(value == entry.depends_on_value_not)
    return not value


def can_submit(step: SetupFlowStep, held: dict[str, Any]) -> bool:
    """
    Return whether the submit button is enabled.

    :param step: The form step.
    :param held: The values the dialog holds.
    """
    return all(
        not entry.required
        or str(entry.type) in PRESENTATIONAL
        or dependency_unmet(entry, step, held)
        or held.get(entry.key) is not None
        or entry.default_value is not None
        for entry in step.entries
    )


def submit_label(step: SetupFlowStep) -> str:
    """
    Return the text of the submit button.

    :param step: The form step.
    """
    return "Finish" if step.last_step is True else "Next"
