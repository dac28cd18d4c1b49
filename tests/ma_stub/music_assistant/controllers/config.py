"""
The config controller, in its two generations.

:class:`ConfigController` is the older one (MA dev a6ebd7bb): provider forms come from the
module-level ``get_config_entries(mass, instance_id, action, values)``, secrets are stored as
``_encrypted_...`` values, ``last_error`` is a string. :class:`FlowConfigController` is the
newer one: adding goes through setup flows only, options come from the running instance, and
``last_error`` is a structured ``ProviderError``.

Storage is an in-memory ``settings.json`` (a nested dict) with the real path semantics. Secrets
are encrypted as MA does it: ``_encrypted_`` and a Fernet token, keyed on the server id on
2.9 and on a random key kept in the settings on newer MA (so equal plaintexts give different
stored values, and a restart with the same settings decrypts them).

The flow engine follows ``controllers/config/flows.py`` (server @09902b70): one flow per target
(a newer one ends the older as ``replaced``), a finished or aborted flow leaves the registry at
once (``KeyError`` afterwards), a cancelled flow's clean-up is waited for 10 s at most, a submit
waits 120 s for the next step and answers a transient ``working`` progress step after that.
"""

# The stand-in is type-checked from its own folder: relative imports keep its types.
# ruff: noqa: TID252

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
import uuid
from copy import deepcopy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

from cryptography.fernet import Fernet, InvalidToken
from music_assistant_models import config_entries
from music_assistant_models.config_entries import ConfigEntry, ProviderConfig
from music_assistant_models.enums import ConfigEntryType
from music_assistant_models.errors import ActionUnavailable, InvalidDataError, SetupFailedError

