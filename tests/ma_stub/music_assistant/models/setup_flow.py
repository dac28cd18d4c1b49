"""
The setup-flow session of newer Music Assistant (server ``models/setup_flow.py`` @401ef2bb).

Same signatures and the same step semantics as the real one: a form strips secret values from
the published step and bans action entries, a submit validates with ``parse_value`` (an empty
string passes a required STRING field: only None is missing) and wakes the flow coroutine;
``progress_until`` and ``form`` await under an optional deadline, stamped on the step as the
absolute ``expires_at``, and raise :class:`StepExpiredError` when it passes. Errors given as a
:class:`SetupFlowError` keep their translation key (which a client then sees translated, from
the owner's or the shared strings). The external (browser callback) steps are left out: the
Alexa flow does not use them.
"""

# The stand-in is type-checked from its own folder: relative imports keep its types.
# ruff: noqa: TID252

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from music_assistant_models.config_entries import UI_ONLY, ConfigEntry, ConfigValueType

# FlowStepType and the setup_flow models exist from models 1.1.169 on.
from music_assistant_models.enums import (  # type: ignore[attr-defined,unused-ignore]
    ConfigEntryType,
    EventType,
    FlowStepType,
)
from music_assistant_models.errors import ActionUnavailable
from music_assistant_models.setup_flow import (  # type: ignore[import-not-found,unused-ignore]
    SetupFlowStep,
    TranslationRef,
)

from ..constants import ENCRYPT_SUFFIX

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from ..mass import MusicAssistant

_T = TypeVar("_T")

FlowKind = Literal["setup", "reconfigure"]
FlowReason = Literal["user", "auth", "error"]


class SetupFlowError(Exception):
    """Error raised into the flow coroutine when session.finish() failed."""

    def __init__(
        self,
        message: str,
        translation_key: str | None = None,
        translation_args: list[Any] | None = None,
        translation_owner: str | None = None,
    ) -> None:
        """
        Initialize the error.

        :param message: Human readable description of the failure.
        :param translation_key: Optional translation slug of the underlying error.
        :param translation_args: Optional placeholder values of the translated message.
        :param translation_owner: Optional namespace owning the translated message.
        """
        super().__init__(message)
        self.translation_key = translation_key
        self.translation_args = translation_args or []
        self.translation_owner = translation_owner


class StepExpiredError(Exception):
    """Raised into the flow coroutine when the active step's deadline passed."""


class AbortFlow(Exception):  # noqa: N818 - MA's name
    """Raise anywhere inside a flow coroutine to cleanly abort the flow."""

    def __init__(self, reason: str = "aborted") -> None:
        """
        Initialize with the abort reason slug.

        :param reason: Why the flow was aborted.
        """
        super().__init__(reason)
        self.reason = reason


@dataclass(kw_only=True)
class SetupFlowContext:
    """Static context describing what a running setup flow is (re)configuring."""

    kind: FlowKind
    reason: FlowReason
    domain: str
    instance_id: str | None = None
    player_id: str | None = None
    setup_data: dict[str, Any] = field(default_factory=dict)
    values: dict[str, ConfigValueType] = field(default_factory=dict)


