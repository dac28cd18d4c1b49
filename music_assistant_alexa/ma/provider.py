"""
The provider instance: one Amazon account's session inside Music Assistant, and its buttons.

A thin adapter around :class:`~music_assistant_alexa.auth.session.AuthSessionManager`. Loading
takes over a session the form or flow just signed in (without asking Amazon again), restores the
stored one (no password), or signs in with the stored credentials; an error only the user can
fix fails the load with ``LoginFailed`` (MA then shows "requires attention" / "auth_required"
and offers Reconfigure), while a network outage keeps the provider loaded and retries in the
background. An account that signs in in the user's browser has no password and 2FA key
stored: a session it cannot restore is never followed by an automatic sign-in, but needs the
user, with the way to the browser sign-in in the message. Once loaded, a
:class:`~music_assistant_alexa.auth.refresh.RefreshScheduler` keeps the cookies fresh; what goes
wrong later is kept in :class:`~.health.ProviderHealth`; and an :class:`~.alexa_feed.AlexaFeed`
hands the session to MA's own alexa provider (its Echo players).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import TYPE_CHECKING, Any, Final

import music_assistant_models.config_entries as ma_config_entries
from music_assistant.models.plugin import PluginProvider

from music_assistant_alexa.auth.endpoints import normalise_marketplace
from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    CaptchaRequiredError,
    ErrorCategory,
    MissingCredentialsError,
    NotSignedInError,
)
from music_assistant_alexa.auth.refresh import (
    DEFAULT_INTERVAL_DAYS,
    RefreshScheduler,
    retry_delay,
    validate_interval,
)
from music_assistant_alexa.auth.store import REGISTRATION_FILE, SessionStore
from music_assistant_alexa.auth.usernames import mask_username
from music_assistant_alexa.diagnostics import run_checks
from music_assistant_alexa.diagnostics.report import build_report
from music_assistant_alexa.guide import GuideSlug

from .alexa_feed import SESSION_EVENTS, AlexaFeed
from .constants import (
    ACTION_CHECK_KEY,
    ACTION_REFRESH,
    ACTION_RESET,
    ACTION_SHOW_CODE,
    ACTION_SIGN_IN,
    ACTION_TEST,
    BROWSER_CHOICE_LABEL,
    BROWSER_LABEL,
    CONF_ALEXA_PLAYERS,
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_NOTIFY,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_REFRESH_ENABLED,
    CONF_REFRESH_INTERVAL,
    CONF_SIGN_IN_METHOD,
    CONF_TOTP_KEY,
    ENTRY_STATUS,
    METHOD_BROWSER,
    METHOD_FIELD_LABEL,
    METHOD_PASSWORD,
    REFRESH_LABEL,
    SIGN_IN_LABEL,
)
from .context import AdapterContext
from .credentials import parse_credentials
from .entries import (
    action_entries,
    health_section,
    key_check_notice,
    key_entries,
    notice_entries,
    option_entries,
    show_code_entry,
    signed_in_as,
    text_entry,
)
from .health import ProviderHealth
from .notices import WAY_BY_RECONFIGURE, WAY_IN_SETTINGS, Notice, browser_offer, ma_error
from .values import clear_stored_value, configured_instances, stored_secret, stored_text

if TYPE_CHECKING:
    from pathlib import Path

    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry, ProviderConfig
    from music_assistant_models.enums import ProviderFeature
    from music_assistant_models.provider import ProviderManifest

    from music_assistant_alexa.auth.models import AuthEvent
    from music_assistant_alexa.auth.session import AuthSessionManager, SessionStatus
    from music_assistant_alexa.guide import GuideLinker

#: The buttons that act on the stored session (also when the instance is not running).
SESSION_BUTTONS: Final = (ACTION_TEST, ACTION_REFRESH, ACTION_RESET)
#: The outcome of a button that changes nothing on the page (models 1.1.1xx and later).
_ACTION_RESULT: Final[Any] = getattr(ma_config_entries, "ConfigActionResult", None)


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
        self.context = AdapterContext.of(mass)
        self.manager: AuthSessionManager | None = None
        self.scheduler: RefreshScheduler | None = None
        self.health = ProviderHealth(
            mass,
            self.instance_id,
            is_current=lambda: mass.get_provider(self.instance_id) is self,
            notify=lambda: self._option_on(CONF_NOTIFY),
            link=self._guide,
            browser_way=self.browser_way,
        )
        self.feed = AlexaFeed(
            mass,
            self.context,
            manager=lambda: self.manager,
            option_on=lambda: self._option_on(CONF_ALEXA_PLAYERS),
            changed=self.health.changed,
        )
        self._recovery: asyncio.Task[None] | None = None
        self._sweep: asyncio.Task[None] | None = None
        self._loaded = False
        self._health_entries: tuple[tuple[Any, ...], list[ConfigEntry]] | None = None

    @property
    def instance_name_postfix(self) -> str | None:
        """
        Return the account's masked e-mail address, which tells instances apart in MA's lists.

        MA names an instance "<provider name> [<postfix>]"; without one, 2.9 shows "[None]".
        """
        email = self._stored(CONF_EMAIL)
        return mask_username(email) if email else None

    # --- lifecycle -------------------------------------------------------------------------

    async def handle_async_init(self) -> None:
        """Take over the session signed in from the settings, restore it, or sign in."""
        # Held from the start: a load that fails shows a last_error that links to the guide.
        self.context.guide_route.hold(self.instance_id)
        try:
            marketplace = normalise_marketplace(self._stored(CONF_MARKETPLACE) or None)
        except ValueError as err:
            raise ma_error(MissingCredentialsError(str(err)), self.link) from err
        store_dir = self.context.instance_folder(self.instance_id)
        existed = store_dir.exists()
        pending_id = self._stored(CONF_PENDING_SESSION)
        adopted = bool(pending_id) and await self.context.pending.adopt(pending_id, store_dir)
        if adopted:
            self.logger.info("Using the Amazon session signed in from the settings")
        if pending_id:
            # Taken over (or gone): the stored id must not suggest a sign-in still waiting,
            # in 2.9's edit page (which would hide the "not running" warning) or a later load.
            clear_stored_value(self.mass, self.instance_id, CONF_PENDING_SESSION)
        if self._stored(CONF_SIGN_IN_METHOD) == METHOD_BROWSER:
            # An account that signs in in the browser keeps no password or 2FA key, wherever
            # an earlier sign-in of the other kind (or 2.9, before an upgrade) stored them.
            for secret in (CONF_PASSWORD, CONF_TOTP_KEY):
                clear_stored_value(self.mass, self.instance_id, secret)
        self.manager = self.context.open_manager(
            store_dir, marketplace, on_event=self._on_auth_event
        )
        # A session taken over just now (2.9 loads twice on Save) was checked with Amazon by
        # its sign-in a moment ago.
        fresh = adopted or self.context.pending.recently_adopted(store_dir)
        try:
            await self._bring_up(validate=not fresh)
        except AlexaAuthError as err:
            if err.category is ErrorCategory.TEMPORARY:
                # Amazon (or the network) is down: stay loaded and retry in the background,
                # instead of failing the load and leaving the user with nothing to fix.
                self.health.went_offline(err)
                self.logger.warning(
                    "Amazon could not be reached while loading (%s); retrying in the background",
                    err.code,
                )
                return
            await self._close_manager()
            await self._undo_first_load(store_dir, existed=existed, adopted_from=pending_id)
            raise ma_error(err, self.link, self.browser_way) from err
        except BaseException:
            await self._close_manager()
            await self._undo_first_load(store_dir, existed=existed, adopted_from=pending_id)
            raise

    async def _undo_first_load(self, store_dir: Path, *, existed: bool, adopted_from: str) -> None:
        """
        Leave nothing behind after a first load that failed (MA drops the new instance).

        MA never unloads an instance whose load failed. A session taken over from a sign-in
        goes back to its pending folder (the flow that signed it in signs its device out, or
        the sweep does an hour later); otherwise the folder holds only the failed attempt.
        """
        if existed:
            return
        if adopted_from and (store_dir / REGISTRATION_FILE).exists():
            await self.context.pending.give_back(adopted_from, store_dir)
        elif not (store_dir / REGISTRATION_FILE).exists():
            await asyncio.to_thread(SessionStore(store_dir).remove_session, keep_state=False)

    async def loaded_in_mass(self) -> None:
        """Start the background work once MA has registered the instance."""
        self._loaded = True
        # Sessions signed in from dialogs that were never saved are removed (and their device
        # taken off the account) an hour later; a start-up is a good moment to look.
        sweep = self.context.pending.sweep(configured_instances(self.mass))
        self._sweep = self.mass.create_task(sweep)
        if self.health.offline is not None:
            self._recovery = self.mass.create_task(self._recover())
        else:
            self._start_refresh()
        self.feed.start()

    async def unload(self, is_removed: bool = False) -> None:  # noqa: FBT001, FBT002 - MA's API
        """
        Stop every task; when the instance was removed, sign out at Amazon and delete the store.

        :param is_removed: The instance was removed from MA's configuration.
        """
        self.health.stop()
        self.context.guide_route.release(self.instance_id)
        await self.feed.stop()
        await _cancel(self._recovery)
        await _cancel(self._sweep)
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self._close_manager()
        # Compared with ``is True``: a Feb-2026 MA build passes an error message here from
        # ``unload_with_error``, which must never delete the user's session.
        if is_removed is True:
            folder = self.context.instance_folder(self.instance_id)
            await self.context.pending.sign_out(folder, keep_backup=True)
        self._loaded = False

    # --- bringing the session up -------------------------------------------------------------

    async def _bring_up(self, *, validate: bool = True) -> None:
        """
        Restore the stored session; sign in when there is none or Amazon rejects it.

        Only with a stored password and 2FA key: an account that signs in in the browser (or
        has neither stored) needs the user, and gets the reason and the way to the browser.
        """
        manager = self._require_manager()
        rejected: AlexaAuthError | None = None
        try:
            if await manager.restore(validate=validate):
                return
        except AlexaAuthError as err:
            if err.category is ErrorCategory.TEMPORARY:
                raise
            rejected = err
        if not self.signs_in_itself:
            if rejected is not None:
                raise rejected
            msg = (
                "No Amazon session is stored for this account, and no password and 2FA key to "
                "sign in with."
            )
            raise NotSignedInError(msg)
        if rejected is not None:
            self.logger.info(
                "The stored Amazon session was rejected (%s); signing in", rejected.code
            )
        await self._sign_in(automatic=True)

    @property
    def signs_in_itself(self) -> bool:
        """Return whether the instance signs in by itself: a password and 2FA key are stored."""
        if self._stored(CONF_SIGN_IN_METHOD) == METHOD_BROWSER:
            return False
        return all(
            stored_secret(self.mass, self.instance_id, k) for k in (CONF_PASSWORD, CONF_TOTP_KEY)
        )

    @property
    def browser_way(self) -> str:
        """Return where to click, on this MA, for a sign-in in the browser (outside a form)."""
        return WAY_BY_RECONFIGURE if self.context.setup_flows else WAY_IN_SETTINGS

    async def _sign_in(self, *, automatic: bool) -> None:
        """
        Sign in with the stored credentials; raise the error the user must fix.

        :param automatic: MA's load (or its retry) asked, not the user: the core does not send
            credentials Amazon refused again.
        """
        creds = parse_credentials(
            self._stored(CONF_EMAIL),
            stored_secret(self.mass, self.instance_id, CONF_PASSWORD),
            stored_secret(self.mass, self.instance_id, CONF_TOTP_KEY),
            self._stored(CONF_MARKETPLACE) or None,
        )
        manager = self._require_manager()
        await manager.login(creds.email, creds.password, creds.key, automatic=automatic)

    # --- background work ---------------------------------------------------------------------

    def _start_refresh(self) -> None:
        manager = self.manager
        if manager is None or not manager.signed_in or not self._loaded:
            return
        if not self._option_on(CONF_REFRESH_ENABLED):
            return
        if self.scheduler is None:
            self.scheduler = RefreshScheduler(
                manager,
                interval_days=self._interval_days(),
                clock=self.context.sleep_clock,
                jitter=self.context.refresh_jitter,
                on_needs_user=self.health.blocked,
                on_recovered=self._healthy,
            )
        self.scheduler.start()

    async def _recover(self) -> None:
        """Retry bringing the session up after the load found Amazon unreachable."""
        attempt = 0
        while True:
            attempt += 1
            await self.context.sleep_clock.sleep(retry_delay(attempt))
            try:
                await self._bring_up()
            except AlexaAuthError as err:
                if err.category is ErrorCategory.TEMPORARY:
                    self.health.went_offline(err)
                    continue
                self.health.blocked(err)
                return
            self.logger.info("Amazon is reachable again; the session is up")
            self._healthy()
            return

    def _healthy(self) -> None:
        """Clear every problem and (re)start the refresh: the session works again."""
        self.health.healthy()
        if self.scheduler is not None and not self.scheduler.running:
            self.scheduler.start()
        else:
            self._start_refresh()

    def _on_auth_event(self, event: AuthEvent) -> None:
        self.health.changed()
        if event.ok and event.kind in SESSION_EVENTS:
            # New cookies (or a session brought up late): MA's Alexa players get them too.
            self.feed.session_changed()

    # --- the settings ------------------------------------------------------------------------

    @property
    def link(self) -> GuideLinker:
        """Return how this instance links to the guide (MA's web server's)."""
        return self.context.link

    def _guide(self, slug: str) -> str:
        """Return the link to a guide section as of now (MA's base URL may change)."""
        return self.link(slug)

    async def health_entries(self, *, browser_way: str | None = None) -> list[ConfigEntry]:
        """
        Return the health section of the settings (cheap: recomputed when something moved).

        :param browser_way: Where to click for a sign-in in the browser, in the words of the
            page it is shown on (2.9's form: its own button); default: :attr:`browser_way`.
        """
        manager = self.manager
        if manager is None:
            return [text_entry(ENTRY_STATUS, "Connecting to Amazon...")]
        scheduler = self.scheduler
        key = (
            self.health.version,
            int(manager.clock.time() // 60),
            scheduler.running if scheduler else None,
            scheduler.next_due if scheduler else None,
            browser_way,
        )
        if self._health_entries is None or self._health_entries[0] != key:
            checks = await run_checks(manager, scheduler=scheduler, validate=False)
            checks.extend(await self.feed.checks())
            entries = health_section(
                manager.status(),
                checks,
                self.health.problem(browser_way),
                self.link,
                sign_in_hint=self.sign_in_hint(in_form=browser_way is not None),
            )
            self._health_entries = (key, entries)
        # Copies: MA fills in values of returned entries, which must not leak into the cache.
        return [dataclasses.replace(entry) for entry in self._health_entries[1]]

    def sign_in_hint(self, *, in_form: bool = False) -> str:
        """
        Return how this instance is signed in again, as a clause ('press "Sign in now"').

        :param in_form: For 2.9's form, which has both buttons.
        """
        if in_form or not self.context.setup_flows:
            return f'press "{SIGN_IN_LABEL}" or "{BROWSER_LABEL}"'
        reconfigure = (
            f'use Reconfigure and choose "{BROWSER_CHOICE_LABEL}" under "{METHOD_FIELD_LABEL}"'
        )
        if self.signs_in_itself:
            return f'press "{SIGN_IN_LABEL}", or {reconfigure}'
        return reconfigure

    async def get_config_entries(self) -> tuple[ConfigEntry, ...]:
        """Return the options page (2.10+): health, the key's verdict, buttons, options."""
        entries = notice_entries(self.health.notices)
        entries.extend(await self.health_entries())
        stored_key = stored_secret(self.mass, self.instance_id, CONF_TOTP_KEY)
        entries.extend(key_entries(stored_key, self.link))
        if stored_key and _ACTION_RESULT is not None:
            entries.append(show_code_entry())
        entries.extend(
            action_entries(
                existing=True,
                captcha=False,
                from_form=False,
                signs_in_itself=self.signs_in_itself,
            )
        )
        entries.extend(option_entries(self.link))
        return tuple(entries)

    async def handle_config_action(self, action: str) -> Any:
        """
        Run a button of the options page (2.10+) and return the page with its outcome.

        "Show the current 2FA code" answers with a message only (shown as a toast at that
        moment), so the code never sits on the page after its 30 seconds.

        :param action: The button's action id.
        """
        if action == ACTION_SHOW_CODE and _ACTION_RESULT is not None:
            stored_key = stored_secret(self.mass, self.instance_id, CONF_TOTP_KEY)
            notice = key_check_notice(stored_key, self.context.clock.time(), self.link)
            return _ACTION_RESULT(message=notice.text)
        self.health.notices = [await self.run_action(action)]
        try:
            return await self.get_config_entries()
        finally:
            self.health.notices = []

    async def run_action(self, action: str) -> Notice:
        """
        Run one of the buttons on this instance's live session.

        :param action: The button's action id.
        """
        manager = self.manager
        if action in (ACTION_CHECK_KEY, ACTION_SHOW_CODE):
            stored_key = stored_secret(self.mass, self.instance_id, CONF_TOTP_KEY)
            return key_check_notice(stored_key, self.context.clock.time(), self.link)
        if manager is None:
            return Notice("The session is still starting; try again in a moment.", ok=False)
        if action == ACTION_SIGN_IN:
            return await self._sign_in_button()
        if action not in SESSION_BUTTONS:
            return Notice(f"Unknown button {action!r}.", ok=False)
        if action == ACTION_RESET and self.scheduler is not None:
            await self.scheduler.stop()
        notice = await session_action(manager, action, self.link, hint=self.sign_in_hint())
        self.health.changed()
        if action == ACTION_RESET:
            self.health.reset()
            self.scheduler = None
        elif action == ACTION_REFRESH and notice.ok:
            self._healthy()
        elif notice.error is not None and notice.error.needs_user:
            # A refusal the user saw by pressing a button is the same news the refresh task
            # would bring later: mark the provider now, not at the next scheduled refresh.
            self.health.blocked(notice.error)
        return notice

    async def _sign_in_button(self) -> Notice:
        """Sign in again with the stored credentials (the options page's button)."""
        if not self.signs_in_itself:
            text = f"This account signs in in your browser: {self.browser_way}."
            return Notice.problem(text, self.link(GuideSlug.BROWSER_SIGN_IN))
        await _cancel(self._recovery)
        try:
            await self._sign_in(automatic=False)
        except CaptchaRequiredError as err:
            return Notice.problem(
                "Amazon wants a picture puzzle solved: use Reconfigure, which shows it.",
                self.link(err.guide_slug),
            )
        except AlexaAuthError as err:
            offer = browser_offer(err, self.browser_way, self.link)
            return Notice.from_error(err, self.link, then=offer)
        self._healthy()
        return signed_in_notice(self._require_manager().status(), self.link)

    async def get_diagnostics(self) -> dict[str, Any]:
        """Return the redacted diagnostics report (no secret, no e-mail address)."""
        manager = self.manager
        if manager is None:
            return {"state": "not started"}
        key = stored_secret(self.mass, self.instance_id, CONF_TOTP_KEY)
        checks = await run_checks(manager, scheduler=self.scheduler, totp_key=key, validate=False)
        checks.extend(await self.feed.checks())
        extra = {
            **self.health.to_dict(),
            "ma_structured_errors": hasattr(self.mass.config, "update_provider_last_error"),
            "notify_on_failure": self._option_on(CONF_NOTIFY),
            "sign_in_method": METHOD_PASSWORD if self.signs_in_itself else METHOD_BROWSER,
            "refresh_enabled": self._option_on(CONF_REFRESH_ENABLED),
            "recovery_running": self._recovery is not None and not self._recovery.done(),
            "alexa_players": self.feed.to_dict(),
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

    def _stored(self, key: str) -> str:
        return stored_text(self.mass, self.instance_id, key).strip()

    def _option(self, key: str) -> Any:
        try:
            return self.config.get_value(key)
        except (KeyError, AttributeError):
            return None

    def _option_on(self, key: str) -> bool:
        """Return a yes/no option; every one of this provider's is on by default."""
        value = self._option(key)
        return True if value is None else bool(value)

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


async def session_action(
    manager: AuthSessionManager,
    action: str,
    link: GuideLinker,
    *,
    hint: str = f'press "{SIGN_IN_LABEL}"',
) -> Notice:
    """
    Test, refresh or reset a stored session (running or not) and say what happened.

    :param manager: The account's manager.
    :param action: One of :data:`SESSION_BUTTONS`.
    :param link: Renders guide links.
    :param hint: How to sign in here, for a session that is not signed in.
    """
    try:
        if action == ACTION_RESET:
            # The attempt record stays on disk: a reset must not hand out fresh password
            # attempts, nor forget credentials Amazon refused, after MA's next restart.
            result = await manager.reset(deregister=True, keep_state=True)
            where = f" A backup is in {result.backup.name}." if result.backup else ""
            device = (
                "The device was removed from your Amazon account."
                if result.deregistered
                else "The device could not be removed at Amazon (or there was none); if it is "
                'still listed under "Your devices", remove it there.'
            )
            return Notice(f"Signed out and the stored session deleted.{where} {device}")
        if manager.registration is None:
            await manager.restore(validate=False)
        if not manager.signed_in:
            guide = link(GuideSlug.COOKIE_REFRESH)
            text = f"Not signed in to Amazon yet: {hint}."
            return Notice(text, ok=False, guide_url=guide)
        if action == ACTION_REFRESH:
            await manager.refresh()
            return Notice("Refreshed: Amazon issued new cookies (good for 14 days).")
        if await manager.check():
            return Notice("Amazon accepts the session.")
        return Notice.problem(
            f'Amazon no longer accepts the stored cookies. Press "{REFRESH_LABEL}"; if that '
            "fails, sign in again.",
            link(GuideSlug.COOKIE_REFRESH),
        )
    except AlexaAuthError as err:
        return Notice.from_error(err, link)


def signed_in_notice(status: SessionStatus, link: GuideLinker, *, then: str = "") -> Notice:
    """
    Return the good news of a sign-in: where, and as whom (masked).

    :param status: The manager's snapshot after the sign-in.
    :param link: Renders guide links.
    :param then: What the user does next, as a sentence.
    """
    text = f"Signed in to {status.marketplace}{signed_in_as(status)}."
    text = f"{text} {then}" if then else text
    mismatch = status.marketplace_mismatch
    if mismatch is not None:
        # Signed in, but Amazon names another marketplace: a warning that says which.
        return Notice.problem(f"{text} {mismatch.message}", link(GuideSlug.CREDENTIALS))
    return Notice(text)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a task and wait until it has ended (not the one running this)."""
    if task is None or task.done() or task is asyncio.current_task():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
