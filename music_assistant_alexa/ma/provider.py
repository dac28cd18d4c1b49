"""
The provider instance: one Amazon account's session inside Music Assistant.

A thin adapter around :class:`~music_assistant_alexa.auth.session.AuthSessionManager`. Loading
restores the stored session (no password) or signs in with the stored credentials; an error
only the user can fix fails the load with ``LoginFailed`` (MA then shows "requires attention" /
"auth_required" and offers Reconfigure), while a network outage keeps the provider loaded and
retries in the background. Once loaded, a :class:`~music_assistant_alexa.auth.refresh.
RefreshScheduler` keeps the cookies fresh; when it stops because the user must act, the
provider sets its ``last_error`` (after loading completed, or the loader would clear it) and
clears it when the session is healthy again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from music_assistant.models.plugin import PluginProvider

from music_assistant_alexa.auth.endpoints import normalise_marketplace
from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    CaptchaRequiredError,
    ErrorCategory,
    LoginBackoffError,
    MissingCredentialsError,
)
from music_assistant_alexa.auth.refresh import (
    DEFAULT_INTERVAL_DAYS,
    RefreshScheduler,
    retry_delay,
    validate_interval,
)
from music_assistant_alexa.auth.store import REGISTRATION_FILE
from music_assistant_alexa.diagnostics import CheckStatus, run_checks
from music_assistant_alexa.diagnostics.report import build_report
from music_assistant_alexa.guide import GuideSlug, guide_link

from . import config_entries, helpers
from .config_entries import (
    SIGN_IN_LABEL,
    Credentials,
    Notice,
    action_entries,
    info_entry,
    key_entries,
    option_entries,
    parse_credentials,
    session_action,
    warning_entry,
)
from .constants import (
    ACTION_CHECK_KEY,
    ACTION_REFRESH,
    ACTION_RESET,
    ACTION_SIGN_IN,
    ACTION_TEST,
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_NOTIFY,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_REFRESH_ENABLED,
    CONF_REFRESH_INTERVAL,
    CONF_TOTP_KEY,
    SUPPORTED_FEATURES,
)

if TYPE_CHECKING:
    from pathlib import Path

    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry, ProviderConfig
    from music_assistant_models.enums import ProviderFeature
    from music_assistant_models.provider import ProviderManifest

    from music_assistant_alexa.auth.models import AuthEvent
    from music_assistant_alexa.auth.session import AuthSessionManager, SessionStatus
    from music_assistant_alexa.diagnostics import HealthCheck

_LOGGER = logging.getLogger(__name__)

#: Seconds between the event that needs the user and the ``last_error`` it sets. MA's loader
#: clears ``last_error`` when a load completes; a notice set sooner would be wiped.
NOTICE_DELAY: Final = 2.0
#: After a needs-user failure, MA's automatic load retries (every 120 s) reuse the error for
#: this long instead of sending the same credentials to Amazon again.
FAILED_LOGIN_QUIET: Final = 3600.0
#: Errors that the same credentials will always get again: never retried automatically.
_PERMANENT_CODES: Final = frozenset({"invalid_password", "account_not_found"})


@dataclass(frozen=True, slots=True)
class _FailedLogin:
    fingerprint: str
    error: AlexaAuthError
    at: float
    permanent: bool


#: The last needs-user sign-in failure of each instance, for MA's automatic retries.
_FAILED_LOGINS: dict[str, _FailedLogin] = {}


async def setup(
    mass: MusicAssistant, manifest: ProviderManifest, config: ProviderConfig
) -> AlexaAuthProvider:
    """
    Create the provider instance (MA calls ``handle_async_init`` next).

    :param mass: The MusicAssistant instance.
    :param manifest: The provider's manifest.
    :param config: The instance's config.
    """
    return AlexaAuthProvider(mass, manifest, config, SUPPORTED_FEATURES)


class AlexaAuthProvider(PluginProvider):  # type: ignore[misc]  # MA's base is untyped outside MA
    """One Amazon account, signed in and kept signed in."""

    def __init__(
        self,
        mass: MusicAssistant,
        manifest: ProviderManifest,
        config: ProviderConfig,
        supported_features: set[ProviderFeature] | None = None,
    ) -> None:
        """
        Create the instance; nothing is read or sent before ``handle_async_init``.

        :param mass: The MusicAssistant instance.
        :param manifest: The provider's manifest.
        :param config: The instance's config.
        :param supported_features: The provider's features (none).
        """
        super().__init__(mass, manifest, config, supported_features)
        self.manager: AuthSessionManager | None = None
        self.scheduler: RefreshScheduler | None = None
        #: The error that needs the user (shown in the settings and as ``last_error``).
        self.needs_user: AlexaAuthError | None = None
        #: Temporary trouble (Amazon unreachable) while the session is being brought up.
        self.offline: AlexaAuthError | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._sweep: asyncio.Task[None] | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._loaded = False
        self._published = False
        self._events = 0
        self._health_cache: tuple[tuple[Any, ...], list[ConfigEntry]] | None = None
        self._notices: list[Notice] = []

    # --- lifecycle -------------------------------------------------------------------------

    async def handle_async_init(self) -> None:
        """Restore the stored session, or sign in with the stored credentials."""
        try:
            marketplace = normalise_marketplace(self._stored_str(CONF_MARKETPLACE) or None)
        except ValueError as err:
            raise helpers.ma_error(MissingCredentialsError(str(err))) from err
        store_dir = helpers.instance_dir(self.mass, self.instance_id)
        existed = store_dir.exists()
        await self._adopt_pending(store_dir)
        self.manager = helpers.create_manager(
            self.mass, store_dir, marketplace, on_event=self._on_auth_event
        )
        try:
            await self._bring_up()
        except AlexaAuthError as err:
            if err.category is ErrorCategory.TEMPORARY:
                # Amazon (or the network) is down: stay loaded and retry in the background,
                # instead of failing the load and leaving the user with nothing to fix.
                self.offline = err
                self.logger.warning(
                    "Amazon could not be reached while loading (%s); retrying in the background",
                    err.code,
                )
                return
            await self._close_manager()
            if not existed and not (store_dir / REGISTRATION_FILE).exists():
                # A first load that signed nothing in leaves no folder behind (it would only
                # hold the failed attempt's record, for an instance MA is about to drop).
                await helpers.run_blocking(helpers.discard_pending, store_dir)
            raise helpers.ma_error(err) from err
        except BaseException:
            await self._close_manager()
            raise

    async def loaded_in_mass(self) -> None:
        """Start the background work once MA has registered the instance."""
        self._loaded = True
        # Sessions signed in from dialogs that were never saved are removed (and their device
        # taken off the account) an hour later; a start-up is a good moment to look.
        self._sweep = self.mass.create_task(
            config_entries.sweep(self.mass, helpers.SETTINGS.clock.time())
        )
        if self.offline is not None:
            self._start_recovery()
        else:
            self._start_refresh()

    async def unload(self, is_removed: bool = False) -> None:  # noqa: FBT001, FBT002 - MA's API
        """
        Stop every task; when the instance was removed, sign out at Amazon and delete the store.

        :param is_removed: The instance was removed from MA's configuration.
        """
        # Compared with ``is True``: a Feb-2026 MA build passes an error message here from
        # ``unload_with_error``, which must never delete the user's session.
        removed = is_removed is True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        await self._stop_recovery()
        await _cancel(self._sweep)
        if self.scheduler is not None:
            await self.scheduler.stop()
        manager = self.manager
        if manager is not None and removed:
            try:
                result = await manager.reset(deregister=True)
            except AlexaAuthError as err:
                self.logger.warning("Could not remove the Amazon session: %s", err.code)
            else:
                self.logger.info(
                    "Signed out of Amazon (device removed: %s); the session was deleted",
                    "yes" if result.deregistered else "no",
                )
        await self._close_manager()
        if removed:
            _FAILED_LOGINS.pop(self.instance_id, None)
        self._loaded = False

    # --- bringing the session up -------------------------------------------------------------

    async def _adopt_pending(self, store_dir: Path) -> None:
        """Take over a session signed in from the settings form or the setup flow."""
        pending_id = self._stored_str(CONF_PENDING_SESSION)
        if not pending_id:
            return
        pending = helpers.pending_dir(self.mass, pending_id)
        adopted = await helpers.run_blocking(
            helpers.adopt_pending, pending, store_dir, now=helpers.SETTINGS.clock.time()
        )
        if adopted:
            self.logger.info("Using the Amazon session signed in from the settings")

    async def _bring_up(self) -> None:
        """Restore the stored session; sign in when there is none or Amazon rejects it."""
        manager = self._require_manager()
        try:
            if await manager.restore(validate=True):
                return
        except AlexaAuthError as err:
            if err.category is ErrorCategory.TEMPORARY:
                raise
            self.logger.info("The stored Amazon session was rejected (%s); signing in", err.code)
        await self._sign_in(automatic=True)

    def _credentials(self) -> Credentials:
        """Return the stored credentials, checked; raise the error the user must fix."""
        return parse_credentials(
            self._stored_str(CONF_EMAIL).strip(),
            helpers.stored_secret(self.mass, self.instance_id, CONF_PASSWORD),
            helpers.stored_secret(self.mass, self.instance_id, CONF_TOTP_KEY),
            self._stored_str(CONF_MARKETPLACE) or None,
        )

    async def _sign_in(self, *, automatic: bool) -> None:
        """
        Sign in with the stored credentials.

        :param automatic: MA's load (or its retry) asked, not the user: the same credentials
            that Amazon just refused are not sent again.
        """
        manager = self._require_manager()
        creds = self._credentials()
        now = manager.clock.time()
        failed = _FAILED_LOGINS.get(self.instance_id)
        if (
            automatic
            and failed is not None
            and failed.fingerprint == creds.fingerprint
            and (failed.permanent or now - failed.at < FAILED_LOGIN_QUIET)
        ):
            self.logger.info(
                "Not sending the credentials Amazon refused again (%s)", failed.error.code
            )
            raise failed.error
        try:
            await manager.login(creds.email, creds.password, creds.key)
        except AlexaAuthError as err:
            if err.needs_user and not isinstance(err, LoginBackoffError):
                _FAILED_LOGINS[self.instance_id] = _FailedLogin(
                    creds.fingerprint, err, now, err.code in _PERMANENT_CODES
                )
            raise
        _FAILED_LOGINS.pop(self.instance_id, None)

    # --- background work ---------------------------------------------------------------------

    def _start_refresh(self) -> None:
        manager = self.manager
        if manager is None or not manager.signed_in or not self._loaded:
            return
        if not self._option_bool(CONF_REFRESH_ENABLED, default=True):
            return
        if self.scheduler is None:
            self.scheduler = RefreshScheduler(
                manager,
                interval_days=self._interval_days(),
                clock=helpers.SETTINGS.background_clock,
                jitter=helpers.SETTINGS.refresh_jitter,
                on_needs_user=self._on_needs_user,
                on_recovered=self._on_recovered,
            )
        self.scheduler.start()

    def _start_recovery(self) -> None:
        if self._recovery is None or self._recovery.done():
            self._recovery = self.mass.create_task(self._recover())

    async def _stop_recovery(self) -> None:
        task, self._recovery = self._recovery, None
        await _cancel(task)

    async def _recover(self) -> None:
        """Retry bringing the session up after the load found Amazon unreachable."""
        manager = self._require_manager()
        clock = helpers.SETTINGS.background_clock or manager.clock
        attempt = 0
        while True:
            attempt += 1
            await clock.sleep(retry_delay(attempt))
            try:
                await self._bring_up()
            except AlexaAuthError as err:
                if err.category is ErrorCategory.TEMPORARY:
                    self.offline = err
                    self._events += 1
                    continue
                self.offline = None
                self._on_needs_user(err)
                return
            self.logger.info("Amazon is reachable again; the session is up")
            self._healthy()
            return

    def _healthy(self) -> None:
        """Clear every notice and (re)start the refresh: the session works again."""
        self.offline = None
        self._events += 1
        if self.needs_user is not None or self._published:
            self.needs_user = None
            self._defer_notice(None)
        if self.scheduler is not None and not self.scheduler.running:
            self.scheduler.start()
        else:
            self._start_refresh()

    # --- notices ---------------------------------------------------------------------------

    def _on_auth_event(self, _event: AuthEvent) -> None:
        self._events += 1

    def _on_needs_user(self, err: AlexaAuthError) -> None:
        self.needs_user = err
        self._events += 1
        self.logger.warning("The Amazon session needs you: %s", helpers.user_message(err))
        if self._option_bool(CONF_NOTIFY, default=True):
            self._defer_notice(helpers.user_message(err))

    def _on_recovered(self) -> None:
        self._healthy()

    def _defer_notice(self, message: str | None) -> None:
        """Set or clear ``last_error`` a moment from now (after any load has completed)."""
        handle = self.mass.call_later(
            NOTICE_DELAY,
            self._publish_notice,
            message,
            task_id=f"alexa_auth_notice_{self.instance_id}",
        )
        self._timers = [t for t in self._timers if not t.cancelled()]
        self._timers.append(handle)

    def _publish_notice(self, message: str | None) -> None:
        if self.mass.get_provider(self.instance_id) is not self:
            return  # unloaded or replaced in the meantime
        if message is not None and self.needs_user is None:
            return  # healthy again before the notice went out
        helpers.publish_last_error(self.mass, self.instance_id, message)
        self._published = message is not None

    # --- the settings ------------------------------------------------------------------------

    async def health_entries(self) -> list[ConfigEntry]:
        """Return the health section of the settings (cheap: recomputed when something moved)."""
        manager = self.manager
        if manager is None:
            return [info_entry("alexa_status", "Connecting to Amazon...")]
        scheduler = self.scheduler
        now = manager.clock.time()
        cache_key = (
            self._events,
            int(now // 60),
            scheduler.running if scheduler else None,
            scheduler.next_due if scheduler else None,
            id(self.needs_user),
            id(self.offline),
        )
        if self._health_cache is None or self._health_cache[0] != cache_key:
            checks = await run_checks(manager, scheduler=scheduler, validate=False)
            entries = health_section(manager.status(), checks, self._problem())
            self._health_cache = (cache_key, entries)
        # Copies: MA fills in values of returned entries, which must not leak into the cache.
        return [dataclasses.replace(entry) for entry in self._health_cache[1]]

    def _problem(self) -> Notice | None:
        if self.needs_user is not None:
            return Notice.from_error(self.needs_user)
        if self.offline is not None:
            return Notice(
                "Amazon could not be reached; the session is retried in the background "
                f"({self.offline.message}). How to fix it: {self.offline.guide_url}",
                ok=False,
                guide_url=self.offline.guide_url,
            )
        return None

    async def get_config_entries(self) -> tuple[ConfigEntry, ...]:
        """Return the options page (newer MA): health, the live code, buttons, options."""
        clock = helpers.SETTINGS.clock
        entries = [notice.entry(f"alexa_notice_{i}") for i, notice in enumerate(self._notices)]
        entries.extend(await self.health_entries())
        stored_key = helpers.stored_secret(self.mass, self.instance_id, CONF_TOTP_KEY)
        entries.extend(key_entries(stored_key, clock.time()))
        entries.extend(action_entries(existing=True, captcha=False, from_form=False))
        entries.extend(option_entries())
        return tuple(entries)

    async def handle_config_action(self, action: str) -> tuple[ConfigEntry, ...]:
        """
        Run a button of the options page (newer MA) and return the page with its outcome.

        :param action: The button's action id.
        """
        self._notices = [await self.run_action(action)]
        try:
            return await self.get_config_entries()
        finally:
            self._notices = []

    async def run_action(self, action: str) -> Notice:
        """
        Run one of the session buttons on this instance's live session.

        :param action: The button's action id.
        """
        manager = self.manager
        if action == ACTION_CHECK_KEY:
            stored_key = helpers.stored_secret(self.mass, self.instance_id, CONF_TOTP_KEY)
            return (
                Notice("The stored 2FA key is checked below.")
                if stored_key
                else Notice(
                    "No 2FA key is stored.",
                    ok=False,
                    guide_url=guide_link(GuideSlug.TWO_FACTOR_KEY),
                )
            )
        if manager is None:
            return Notice("The session is still starting; try again in a moment.", ok=False)
        if action == ACTION_SIGN_IN:
            return await self._action_sign_in()
        if action not in (ACTION_TEST, ACTION_REFRESH, ACTION_RESET):
            return Notice(f"Unknown button {action!r}.", ok=False)
        if action == ACTION_RESET and self.scheduler is not None:
            await self.scheduler.stop()
        notice = await session_action(manager, action)
        self._events += 1
        if action == ACTION_REFRESH and notice.ok:
            self._healthy()
        elif notice.error is not None and notice.error.needs_user and action != ACTION_RESET:
            # A refusal the user saw by pressing a button is the same news the refresh task
            # would bring later: mark the provider now, not at the next scheduled refresh.
            self._on_needs_user(notice.error)
        elif action == ACTION_RESET:
            self.needs_user = None
            self.scheduler = None
        return notice

    async def _action_sign_in(self) -> Notice:
        """Sign in again with the stored credentials (the options page's button)."""
        await self._stop_recovery()
        try:
            await self._sign_in(automatic=False)
        except CaptchaRequiredError as err:
            return Notice(
                "Amazon wants a picture puzzle solved: use Reconfigure, which shows it. "
                f"How to fix it: {err.guide_url}",
                ok=False,
                guide_url=err.guide_url,
            )
        except AlexaAuthError as err:
            return Notice.from_error(err)
        self._healthy()
        status = self._require_manager().status()
        who = f" as {status.account_label}" if status.account_label else ""
        return Notice(f"Signed in to {status.marketplace}{who}.")

    async def get_diagnostics(self) -> dict[str, Any]:
        """Return the redacted diagnostics report (no secret, no e-mail address)."""
        manager = self.manager
        if manager is None:
            return {"state": "not started"}
        key = helpers.stored_secret(self.mass, self.instance_id, CONF_TOTP_KEY)
        checks = await run_checks(manager, scheduler=self.scheduler, totp_key=key, validate=False)
        extra = {
            "ma_structured_errors": hasattr(self.mass.config, "update_provider_last_error"),
            "notify_on_failure": self._option_bool(CONF_NOTIFY, default=True),
            "refresh_enabled": self._option_bool(CONF_REFRESH_ENABLED, default=True),
            "offline_code": self.offline.code if self.offline else None,
            "needs_user_code": self.needs_user.code if self.needs_user else None,
            "recovery_running": self._recovery is not None and not self._recovery.done(),
            "last_error_set": self._published,
        }
        return await build_report(manager, checks, scheduler=self.scheduler, extra=extra)

    # --- small helpers -----------------------------------------------------------------------

    def _require_manager(self) -> AuthSessionManager:
        if self.manager is None:
            msg = "The session manager is not running"
            raise RuntimeError(msg)
        return self.manager

    async def _close_manager(self) -> None:
        manager, self.manager = self.manager, None
        if manager is not None:
            await manager.close()

    def _stored_str(self, key: str) -> str:
        value = helpers.stored_value(self.mass, self.instance_id, key)
        return value if isinstance(value, str) else ""

    def _option_bool(self, key: str, *, default: bool) -> bool:
        value = self._option(key)
        return default if value is None else bool(value)

    def _option(self, key: str) -> Any:
        try:
            return self.config.get_value(key)
        except (KeyError, AttributeError):
            return None

    def _interval_days(self) -> float:
        value = self._option(CONF_REFRESH_INTERVAL)
        try:
            return validate_interval(float(value))
        except (TypeError, ValueError):
            if value is not None:
                self.logger.warning(
                    "Ignoring the refresh interval %r; using %g days", value, DEFAULT_INTERVAL_DAYS
                )
            return DEFAULT_INTERVAL_DAYS


async def _cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a task and wait until it has ended (not the one running this)."""
    if task is None or task.done() or task is asyncio.current_task():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def health_section(
    status: SessionStatus, checks: list[HealthCheck], problem: Notice | None
) -> list[ConfigEntry]:
    """
    Return the health section: who is signed in where, cookie age, refreshes, and warnings.

    :param status: The manager's snapshot.
    :param checks: The health checks (no request to Amazon).
    :param problem: The error that needs the user, or the outage, if any.
    """
    entries: list[ConfigEntry] = []
    if problem is not None:
        entries.append(problem.entry("alexa_problem"))
    by_key = {check.key: check for check in checks}
    summary: list[str] = []
    if status.signed_in:
        who = f" as {status.account_label}" if status.account_label else ""
        device = f' (device "{status.device_name}")' if status.device_name else ""
        summary.append(f"Signed in{who} on {status.marketplace}{device}.")
    else:
        summary.append(f'Not signed in to Amazon ({status.marketplace}): press "{SIGN_IN_LABEL}".')
    for key in ("cookie_age", "last_refresh"):
        check = by_key.get(key)
        if check is not None and check.status is CheckStatus.OK:
            summary.append(check.message)
    entries.append(info_entry("alexa_status", " ".join(summary)))
    for index, check in enumerate(checks):
        if check.status is CheckStatus.OK or (check.key == "signed_in" and not status.signed_in):
            continue
        link = f" How to fix it: {check.guide_url}" if check.guide_url else ""
        entries.append(
            warning_entry(f"alexa_check_{index}", check.message + link, help_link=check.guide_url)
        )
    return entries