class SetupSession:
    """Coroutine-facing session handle for a running setup flow."""

    def __init__(
        self,
        mass: MusicAssistant,
        flow_id: str,
        context: SetupFlowContext,
        finish_handler: Callable[
            [SetupSession, dict[str, ConfigValueType]], Awaitable[dict[str, str]]
        ],
    ) -> None:
        """
        Initialize the session (done by the flow engine, never by flow authors).

        :param mass: The MusicAssistant instance.
        :param flow_id: Unique id of this flow.
        :param context: Static context describing the flow's target.
        :param finish_handler: Engine callback that persists the values and loads the target.
        """
        self.mass = mass
        self.flow_id = flow_id
        self.context = context
        self.current_step: SetupFlowStep | None = None
        self.finished = False
        self.last_activity = time.monotonic()
        self.finish_step_id = "finish"
        self._finish_handler = finish_handler
        self._translation_owner = f"provider.{context.domain}"
        self._input_future: asyncio.Future[dict[str, ConfigValueType]] | None = None
        self._step_changed = asyncio.Event()
        #: Every published step, for tests that look back.
        self.history: list[SetupFlowStep] = []

    async def form(  # noqa: PLR0917 - MA's signature
        self,
        entries: list[ConfigEntry],
        step_id: str = "user",
        errors: Mapping[str, str | SetupFlowError] | None = None,
        last_step: bool | None = None,  # noqa: FBT001 - MA's signature
        expires_in: float | None = None,
        translation_params: list[str] | None = None,
    ) -> dict[str, ConfigValueType]:
        """
        Show a form to the user and wait for the submitted (validated) values.

        :param entries: The config entries that make up the form fields.
        :param step_id: Stable slug identifying this step.
        :param errors: Optional field-key (or "base") -> error slug, message or setup error.
        :param last_step: Optional hint that this is the flow's final form.
        :param expires_in: Optional deadline in seconds.
        :param translation_params: Optional values for placeholders in the step translations.
        """
        step = self._build_step(
            FlowStepType.FORM,
            step_id,
            entries=self._prepare_entries(entries),
            errors={key: str(error) for key, error in (errors or {}).items()},
            last_step=last_step,
            translation_params=translation_params,
            expires_in=expires_in,
        )
        for key, error in (errors or {}).items():
            if isinstance(error, SetupFlowError) and error.translation_key:
                step.error_translations[key] = TranslationRef(
                    key=error.translation_key,
                    args=list(error.translation_args),
                    owner=error.translation_owner,
                )
        self._input_future = asyncio.get_running_loop().create_future()
        self._publish_step(step)
        try:
            return await self._await_with_deadline(self._input_future, expires_in)
        finally:
            self._input_future = None

    def progress(
        self,
        step_id: str,
        text: str | None = None,
        pct: float | None = None,
        image: str | None = None,
    ) -> None:
        """
        Publish a display-only progress step.

        :param step_id: Stable slug identifying this step.
        :param text: Optional progress text.
        :param pct: Optional completion fraction between 0 and 1.
        :param image: Optional data-URI illustration.
        """
        step = self._build_step(
            FlowStepType.PROGRESS, step_id, progress_text=text, progress=pct, image=image
        )
        self._publish_step(step)

    async def progress_until(
        self,
        awaitable: Awaitable[_T],
        step_id: str,
        text: str | None = None,
        image: str | None = None,
        expires_in: float | None = None,
    ) -> _T:
        """
        Publish a progress step and wait for the given awaitable, deadline-enforced.

        :param awaitable: The work to perform while the progress step shows.
        :param step_id: Stable slug identifying this step.
        :param text: Optional progress text.
        :param image: Optional data-URI illustration.
        :param expires_in: Optional deadline in seconds.
        """
        step = self._build_step(
            FlowStepType.PROGRESS, step_id, progress_text=text, image=image, expires_in=expires_in
        )
        self._publish_step(step)
        return await self._await_with_deadline(awaitable, expires_in)

    async def finish(self, values: dict[str, ConfigValueType]) -> dict[str, str]:
        """
        Complete the flow: persist the collected values and create/reload the target.

        :param values: The values to persist as the target's setup_data.
        """
        if self.finished:
            msg = "Setup flow already finished"
            raise RuntimeError(msg)
        result = await self._finish_handler(self, values)
        self.finished = True
        step = self._build_step(FlowStepType.FINISH, self.finish_step_id, result=result)
        self._publish_step(step)
        return result

    # --- engine-facing ---------------------------------------------------------------------

    def handle_submit(self, values: dict[str, ConfigValueType]) -> SetupFlowStep | None:
        """
        Validate submitted form values and hand them to the awaiting flow coroutine.

        :param values: The raw values as submitted by the client.
        """
        step = self.current_step
        if (
            step is None
            or step.type != FlowStepType.FORM
            or self._input_future is None
            or self._input_future.done()
        ):
            msg = "The setup flow is not awaiting form input"
            raise ActionUnavailable(msg)
        self.last_activity = time.monotonic()
        errors: dict[str, str] = {}
        parsed: dict[str, ConfigValueType] = {}
        submitted = [replace(e, value=values.get(e.key, e.value)) for e in step.entries]
        for entry in step.entries:
            if entry.type in UI_ONLY:
                continue
            raw_value = values.get(entry.key, entry.value)
            try:
                _refuse_encrypted(raw_value)
                parsed[entry.key] = entry.parse_value(
                    raw_value, allow_none=not _dependency_met(entry, submitted)
                )
            except (TypeError, ValueError):
                errors[entry.key] = "required" if raw_value in (None, "") else "invalid_value"
                if not isinstance(raw_value, list):
                    entry.value = raw_value
            if entry.type == ConfigEntryType.SECURE_STRING:
                entry.value = None
        step.error_translations.clear()
        if errors:
            step.errors = errors
            self._publish_step(step)
            return step
        step.errors = {}
        self._step_changed.clear()
        self._input_future.set_result(parsed)
        return None

    async def wait_for_step_change(self, timeout: float) -> None:  # noqa: ASYNC109 - MA's API
        """
        Wait (bounded) until the flow publishes a step.

        :param timeout: Maximum time in seconds to wait.
        """
        try:
            async with asyncio.timeout(timeout):
                await self._step_changed.wait()
        except TimeoutError:
            return

    def publish_abort(self, reason: str | SetupFlowError) -> None:
        """
        Publish the terminal ABORT step for this flow.

        :param reason: Why the flow was aborted: a slug, or a setup error (translated).
        """
        step = self._build_step(FlowStepType.ABORT, "abort", reason=str(reason) or "internal_error")
        if isinstance(reason, SetupFlowError) and reason.translation_key:
            step.reason_translation = TranslationRef(
                key=reason.translation_key,
                args=list(reason.translation_args),
                owner=reason.translation_owner,
            )
        self._publish_step(step)

    def close(self) -> None:
        """Release the session's engine resources."""

    async def _await_with_deadline(self, awaitable: Awaitable[_T], expires_in: float | None) -> _T:
        if expires_in is None:
            return await awaitable
        try:
            async with asyncio.timeout(expires_in):
                return await awaitable
        except TimeoutError as err:
            raise StepExpiredError from err

    def _build_step(
        self,
        step_type: FlowStepType,
        step_id: str,
        *,
        entries: list[ConfigEntry] | None = None,
        errors: dict[str, str] | None = None,
        last_step: bool | None = None,
        progress_text: str | None = None,
        progress: float | None = None,
        image: str | None = None,
        result: dict[str, str] | None = None,
        reason: str | None = None,
        translation_params: list[str] | None = None,
        expires_in: float | None = None,
    ) -> SetupFlowStep:
        return SetupFlowStep(
            flow_id=self.flow_id,
            step_id=step_id,
            type=step_type,
            entries=entries or [],
            errors=errors or {},
            last_step=last_step,
            progress_text=progress_text,
            progress=progress,
            image=image,
            # the absolute deadline, so a client that fetches the step again counts down right
            expires_at=time.time() + expires_in if expires_in is not None else None,
            result=result,
            reason=reason,
            translation_owner=self._translation_owner,
            translation_params=translation_params,
        )

    def _prepare_entries(self, entries: list[ConfigEntry]) -> list[ConfigEntry]:
        prepared: list[ConfigEntry] = []
        for entry in entries:
            if entry.action or entry.type == ConfigEntryType.ACTION:
                msg = f"Config entry {entry.key} is an action entry, not allowed in setup flows"
                raise ValueError(msg)
            owner = getattr(entry, "translation_owner", None) or self._translation_owner
            copied = replace(entry, translation_owner=owner)  # type: ignore[call-arg,unused-ignore]
            if copied.type == ConfigEntryType.SECURE_STRING:
                copied.value = None
            prepared.append(copied)
        return prepared

    def _publish_step(self, step: SetupFlowStep) -> None:
        self.current_step = step
        self.history.append(step)
        self.last_activity = time.monotonic()
        self._step_changed.set()
        event = EventType.SETUP_FLOW_UPDATED  # type: ignore[attr-defined,unused-ignore]
        self.mass.signal_event(event, object_id=self.flow_id, data=step)


def _refuse_encrypted(value: Any) -> None:
    """Refuse a submitted encrypted value: only the server ever makes one."""
    if isinstance(value, str) and value.startswith(ENCRYPT_SUFFIX):
        msg = "Encrypted values can not be submitted"
        raise ValueError(msg)


def _dependency_met(entry: ConfigEntry, entries: list[ConfigEntry]) -> bool:
    """Return whether an entry's ``depends_on`` is met (``ConfigEntry.dependency_met``)."""
    method = getattr(entry, "dependency_met", None)
    if method is not None:
        return bool(method(entries))
    return True


__all__ = [
    "AbortFlow",
    "FlowKind",
    "FlowReason",
    "SetupFlowContext",
    "SetupFlowError",
    "SetupSession",
    "StepExpiredError",
]
