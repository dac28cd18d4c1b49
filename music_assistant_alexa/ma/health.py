"""
One instance's health as the user sees it: what blocks the session, an outage, and ``last_error``.

:class:`ProviderHealth` holds the state the settings show (and a button's outcome) and the
diagnostics report; each change moves :attr:`~ProviderHealth.version`, which is what the cached
health section is keyed on. When the session needs the user it also sets the instance's
``last_error`` in MA, a moment later: MA's loader clears ``last_error`` when a load completes,
so a notice set sooner would be wiped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import music_assistant_models.config_entries as ma_config_entries
from music_assistant_models.enums import EventType
from music_assistant_models.errors import LoginFailed

from .notices import Notice, browser_offer
from .values import PROVIDERS_PATH

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.auth.errors import AlexaAuthError
    from music_assistant_alexa.guide import GuideLinker

_LOGGER = logging.getLogger(__name__)

#: Seconds between the event that needs the user and the ``last_error`` it sets.
NOTICE_DELAY: Final = 2.0
#: MA's structured error (models 1.1.133 and later); None on 2.9, which keeps a string.
_PROVIDER_ERROR: Final[Any] = getattr(ma_config_entries, "ProviderError", None)


class ProviderHealth:
    """What blocks one instance's session, whether Amazon is reachable, and what MA shows."""

    def __init__(  # noqa: PLR0913 - the instance, and its settings keyword-only
        self,
        mass: MusicAssistant,
        instance_id: str,
        *,
        is_current: Callable[[], bool],
        notify: Callable[[], bool],
        link: GuideLinker,
        browser_way: str | None = None,
    ) -> None:
        """
        Start healthy.

        :param mass: The MusicAssistant instance.
        :param instance_id: The provider instance id.
        :param is_current: Whether the provider is still the loaded one (not unloaded or
            replaced): only then may it set ``last_error``.
        :param notify: Whether the user wants ``last_error`` set (the instance's option).
        :param link: Renders guide links (MA's web server's guide).
        :param browser_way: Where to click for a sign-in in the browser, in the words of
            ``last_error`` and the settings (see :mod:`.notices`); offered where it helps.
        """
        self._mass = mass
        self._instance_id = instance_id
        self._is_current = is_current
        self._notify = notify
        self._link = link
        self._browser_way = browser_way
        #: The error only the user can fix (shown in the settings and as ``last_error``).
        self.blocked_by: AlexaAuthError | None = None
        #: Amazon could not be reached while the session was being brought up.
        self.offline: AlexaAuthError | None = None
        #: ``last_error`` is set in MA by this instance.
        self.last_error_set = False
        #: The outcome of the button just pressed on the options page (2.10+), shown once.
        self.notices: list[Notice] = []
        #: Moves with every change (the health section is cached on it).
        self.version = 0
        self._timers: list[asyncio.TimerHandle] = []

    def changed(self) -> None:
        """Note that something the health section shows moved (an auth event, a button)."""
        self.version += 1

    def went_offline(self, err: AlexaAuthError) -> None:
        """Note that Amazon could not be reached (the session is retried in the background)."""
        self.offline = err
        self.changed()

    def blocked(self, err: AlexaAuthError) -> None:
        """Note an error only the user can fix, and set ``last_error`` if they want that."""
        self.offline = None
        self.blocked_by = err
        self.changed()
        text = self._notice(err, self._browser_way).text
        _LOGGER.warning("The Amazon session needs you: %s", text)
        if self._notify():
            self._defer_last_error(text)

    def healthy(self) -> None:
        """Clear every problem (and ``last_error``): the session works again."""
        self.offline = None
        self.changed()
        if self.blocked_by is not None or self.last_error_set:
            self.blocked_by = None
            self._defer_last_error(None)

    def reset(self) -> None:
        """Forget what blocked the session: it was deleted, a sign-in comes next."""
        self.blocked_by = None
        self.changed()

    def problem(self, browser_way: str | None = None) -> Notice | None:
        """
        Return the notice at the top of the health section, if anything is wrong.

        :param browser_way: Where to click for a sign-in in the browser, in the words of the
            page it is shown on (default: the one given at the start).
        """
        if self.blocked_by is not None:
            return self._notice(self.blocked_by, browser_way or self._browser_way)
        if self.offline is not None:
            return Notice.problem(
                "Amazon could not be reached; the session is retried in the background "
                f"({self.offline.message}).",
                self._link(self.offline.guide_slug),
            )
        return None

    def _notice(self, err: AlexaAuthError, way: str | None) -> Notice:
        return Notice.from_error(err, self._link, then=browser_offer(err, way, self._link))

    def stop(self) -> None:
        """Cancel a ``last_error`` update that has not gone out yet."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def to_dict(self) -> dict[str, Any]:
        """Return the state for diagnostics (error codes only)."""
        return {
            "blocked_by": self.blocked_by.code if self.blocked_by else None,
            "offline": self.offline.code if self.offline else None,
            "last_error_set": self.last_error_set,
        }

    def _defer_last_error(self, message: str | None) -> None:
        handle = self._mass.call_later(
            NOTICE_DELAY,
            self._publish,
            message,
            task_id=f"alexa_auth_notice_{self._instance_id}",
        )
        self._timers = [t for t in self._timers if not t.cancelled()]
        self._timers.append(handle)

    def _publish(self, message: str | None) -> None:
        """
        Set (or clear) ``last_error`` and tell the frontend, unless things moved on meanwhile.

        2.10+ keeps a structured error (``update_provider_last_error``; a login error makes the
        status "auth_required"); 2.9 keeps a string at ``providers/<id>/last_error``.
        """
        mass, instance_id = self._mass, self._instance_id
        if not self._is_current():
            return  # unloaded or replaced in the meantime
        if message is not None and self.blocked_by is None:
            return  # healthy again before the notice went out
        update = getattr(mass.config, "update_provider_last_error", None)
        if update is not None and _PROVIDER_ERROR is not None:
            error = None
            if message is not None:
                error = _PROVIDER_ERROR(error_code=LoginFailed.error_code, message=message)
            update(instance_id, error)
        elif mass.config.get(f"{PROVIDERS_PATH}/{instance_id}"):
            # The check keeps a removed instance from coming back as a stub config entry.
            mass.config.set(f"{PROVIDERS_PATH}/{instance_id}/last_error", message)
        else:
            return
        self.last_error_set = message is not None
        mass.signal_event(EventType.PROVIDERS_UPDATED, data=mass.get_providers())