from ..constants import (
    CONF_PROVIDERS,
    DEFAULT_PROVIDER_CONFIG_ENTRIES,
    ENCRYPT_SUFFIX,
    SECURE_STRING_SUBSTITUTE,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from music_assistant_models.config_entries import ConfigValueType

    # newer models only
    from music_assistant_models.setup_flow import SetupFlowStep  # type: ignore[import-not-found,unused-ignore]

    from ..mass import MusicAssistant
    from ..models.provider import Provider
    from ..models.setup_flow import FlowReason, SetupFlowContext, SetupSession

#: How long start and submit wait for the flow to produce its (next) step.
NEXT_STEP_TIMEOUT: Final = 120
#: How long an abort waits for a cancelled flow's clean-up (the author's ``finally``).
FLOW_ABORT_CLEANUP_TIMEOUT: Final = 10
#: A flow without interaction or a new step for this long is aborted as ``timed_out``.
IDLE_FLOW_TTL: Final = 15 * 60
#: The error codes that mean "authentication required" (``controllers/config/helpers``):
#: LoginFailed 6, AuthenticationRequired 20, AuthenticationFailed 21, InvalidToken 23.
AUTH_ERROR_CODES: Final = frozenset({6, 20, 21, 23})
#: Where 2.9 keeps the server id its encryption key derives from.
CONF_SERVER_ID: Final = "server_id"
#: Where newer MA keeps its random encryption key (the constant's value is MA's own business;
#: only its being in the settings matters here).
CONF_ENCRYPTION_KEY: Final = "encryption_key"
#: How long a test helper waits for a flow to show something (guards against a hang only).
_TEST_WAIT: Final = 30.0


class ConfigController:
    """Settings storage and provider configs (older MA)."""

    def __init__(self, mass: MusicAssistant) -> None:
        """
        Create the controller with empty settings.

        :param mass: The MusicAssistant instance.
        """
        self.mass = mass
        self._data: dict[str, Any] = {CONF_PROVIDERS: {}, CONF_SERVER_ID: uuid.uuid4().hex}
        # MA sets these at start-up; Config.get_value/to_raw use them for SECURE_STRING.
        config_entries.ENCRYPT_CALLBACK = self.encrypt_string
        config_entries.DECRYPT_CALLBACK = self.decrypt_string

    def _fernet(self) -> Fernet:
        """Return the cipher: 2.9 derives its key from the server id."""
        server_id = str(self._data[CONF_SERVER_ID])
        return Fernet(base64.urlsafe_b64encode(server_id.encode()[:32]))

    # --- raw storage -----------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        """
        Get value(s) for a specific key/path in persistent storage.

        :param key: A slash-separated path, e.g. "providers/<id>/values".
        :param default: Returned when the path does not exist.
        """
        node: Any = self._data
        for part in key.split("/"):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def set(self, key: str, value: Any) -> None:
        """
        Set value(s) for a specific key/path in persistent storage.

        :param key: A slash-separated path.
        :param value: The value.
        """
        *parents, last = key.split("/")
        node = self._data
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = deepcopy(value)

    def remove(self, key: str) -> None:
        """
        Remove value(s) for a specific key/path in persistent storage.

        :param key: A slash-separated path.
        """
        *parents, last = key.split("/")
        node = self.get("/".join(parents)) if parents else self._data
        if isinstance(node, dict):
            node.pop(last, None)

    def encrypt_string(self, str_value: str) -> str:
        """
        Encrypt a (password) string; an already encrypted one is returned as is.

        :param str_value: The plaintext.
        """
        if str_value.startswith(ENCRYPT_SUFFIX):
            return str_value  # already encrypted (a stored raw value): MA leaves it alone
        return ENCRYPT_SUFFIX + self._fernet().encrypt(str_value.encode()).decode()

    def decrypt_string(self, encrypted_str: str) -> str:
        """
        Decrypt a (password) string; a value that is not encrypted is returned as is.

        :param encrypted_str: The stored value.
        """
        if not encrypted_str or not encrypted_str.startswith(ENCRYPT_SUFFIX):
            return encrypted_str
        token = encrypted_str[len(ENCRYPT_SUFFIX) :].encode()
        try:
            return self._fernet().decrypt(token).decode()
        except InvalidToken as err:
            msg = "Password decryption failed"
            raise InvalidDataError(msg) from err

    # --- provider values -------------------------------------------------------------------

    def get_raw_provider_config_value(
        self, provider_instance: str, key: str, default: ConfigValueType = None
    ) -> ConfigValueType:
        """
        Return (raw) single config(entry) value for a provider.

        :param provider_instance: The instance id.
        :param key: The config key.
        :param default: Returned when no value is stored.
        """
        return cast(
            "ConfigValueType",
            self.get(
                f"{CONF_PROVIDERS}/{provider_instance}/values/{key}",
                self.get(f"{CONF_PROVIDERS}/{provider_instance}/{key}", default),
            ),
        )

    def set_raw_provider_config_value(
        self,
        provider_instance: str,
        key: str,
        value: ConfigValueType,
        encrypted: bool = False,  # noqa: FBT001, FBT002 - MA's signature
    ) -> None:
        """
        Set (raw) single config(entry) value for a provider.

        :param provider_instance: The instance id.
        :param key: The config key.
        :param value: The value.
        :param encrypted: Encrypt the (string) value.
        """
        if not self.get(f"{CONF_PROVIDERS}/{provider_instance}"):
            msg = f"Invalid provider_instance: {provider_instance}"
            raise KeyError(msg)
        if encrypted and isinstance(value, str):
            value = self.encrypt_string(value)
        self.set(f"{CONF_PROVIDERS}/{provider_instance}/values/{key}", value)

    # --- provider configs ------------------------------------------------------------------

    async def get_provider_config_entries(
        self,
        provider_domain: str,
        instance_id: str | None = None,
        action: str | None = None,
        values: dict[str, ConfigValueType] | None = None,
    ) -> tuple[ConfigEntry, ...]:
        """
        Return the form of a provider (API ``config/providers/get_entries``).

        :param provider_domain: The provider's domain.
        :param instance_id: The instance being edited, or None when adding.
        :param action: The pressed button's action id.
        :param values: The form's current values.
        """
        module = self.mass.get_provider_module(provider_domain)
        entries = (
            *DEFAULT_PROVIDER_CONFIG_ENTRIES,
            *await module.get_config_entries(
                self.mass, instance_id=instance_id, action=action, values=values
            ),
        )
        if action and values is not None:
            # what the real controller does: fill empty values with what the frontend sent
            # (on copies: the provider's own entry objects stay untouched)
            entries = tuple(deepcopy(entry) for entry in entries)
            for entry in entries:
                if entry.value is None:
                    entry.value = values.get(entry.key, entry.default_value)
        return entries

    async def get_provider_configs(
        self,
        provider_type: Any = None,
        provider_domain: str | None = None,
        include_values: bool = False,  # noqa: FBT001, FBT002 - MA's signature
    ) -> list[ProviderConfig]:
        """
        Return the stored provider configs, optionally of one type or domain.

        Without ``include_values`` (as here) the configs are parsed without any entries, so no
        provider's ``get_config_entries`` runs: only the stored fields and raw values are read.

        :param provider_type: Only this provider type.
        :param provider_domain: Only this domain.
        :param include_values: Parse each config against its provider's entries.
        """
        known = {manifest.domain for manifest in self.mass.get_provider_manifests()}
        configs = []
        for raw in (self.get(CONF_PROVIDERS) or {}).values():
            if provider_type is not None and raw.get("type") != provider_type:
                continue
            if provider_domain is not None and raw.get("domain") != provider_domain:
                continue
            if raw.get("domain") not in known:
                continue
            if include_values:
                configs.append(await self.get_provider_config(raw["instance_id"]))
            else:
                configs.append(cast("ProviderConfig", ProviderConfig.parse([], raw)))
        return configs

    async def get_provider_config(self, instance_id: str) -> ProviderConfig:
        """
        Return the config of one provider instance.

        :param instance_id: The instance id.
        """
        raw = self.get(f"{CONF_PROVIDERS}/{instance_id}")
        if not raw:
            msg = f"No config found for provider id {instance_id}"
            raise KeyError(msg)
        # MA passes the stored raw values (secrets as "_encrypted_..." strings) to the provider
        entries = await self.get_provider_config_entries(
            raw["domain"], instance_id=instance_id, values=raw.get("values")
        )
        return cast("ProviderConfig", ProviderConfig.parse(entries, raw))

    async def save_provider_config(
        self,
        provider_domain: str,
        values: dict[str, ConfigValueType],
        instance_id: str | None = None,
    ) -> ProviderConfig:
        """
        Add a provider instance, or update one (API ``config/providers/save``).

        :param provider_domain: The provider's domain.
        :param values: The form's values.
        :param instance_id: The instance to update, or None to add one.
        """
        if instance_id is not None:
            return await self._update_provider_config(instance_id, values)
        return await self._add_provider_config(provider_domain, values)

    async def _add_provider_config(
        self, provider_domain: str, values: dict[str, ConfigValueType]
    ) -> ProviderConfig:
        manifest = self.mass.get_provider_manifest(provider_domain)
        instance_id = (
            f"{manifest.domain}--{uuid.uuid4().hex[:8]}"
            if manifest.multi_instance
            else manifest.domain
        )
        # MA asks for the entries with the new instance's id, before that instance exists
        entries = await self.get_provider_config_entries(
            provider_domain, instance_id=instance_id, values=values
        )
        config = cast(
            "ProviderConfig",
            ProviderConfig.parse(
                entries,
                {
                    "type": manifest.type.value,
                    "domain": manifest.domain,
                    "instance_id": instance_id,
                    "default_name": manifest.name,
                    "values": values,
                },
            ),
        )
        config.validate()
        conf_key = f"{CONF_PROVIDERS}/{instance_id}"
        # saved first, as MA does, so the provider can read its stored values while loading
        self.set(conf_key, config.to_raw())
        try:
            await self.mass.load_provider_config(config)
        except Exception:
            self.remove(conf_key)
            raise
        return config

    async def _update_provider_config(
        self, instance_id: str, values: dict[str, ConfigValueType]
    ) -> ProviderConfig:
        config = await self.get_provider_config(instance_id)
        # untouched secret fields come back as the placeholder: they keep their stored value
        values = {k: v for k, v in values.items() if v != SECURE_STRING_SUBSTITUTE}
        changed_keys = config.update(values)
        provider = self.mass.get_provider(instance_id)
        available = provider is not None and provider.available
        if not changed_keys and config.enabled == available:
            return config
        config.validate()
        self.set(f"{CONF_PROVIDERS}/{instance_id}", config.to_raw())
        if config.enabled and provider is None:
            # a6ebd7bb loads an instance that is not running here *and* again in the ``elif``
            # below: two loads in a row (observed against the real server)
            await self.mass.load_provider_config(config)
        if config.enabled and provider is not None and available:
            await provider.update_config(config, changed_keys)
        elif config.enabled:
            await self.mass.load_provider_config(config)
        else:
            # disabled: unloaded, not removed (the provider keeps its data)
            await self.mass.unload_provider(instance_id)
        return config

    async def remove_provider_config(self, instance_id: str) -> None:
        """
        Remove a provider instance (API ``config/providers/remove``).

        :param instance_id: The instance id.
        """
        conf_key = f"{CONF_PROVIDERS}/{instance_id}"
        if not self.get(conf_key):
            msg = f"Provider {instance_id} does not exist"
            raise KeyError(msg)
        self.remove(conf_key)
        await self.mass.unload_provider(instance_id, is_removed=True)

    def record_load_error(self, instance_id: str, error: Exception) -> None:
        """
        Store why a provider failed to load (what MA's ``load_provider`` does).

        :param instance_id: The instance id.
        :param error: The load error.
        """
        self.set(f"{CONF_PROVIDERS}/{instance_id}/last_error", str(error))

    def clear_load_error(self, instance_id: str) -> None:
        """
        Clear ``last_error`` after a successful load (what MA's loader does).

        :param instance_id: The instance id.
        """
        self.set(f"{CONF_PROVIDERS}/{instance_id}/last_error", None)

    def last_error_message(self, instance_id: str) -> str | None:
        """
        Return the stored ``last_error`` text (a test helper).

        :param instance_id: The instance id.
        """
        value = self.get(f"{CONF_PROVIDERS}/{instance_id}/last_error")
        if isinstance(value, dict):
            return cast("str | None", value.get("message"))
        return cast("str | None", value)

    async def wrap_config(self, conf: ProviderConfig, provider: Provider) -> ProviderConfig:
        """
        Return the config the provider runs with (older MA: the one it was created with).

        :param conf: The config.
        :param provider: The new instance.
        """
        del provider
        return conf


@dataclass
class ActiveFlow:
    """A running setup flow (``ActiveSetupFlow`` in MA): its session, target and task."""

    session: SetupSession
    #: What the flow (re)configures; one flow per target.
    target_key: str
    task: asyncio.Task[None] | None = None


class FlowConfigController(ConfigController):
    """Settings storage, provider configs and setup flows (newer MA)."""

    def __init__(self, mass: MusicAssistant) -> None:
        """
        Create the controller with empty settings and no flows.

        :param mass: The MusicAssistant instance.
        """
        super().__init__(mass)
        # Newer MA encrypts with a random key kept in the settings (not the server id).
        self._data[CONF_ENCRYPTION_KEY] = Fernet.generate_key().decode()
        self._flows: dict[str, ActiveFlow] = {}
        #: Every flow started, finished ones too (for tests that look back at their steps).
        self.sessions: dict[str, SetupSession] = {}

    def _fernet(self) -> Fernet:
        """Return the cipher: newer MA's random key from the settings."""
        return Fernet(str(self._data[CONF_ENCRYPTION_KEY]).encode())

    @property
    def flows(self) -> dict[str, SetupSession]:
        """Return the running flows by id (a finished or aborted flow is gone at once)."""
        return {flow_id: flow.session for flow_id, flow in self._flows.items()}

    def update_provider_last_error(self, instance_id: str, error: Any) -> None:
        """
        Persist (or clear) a provider's structured last_error (only while its config exists).

        :param instance_id: The instance id.
        :param error: A ``ProviderError``, or None.
        """
        conf_key = f"{CONF_PROVIDERS}/{instance_id}"
        if not self.get(conf_key):
            return
        self.set(f"{conf_key}/last_error", error.to_dict() if error else None)

    def record_load_error(self, instance_id: str, error: Exception) -> None:
        """
        Store why a provider failed to load, as a structured error (``_provider_error_from_exc``).

        :param instance_id: The instance id.
        :param error: The load error.
        """
        self.update_provider_last_error(instance_id, provider_error_from_exc(error))

    def clear_load_error(self, instance_id: str) -> None:
        """
        Clear ``last_error`` after a successful load.

        :param instance_id: The instance id.
        """
        self.update_provider_last_error(instance_id, None)

    def provider_status(self, instance_id: str) -> str:
        """
        Return the derived status of an instance (``controllers/config/helpers._provider_status``).

        :param instance_id: The instance id.
        """
        raw = self.get(f"{CONF_PROVIDERS}/{instance_id}") or {}
        last_error = raw.get("last_error")
        if last_error:
            code = last_error.get("error_code") if isinstance(last_error, dict) else 999
            return "auth_required" if code in AUTH_ERROR_CODES else "error"
        return "loaded" if self.mass.get_provider(instance_id) is not None else "loading"

    def get_provider_setup_value(
        self, instance_id: str, key: str, default: ConfigValueType = None
    ) -> ConfigValueType:
        """
        Return a single (decrypted) setup_data value for a provider.

        :param instance_id: The instance id.
        :param key: The setup data key.
        :param default: Returned when the key is absent.
        """
        setup_data = self.get(f"{CONF_PROVIDERS}/{instance_id}/setup_data") or {}
        if key not in setup_data:
            return default
        value = setup_data[key]
        return self.decrypt_string(value) if isinstance(value, str) else value

    async def get_provider_config_entries(  # type: ignore[override]
        self, instance_id: str
    ) -> list[ConfigEntry]:
        """
        Return the options of a provider instance (from the running instance).

        :param instance_id: The instance id.
        """
        provider = self.mass.get_provider(instance_id, return_unavailable=True)
        if provider is None:
            return list(DEFAULT_PROVIDER_CONFIG_ENTRIES)
        # an instance method of newer MA's Provider base (the shared stand-in base lacks it)
        own = await cast("Any", provider).get_config_entries()
        return [*DEFAULT_PROVIDER_CONFIG_ENTRIES, *own]

    async def get_provider_config(self, instance_id: str) -> ProviderConfig:
        """
        Return the config of one provider instance.

        :param instance_id: The instance id.
        """
        raw = self.get(f"{CONF_PROVIDERS}/{instance_id}")
        if not raw:
            msg = f"No config found for provider id {instance_id}"
            raise KeyError(msg)
        entries = await self.get_provider_config_entries(instance_id)
        return cast("ProviderConfig", ProviderConfig.parse(entries, raw))

    async def invoke_provider_config_action(self, instance_id: str, action: str) -> Any:
        """
        Run a button of a provider's options (API ``config/providers/invoke_action``).

        :param instance_id: The instance id.
        :param action: The action id.
        """
        provider = self.mass.get_provider(instance_id, return_unavailable=True)
        if provider is None:
            msg = f"Provider {instance_id} is not loaded"
            raise ActionUnavailable(msg)
        result = await cast("Any", provider).handle_config_action(action)
        return [] if result is None else result

    async def save_provider_config(
        self,
        provider_domain: str,
        values: dict[str, ConfigValueType],
        instance_id: str | None = None,
    ) -> ProviderConfig:
        """
        Save changes to an existing provider instance (adding needs a setup flow).

        :param provider_domain: The provider's domain.
        :param values: The changed options.
        :param instance_id: The instance to update.
        """
        del provider_domain
        if instance_id is None:
            msg = "Adding a provider is only possible through the setup flow"
            raise ValueError(msg)
        return await self._update_provider_config(instance_id, values)

    async def wrap_config(self, conf: ProviderConfig, provider: Provider) -> ProviderConfig:
        """
        Return the config re-parsed against the instance's own entries (``rehydrate``).

        :param conf: The load-time config (server defaults only).
        :param provider: The new instance.
        """
        raw = self.get(f"{CONF_PROVIDERS}/{conf.instance_id}")
        if not raw:
            return conf
        own = await cast("Any", provider).get_config_entries()
        entries = [*DEFAULT_PROVIDER_CONFIG_ENTRIES, *own]
        return cast("ProviderConfig", ProviderConfig.parse(entries, raw))

    def seed_config(self, raw: dict[str, Any]) -> ProviderConfig:
        """
        Return the load-time config: server defaults plus stored values as passthrough entries.

        :param raw: The stored config.
        """
        config = cast(
            "ProviderConfig", ProviderConfig.parse(DEFAULT_PROVIDER_CONFIG_ENTRIES, deepcopy(raw))
        )
        for key, value in (raw.get("values") or {}).items():
            if key not in config.values:
                config.values[key] = ConfigEntry(
                    key=key, type=ConfigEntryType.STRING, label=key, value=value
                )
        return config

    # --- setup flows -----------------------------------------------------------------------

    async def setup_provider(self, provider_domain: str) -> SetupFlowStep:
        """
        Start the setup flow to add an instance (API ``config/providers/setup``).

        :param provider_domain: The provider's domain.
        """
        from ..models.setup_flow import SetupFlowContext  # noqa: PLC0415 - newer models only

        context = SetupFlowContext(kind="setup", reason="user", domain=provider_domain)
        return await self._start_flow(
            context, f"provider_setup:{provider_domain}", self._finish_provider_setup
        )

    async def reconfigure_provider(self, instance_id: str) -> SetupFlowStep:
        """
        Start the reconfigure flow of an instance (API ``config/providers/reconfigure``).

        :param instance_id: The instance id.
        """
        from ..models.setup_flow import SetupFlowContext  # noqa: PLC0415 - newer models only

        raw = self.get(f"{CONF_PROVIDERS}/{instance_id}")
        if not raw:
            msg = f"No config found for provider id {instance_id}"
            raise KeyError(msg)
        context = SetupFlowContext(
            kind="reconfigure",
            reason=reconfigure_reason(raw.get("last_error")),
            domain=raw["domain"],
            instance_id=instance_id,
            setup_data=self._decrypt_values(raw.get("setup_data") or {}),
            values=self._decrypt_values(raw.get("values") or {}),
        )
        return await self._start_flow(
            context, f"provider_reconfigure:{instance_id}", self._finish_provider_reconfigure
        )

    async def submit_setup_flow(
        self, flow_id: str, values: dict[str, ConfigValueType]
    ) -> SetupFlowStep:
        """
        Submit the values of a flow's form; return the next step (API ``config/flows/submit``).

        :param flow_id: The flow id.
        :param values: The form values.
        """
        session = self._get_flow(flow_id).session
        if (error_step := session.handle_submit(values)) is not None:
            return error_step
        submitted = session.current_step
        await session.wait_for_step_change(NEXT_STEP_TIMEOUT)
        if session.current_step is submitted:
            # still working on the next step: the consumed form must not be served again
            session.progress("working")
        step = session.current_step
        assert step is not None
        return step

    async def get_setup_flow(self, flow_id: str) -> SetupFlowStep:
        """
        Return the current step of a running flow (API ``config/flows/get``).

        :param flow_id: The flow id.
        """
        session = self._get_flow(flow_id).session
        session.last_activity = time.monotonic()
        if session.current_step is None:
            msg = "The setup flow has not produced a step yet"
            raise ActionUnavailable(msg)
        return session.current_step

    async def abort_setup_flow(self, flow_id: str) -> None:
        """
        Abort a running flow: the user cancelled (API ``config/flows/abort``).

        :param flow_id: The flow id.
        """
        await self._abort_flow(self._get_flow(flow_id), "aborted")

    def sweep_idle_flows(self, now: float | None = None) -> None:
        """
        Abort the flows idle for :data:`IDLE_FLOW_TTL` (MA runs this every minute).

        A flow whose current step counts down to a deadline still ahead is left alone.

        :param now: ``time.monotonic()`` as the sweep sees it (tests move it ahead).
        """
        now = time.monotonic() if now is None else now
        for flow in list(self._flows.values()):
            step = flow.session.current_step
            if step is not None and step.expires_at is not None and step.expires_at > time.time():
                continue
            if now - flow.session.last_activity >= IDLE_FLOW_TTL:
                self.mass.create_task(self._abort_flow(flow, "timed_out"))

    async def wait_for_flow(self, flow_id: str) -> SetupFlowStep:
        """
        Wait until a flow shows something other than progress (a test helper).

        :param flow_id: The flow id (a finished flow's too).
        """
        session = self.sessions[flow_id]
        async with asyncio.timeout(_TEST_WAIT):
            while session.current_step is None or session.current_step.type == "progress":
                session._step_changed.clear()
                await session.wait_for_step_change(_TEST_WAIT)
        return session.current_step

    def _get_flow(self, flow_id: str) -> ActiveFlow:
        if flow := self._flows.get(flow_id):
            return flow
        msg = f"Unknown (or finished) setup flow: {flow_id}"
        raise KeyError(msg)

    async def _start_flow(
        self,
        context: SetupFlowContext,
        target_key: str,
        finish_handler: Callable[[SetupSession, dict[str, ConfigValueType]], Awaitable[Any]],
    ) -> SetupFlowStep:
        from ..models.setup_flow import SetupSession  # noqa: PLC0415 - newer models only

        # one flow per target: a new one replaces a lingering older one
        while existing := next(
            (f for f in self._flows.values() if f.target_key == target_key), None
        ):
            await self._abort_flow(existing, "replaced")
        module = self.mass.get_setup_flow_module(context.domain)
        flow_id = uuid.uuid4().hex
        session = SetupSession(self.mass, flow_id, context, finish_handler)
        flow = ActiveFlow(session, target_key)
        self._flows[flow_id] = flow
        self.sessions[flow_id] = session
        flow.task = self.mass.create_task(self._run_flow(flow, module))
        if session.current_step is None:
            await session.wait_for_step_change(NEXT_STEP_TIMEOUT)
        if session.current_step is None:
            await self._abort_flow(flow, "internal_error")
            msg = "Setup flow did not produce a first step"
            raise SetupFailedError(msg)
        return session.current_step

    async def _run_flow(self, flow: ActiveFlow, module: Any) -> None:
        from ..models.setup_flow import (  # noqa: PLC0415 - newer models only
            AbortFlow,
            SetupFlowError,
            StepExpiredError,
        )

        session = flow.session
        try:
            await module.run_setup(session)
        except AbortFlow as err:
            session.publish_abort(err.reason)
        except StepExpiredError:
            session.publish_abort("timed_out")
        except SetupFlowError as err:
            session.publish_abort(str(err) or "internal_error")
        except asyncio.CancelledError:
            raise  # the canceller publishes the ABORT step
        except Exception:  # noqa: BLE001 - what the real engine does
            session.publish_abort("internal_error")
        else:
            if not session.finished:
                session.publish_abort("internal_error")
        finally:
            session.close()
            self._flows.pop(session.flow_id, None)

    async def _abort_flow(self, flow: ActiveFlow, reason: str) -> None:
        if flow.task is not None and not flow.task.done():
            flow.task.cancel()
            _, pending = await asyncio.wait([flow.task], timeout=FLOW_ABORT_CLEANUP_TIMEOUT)
            if pending:
                flow.session.close()  # MA stops waiting for a wedged clean-up
        self._flows.pop(flow.session.flow_id, None)
        step = flow.session.current_step
        if step is None or step.type not in ("finish", "abort"):
            flow.session.publish_abort(reason)

    async def _finish_provider_setup(
        self, session: SetupSession, values: dict[str, ConfigValueType]
    ) -> dict[str, str]:
        from ..models.setup_flow import SetupFlowError  # noqa: PLC0415 - newer models only

        try:
            config = await self._create_provider_instance(
                session.context.domain, {}, setup_data=self._encrypt_values(values)
            )
        except Exception as err:
            raise SetupFlowError(
                str(err) or err.__class__.__name__,
                translation_key=getattr(err, "translation_key", None),
            ) from err
        return {"instance_id": config.instance_id}

    async def _finish_provider_reconfigure(
        self, session: SetupSession, values: dict[str, ConfigValueType]
    ) -> dict[str, str]:
        from ..models.setup_flow import SetupFlowError  # noqa: PLC0415 - newer models only

        instance_id = session.context.instance_id
        assert instance_id is not None
        conf_key = f"{CONF_PROVIDERS}/{instance_id}"
        if not self.get(conf_key):
            msg = f"Provider {instance_id} no longer exists"
            raise SetupFlowError(msg)
        snapshot = dict(self.get(f"{conf_key}/setup_data") or {})
        self.set(f"{conf_key}/setup_data", {**snapshot, **self._encrypt_values(values)})
        try:
            config = await self.get_provider_config(instance_id)
            await self.mass.load_provider_config(config)
        except asyncio.CancelledError:
            self.set(f"{conf_key}/setup_data", snapshot)
            raise
        except Exception as err:
            # the failed load recorded last_error (and left the instance unloaded)
            self.set(f"{conf_key}/setup_data", snapshot)
            raise SetupFlowError(
                str(err) or err.__class__.__name__,
                translation_key=getattr(err, "translation_key", None),
            ) from err
        self.update_provider_last_error(instance_id, None)
        return {"instance_id": instance_id}

    async def _create_provider_instance(
        self,
        provider_domain: str,
        values: dict[str, ConfigValueType],
        setup_data: dict[str, Any] | None = None,
    ) -> ProviderConfig:
        manifest = self.mass.get_provider_manifest(provider_domain)
        instance_id = (
            f"{manifest.domain}--{uuid.uuid4().hex[:8]}"
            if manifest.multi_instance
            else manifest.domain
        )
        raw = {
            "type": manifest.type.value,
            "domain": manifest.domain,
            "instance_id": instance_id,
            "default_name": manifest.name,
            "values": values,
            "setup_data": setup_data or {},
        }
        conf_key = f"{CONF_PROVIDERS}/{instance_id}"
        self.set(conf_key, raw)
        config = self.seed_config(raw)
        try:
            await self.mass.load_provider_config(config)
        except BaseException:
            self.remove(conf_key)  # the whole config goes, last_error included
            raise
        return config

    def _encrypt_values(self, values: dict[str, ConfigValueType]) -> dict[str, Any]:
        return {
            key: self.encrypt_string(value) if isinstance(value, str) else value
            for key, value in values.items()
        }

    def _decrypt_values(self, values: dict[str, Any]) -> dict[str, Any]:
        decrypted: dict[str, Any] = {}
        for key, value in values.items():
            with contextlib.suppress(InvalidDataError):
                decrypted[key] = self.decrypt_string(value) if isinstance(value, str) else value
        return decrypted


def provider_error_from_exc(exc: BaseException) -> Any:
    """
    Return the ``ProviderError`` MA records for a load failure (``mass._provider_error_from_exc``).

    :param exc: The load error.
    """
    # newer models only
    from music_assistant_models.config_entries import (  # type: ignore[attr-defined,unused-ignore]  # noqa: PLC0415
        ProviderError,
    )
    from music_assistant_models.errors import MusicAssistantError  # noqa: PLC0415

    message = str(exc) or type(exc).__name__
    if isinstance(exc, MusicAssistantError):
        return ProviderError(
            error_code=exc.error_code,
            message=message,
            translation_key=getattr(exc, "translation_key", None),
            translation_args=list(getattr(exc, "translation_args", [])),
            translation_owner=getattr(exc, "translation_owner", None),
        )
    return ProviderError(error_code=999, message=message)


def reconfigure_reason(last_error: Any) -> FlowReason:
    """
    Return why a reconfigure flow runs, from the stored ``last_error`` (``_reconfigure_reason``).

    :param last_error: The stored value (a dict; a legacy plain string counts as "error").
    """
    if not last_error:
        return "user"
    code = last_error.get("error_code") if isinstance(last_error, dict) else None
    return "auth" if code in AUTH_ERROR_CODES else "error"
