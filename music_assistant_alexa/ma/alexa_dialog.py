"""
Whether someone is signing in through the alexa provider's own dialog right now, told by MA.

Music Assistant announces both generations of that dialog on its event bus, which any provider
may listen to:

- **2.9**: the settings form's "Authenticate with Amazon" button sends the user to alexapy's
  login proxy at ``/alexa/auth/proxy/`` with an ``auth_session`` event (MA's
  ``AuthenticationHelper``); the helper waits 60 s for the browser, then the provider checks the
  login and writes its file. :data:`DIALOG_SIGN_IN_WINDOW` covers that with room to spare.
- **2.10+**: the alexa provider's setup (or reconfigure) flow publishes every step as a
  ``setup_flow_updated`` event, stamped with the owner ``provider.alexa``; the flow is over at
  its ``finish`` or ``abort`` step, and MA drops a flow nobody touches after
  :data:`FLOW_IDLE_LIMIT`.

A reload of the alexa instance waits while such a sign-in runs: the user is busy with it, and
its end (Save, or the flow's finish) brings the instance up with their own new file anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from music_assistant_models.enums import EventType

if TYPE_CHECKING:
    from collections.abc import Callable

    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.auth.clock import Clock

#: Seconds a 2.9 dialog sign-in is taken to run after it started (MA waits 60 s for it).
DIALOG_SIGN_IN_WINDOW: Final = 300.0
#: Seconds after its last step a 2.10+ flow is taken to be abandoned (MA's idle limit).
FLOW_IDLE_LIMIT: Final = 900.0
#: The path of alexapy's login proxy in the 2.9 alexa provider's dialog.
PROXY_PATH_29: Final = "/alexa/auth/proxy"
#: The owner MA stamps on the steps of the alexa provider's flows (2.10+).
FLOW_OWNER: Final = "provider.alexa"
#: Step types that end a flow.
_FLOW_ENDS: Final = frozenset({"finish", "abort"})
#: MA's event types of both generations (2.9's models have no setup-flow event).
_AUTH_SESSION: Final = EventType.AUTH_SESSION
_FLOW_UPDATED: Final[Any] = getattr(EventType, "SETUP_FLOW_UPDATED", None)


class AlexaDialogWatch:
    """Notes when the alexa provider's own sign-in starts and ends, from MA's events."""

    def __init__(self, clock: Clock) -> None:
        """
        Create the watch; it hears nothing until :meth:`listen`.

        :param clock: The clock the times are read from.
        """
        self._clock = clock
        #: When the last 2.9 dialog sign-in started.
        self._dialog_started: float | None = None
        #: Running 2.10+ flows of the alexa provider, with the time of their last step.
        self._flows: dict[str, float] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def listen(self, mass: MusicAssistant) -> None:
        """
        Start listening to MA's events.

        :param mass: The MusicAssistant instance.
        """
        if self._unsubscribe is None:
            events = tuple(e for e in (_AUTH_SESSION, _FLOW_UPDATED) if e is not None)
            self._unsubscribe = mass.subscribe(self.on_event, events)

    def close(self) -> None:
        """Stop listening."""
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    def on_event(self, event: Any) -> None:
        """
        Note an ``auth_session`` or ``setup_flow_updated`` event of the alexa provider.

        :param event: MA's event (``event``, ``object_id``, ``data``).
        """
        kind = getattr(event, "event", None)
        data = getattr(event, "data", None)
        now = self._clock.time()
        if kind == _AUTH_SESSION and isinstance(data, str) and PROXY_PATH_29 in data:
            self._dialog_started = now
        elif kind == _FLOW_UPDATED and getattr(data, "translation_owner", None) == FLOW_OWNER:
            flow_id = str(getattr(event, "object_id", None) or getattr(data, "flow_id", ""))
            step_type = getattr(data, "type", None)
            if str(getattr(step_type, "value", step_type)) in _FLOW_ENDS:
                self._flows.pop(flow_id, None)
            else:
                self._flows[flow_id] = now

    def signing_in(self) -> bool:
        """Return whether someone is signing in through the alexa provider's dialog now."""
        now = self._clock.time()
        if self._dialog_started is not None and now - self._dialog_started < DIALOG_SIGN_IN_WINDOW:
            return True
        self._flows = {k: at for k, at in self._flows.items() if now - at < FLOW_IDLE_LIMIT}
        return bool(self._flows)
