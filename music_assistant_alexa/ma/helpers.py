"""
What the Music Assistant adapter's modules share: paths, secrets, errors, notices, managers.

Everything that needs to know how Music Assistant stores values, reports errors or lays out its
data folder lives here or in the other modules of this package; the auth core never sees it.

Secret values reach the adapter in one of three shapes, depending on the path through MA:
plaintext (typed into the add dialog, or collected by a setup flow), an encrypted string
(``_encrypted_...``, the stored raw value) or MA's placeholder ``this_value_is_encrypted``
(an untouched secret field in the edit dialog). :func:`resolve_secret` turns each into the real
value; nothing here ever writes a secret into a message, a log line or a config entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from music_assistant_models.constants import SECURE_STRING_SUBSTITUTE
from music_assistant_models.enums import EventType
from music_assistant_models.errors import LoginFailed

from music_assistant_alexa.auth.clock import SYSTEM_CLOCK, Clock
from music_assistant_alexa.auth.endpoints import DEFAULT_MARKETPLACE
from music_assistant_alexa.auth.http import DEFAULT_PACE, DEFAULT_TIMEOUT
from music_assistant_alexa.auth.session import AuthSessionManager
from music_assistant_alexa.auth.store import SessionStore

from .constants import DOMAIN, PENDING_FOLDER, STORAGE_FOLDER

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.auth.errors import AlexaAuthError
    from music_assistant_alexa.auth.models import AuthEvent
    from music_assistant_alexa.auth.totp import TotpKey

_LOGGER = logging.getLogger(__name__)

#: Prefix of a value encrypted by MA's config controller (``ENCRYPT_SUFFIX`` in MA).
ENCRYPTED_PREFIX: Final = "_encrypted_"
#: A pending session older than this is abandoned (its dialog or flow was closed).
PENDING_MAX_AGE: Final = 3600.0
_PENDING_META_SUFFIX: Final = ".json"
_SAFE_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: Phrases whose presence makes MA's frontend swallow an error toast (frontend
#: ``plugins/api``): a message containing one would reach the user as nothing at all.
_SUPPRESSED_PHRASES: Final = (
    (re.compile(r"invalid credentials", re.IGNORECASE), "credentials Amazon did not accept"),
    (re.compile(r"invalid username", re.IGNORECASE), "unknown e-mail address"),
    (re.compile(r"invalid password", re.IGNORECASE), "password Amazon did not accept"),
    (re.compile(r"authentication failed", re.IGNORECASE), "sign-in did not succeed"),
    (re.compile(r"authentication required", re.IGNORECASE), "sign-in needed"),
    (re.compile(r"unauthori[sz]ed", re.IGNORECASE), "not allowed"),
)


@dataclass(slots=True)
class AdapterSettings:
    """
    How the adapter builds its session managers; the defaults are right for a real MA.

    Tests replace :data:`SETTINGS` to reach the Amazon simulator with a fake clock and no
    pacing.
    """

    clock: Clock = SYSTEM_CLOCK
    pace: float = DEFAULT_PACE
    request_timeout: float = DEFAULT_TIMEOUT
    #: Base URL every Amazon host is sent to (the simulator), None for the real Amazon.
    endpoint: str | None = None
    #: Jitter of the refresh schedule (fraction of the interval).
    refresh_jitter: float = 0.1
    #: Clock the background work (refresh schedule, reconnect) sleeps on; None: ``clock``.
    #: Tests give it a clock whose sleeps wait until the test moves time on.
    background_clock: Clock | None = None


SETTINGS = AdapterSettings()


def create_manager(
    mass: MusicAssistant,
    store_dir: Path,
    marketplace: str,
    *,
    on_event: Callable[[AuthEvent], None] | None = None,
) -> AuthSessionManager:
    """
    Return a session manager for one account folder, on MA's shared HTTP session.

    The manager keeps its own cookies per account, so sharing ``mass.http_session`` (its
    connection pool) is safe.

    :param mass: The MusicAssistant instance.
    :param store_dir: The account's folder.
    :param marketplace: The account's marketplace.
    :param on_event: Called with every auth event.
    """
    settings = SETTINGS
    return AuthSessionManager(
        session=mass.http_session,
        store_dir=store_dir,
        marketplace=marketplace,
        endpoint=settings.endpoint,
        clock=settings.clock,
        pace=settings.pace,
        request_timeout=settings.request_timeout,
        on_event=on_event,
    )


# --- paths -----------------------------------------------------------------------------------


def storage_root(mass: MusicAssistant) -> Path:
    """
    Return ``<mass.storage_path>/alexa_auth``.

    :param mass: The MusicAssistant instance.
    """
    return Path(str(mass.storage_path)) / STORAGE_FOLDER


def instance_dir(mass: MusicAssistant, instance_id: str) -> Path:
    """
    Return the store folder of one provider instance.

    :param mass: The MusicAssistant instance.
    :param instance_id: The provider instance id.
    """
    return storage_root(mass) / safe_id(instance_id)


def pending_dir(mass: MusicAssistant, pending_id: str) -> Path:
    """
    Return the folder of a session signed in from a form before the instance took it over.

    :param mass: The MusicAssistant instance.
    :param pending_id: The pending session's id (a form's session id or a flow id).
    """
    return storage_root(mass) / PENDING_FOLDER / safe_id(pending_id)


def safe_id(raw: str) -> str:
    """
    Return an id that is safe as one path component.

    MA's ids (``alexa_auth--AbC123xy``, nanoid session ids, uuid hex flow ids) pass unchanged;
    anything else is replaced by a hash, so a crafted id cannot leave the storage folder.

    :param raw: The id.
    """
    if _SAFE_ID.match(raw) and raw not in (".", ".."):
        return raw
    return "h" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def new_pending_id() -> str:
    """Return a fresh random id for a pending session."""
    return secrets.token_hex(12)


# --- pending sessions ------------------------------------------------------------------------


def _meta_path(folder: Path) -> Path:
    return folder.with_name(folder.name + _PENDING_META_SUFFIX)


def prepare_pending(folder: Path, *, copy_from: Path | None, now: float) -> None:
    """
    Create (or reuse) a pending session folder, seeded with an instance's folder.

    Seeding a re-sign-in with the instance's own folder keeps the device identity (Amazon sees
    the same device, not a second one) and the password-attempt record (a new dialog does not
    hand out fresh attempts). Blocking; run it in a thread.

    :param folder: The pending folder.
    :param copy_from: The instance's folder, when re-signing in an existing instance.
    :param now: Epoch seconds, recorded to expire abandoned folders.
    """
    if folder.exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.parent.chmod(0o700)
    seeded = copy_from is not None and copy_from.is_dir()
    if seeded and copy_from is not None:
        shutil.copytree(copy_from, folder)
        SessionStore(folder).fix_permissions()
    meta = {"created": now, "seeded": seeded}
    _meta_path(folder).write_text(json.dumps(meta), encoding="utf-8")
    _meta_path(folder).chmod(0o600)


def pending_was_seeded(folder: Path) -> bool:
    """
    Return whether a pending folder started as a copy of an instance's folder.

    :param folder: The pending folder.
    """
    try:
        meta = json.loads(_meta_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(isinstance(meta, dict) and meta.get("seeded"))


def discard_pending(folder: Path) -> None:
    """
    Delete a pending folder and its metadata. Blocking; run it in a thread.

    :param folder: The pending folder.
    """
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        _meta_path(folder).unlink()


def adopt_pending(pending: Path, target: Path, *, now: float) -> bool:
    """
    Make a pending session the instance's session (a rename; the old one is backed up).

    Blocking; run it in a thread.

    :param pending: The pending folder.
    :param target: The instance's folder.
    :param now: Epoch seconds, for the backup's name.
    :returns: False when there was no pending session to adopt.
    """
    if not (pending / "registration.json").exists():
        return False
    if target.exists():
        SessionStore(target).backup(now=now)
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    pending.rename(target)
    with contextlib.suppress(FileNotFoundError):
        _meta_path(pending).unlink()
    return True


def registered_marketplace(folder: Path) -> str:
    """
    Return the marketplace a stored device was registered for (amazon.com when unknown).

    Deregistration goes to the marketplace's sign-in region, so a folder opened only to sign
    out must use the right one. Reads one small file.

    :param folder: A session folder.
    """
    try:
        data = json.loads((folder / "registration.json").read_text(encoding="utf-8"))
        market = data["formerRegistrationData"]["marketplace"]
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_MARKETPLACE
    return market if isinstance(market, str) and market else DEFAULT_MARKETPLACE


def stale_pending(mass: MusicAssistant, *, now: float, keep: set[str]) -> list[Path]:
    """
    Return pending folders older than :data:`PENDING_MAX_AGE` (their dialog was abandoned).

    Blocking; run it in a thread.

    :param mass: The MusicAssistant instance.
    :param now: Epoch seconds.
    :param keep: Names of pending folders still in use.
    """
    root = storage_root(mass) / PENDING_FOLDER
    if not root.is_dir():
        return []
    stale: list[Path] = []
    for meta in root.glob(f"*{_PENDING_META_SUFFIX}"):
        folder = meta.with_suffix("")
        if folder.name in keep:
            continue
        try:
            created = float(json.loads(meta.read_text(encoding="utf-8"))["created"])
        except (OSError, ValueError, KeyError, TypeError):
            created = meta.stat().st_mtime if meta.exists() else 0.0
        if now - created > PENDING_MAX_AGE:
            stale.append(folder)
    return stale


def removed_instances(mass: MusicAssistant, *, configured: set[str]) -> list[Path]:
    """
    Return session folders of instances that are no longer in MA's configuration.

    MA unloads an instance it removes only when the instance is running; a disabled one, or
    one that failed to load, is removed without a word to the provider. Blocking; run it in a
    thread.

    :param mass: The MusicAssistant instance.
    :param configured: Folder names of the instances MA still has (see :func:`safe_id`).
    """
    root = storage_root(mass)
    if not root.is_dir():
        return []
    return [
        folder
        for folder in root.iterdir()
        if folder.is_dir()
        and folder.name.startswith(f"{DOMAIN}--")
        and ".backup-" not in folder.name
        and folder.name not in configured
    ]


# --- stored values and secrets ----------------------------------------------------------------


def _decrypt(mass: MusicAssistant, raw: str) -> str | None:
    try:
        value = mass.config.decrypt_string(raw)
    except Exception:  # noqa: BLE001 - MA raises its own or cryptography's errors here
        # The value is not logged: it is a secret, even when it cannot be decrypted.
        _LOGGER.warning("A stored secret could not be decrypted; enter it again")
        return None
    return value if isinstance(value, str) else None


def _setup_data(mass: MusicAssistant, instance_id: str) -> Mapping[str, Any]:
    data = mass.config.get(f"providers/{instance_id}/setup_data")
    return data if isinstance(data, dict) else {}


def stored_value(mass: MusicAssistant, instance_id: str, key: str) -> Any:
    """
    Return a stored value of an instance: from the setup data (newer MA), else the config.

    Newer MA encrypts every string of the setup data; older MA encrypts only secure values.
    Either way an encrypted string is decrypted here.

    :param mass: The MusicAssistant instance.
    :param instance_id: The provider instance id.
    :param key: The config key.
    """
    setup_data = _setup_data(mass, instance_id)
    raw = setup_data.get(key)
    if raw is None:
        raw = mass.config.get_raw_provider_config_value(instance_id, key)
    if isinstance(raw, str) and raw.startswith(ENCRYPTED_PREFIX):
        return _decrypt(mass, raw)
    return raw


def stored_secret(mass: MusicAssistant, instance_id: str, key: str) -> str | None:
    """
    Return an instance's stored secret in plaintext, or None.

    :param mass: The MusicAssistant instance.
    :param instance_id: The provider instance id.
    :param key: The config key of the secret.
    """
    value = stored_value(mass, instance_id, key)
    return value if isinstance(value, str) and value else None


def resolve_secret(
    mass: MusicAssistant,
    instance_id: str | None,
    values: Mapping[str, Any] | None,
    key: str,
) -> str | None:
    """
    Return the real value of a secret form field, whatever shape it arrived in.

    - absent (the first call for an existing instance): the stored value;
    - MA's placeholder (an untouched field of the edit dialog): the stored value;
    - an encrypted string (a stored raw value passed straight in): decrypted;
    - plaintext (typed by the user): as is; an empty field: None.

    :param mass: The MusicAssistant instance.
    :param instance_id: The existing instance, or None in the add dialog.
    :param values: The form values passed to ``get_config_entries``.
    :param key: The config key of the secret.
    """
    if values is None or key not in values:
        return stored_secret(mass, instance_id, key) if instance_id else None
    raw = values[key]
    if not isinstance(raw, str) or not raw:
        return None
    if raw == SECURE_STRING_SUBSTITUTE:
        return stored_secret(mass, instance_id, key) if instance_id else None
    if raw.startswith(ENCRYPTED_PREFIX):
        return _decrypt(mass, raw)
    return raw


def resolve_value(
    mass: MusicAssistant,
    instance_id: str | None,
    values: Mapping[str, Any] | None,
    key: str,
) -> Any:
    """
    Return a plain form field's value: from the form, else the instance's stored value.

    :param mass: The MusicAssistant instance.
    :param instance_id: The existing instance, or None in the add dialog.
    :param values: The form values passed to ``get_config_entries``.
    :param key: The config key.
    """
    if values is not None and key in values:
        return values[key]
    return stored_value(mass, instance_id, key) if instance_id else None


# --- errors and notices -----------------------------------------------------------------------


def avoid_suppressed(text: str) -> str:
    """
    Reword the phrases MA's frontend hides errors for (the message would otherwise vanish).

    :param text: A message for the user.
    """
    for pattern, replacement in _SUPPRESSED_PHRASES:
        text = pattern.sub(replacement, text)
    return text


def user_message(err: AlexaAuthError) -> str:
    """
    Return the message for the user: what happened, Amazon's words, and the guide link.

    :param err: The auth core's error.
    """
    return avoid_suppressed(err.user_text())


def ma_error(err: AlexaAuthError) -> LoginFailed:
    """
    Return the MA error to raise for an auth error that the user has to fix.

    ``LoginFailed`` exists in every supported MA, counts as "authentication required" on
    newer MA (status ``auth_required``, with a Reconfigure button) and, unlike
    ``AuthenticationRequired``, does not share its error code with MA's own API sign-in.

    :param err: The auth core's error.
    """
    return LoginFailed(user_message(err))


def publish_last_error(mass: MusicAssistant, instance_id: str, message: str | None) -> None:
    """
    Set (or clear) a loaded provider's ``last_error`` and tell the frontend.

    Newer MA keeps a structured error (``update_provider_last_error``; a login error makes the
    status "auth_required"); older MA keeps a string at ``providers/<id>/last_error``. Must run
    after the load finished, or the loader clears it again.

    :param mass: The MusicAssistant instance.
    :param instance_id: The provider instance id.
    :param message: The message, or None to clear it.
    """
    update = getattr(mass.config, "update_provider_last_error", None)
    error: Any = None
    if update is not None and message is not None:
        try:
            # models 1.1.133 and later (mypy checks against whichever is installed)
            from music_assistant_models.config_entries import (  # type: ignore[attr-defined,unused-ignore]  # noqa: PLC0415
                ProviderError,
            )
        except ImportError:
            update = None
        else:
            error = ProviderError(error_code=LoginFailed.error_code, message=message)
    if update is not None:
        update(instance_id, error)
    elif mass.config.get(f"providers/{instance_id}"):
        # The check keeps a removed instance from coming back as a stub config entry.
        mass.config.set(f"providers/{instance_id}/last_error", message)
    else:
        return
    mass.signal_event(EventType.PROVIDERS_UPDATED, data=mass.get_providers())


# --- the live code ----------------------------------------------------------------------------


def code_hint(key: TotpKey, now: float) -> str:
    """
    Return the sentences showing the current one-time code, to compare with the app.

    :param key: The validated 2FA key.
    :param now: Epoch seconds.
    """
    code = key.code_at(now)
    left = int(key.seconds_left(now))
    return (
        f"Your authenticator app should show {code[:3]} {code[3:]} right now ({left} s left). "
        "A different code means the key is not the one in your app."
    )


def live_code_text(key: TotpKey, now: float) -> str:
    """
    Return the verdict on a valid 2FA key, with the code it makes now.

    :param key: The validated 2FA key.
    :param now: Epoch seconds.
    """
    return f"The 2FA key is valid. {code_hint(key, now)}"


# --- repeated failures ------------------------------------------------------------------------

# A per-process salt: the fingerprints only compare credentials within this process and are
# useless to anyone who reads them.
_FINGERPRINT_SALT: Final = secrets.token_bytes(32)


def credential_fingerprint(*parts: str) -> str:
    """
    Return a salted fingerprint of credentials, to recognise the same ones without keeping them.

    :param parts: E-mail, password, key, marketplace.
    """
    payload = "\0".join(parts).encode()
    return hmac.new(_FINGERPRINT_SALT, payload, hashlib.sha256).hexdigest()


async def run_blocking(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """
    Run blocking file work in a thread, so a slow disk does not stall MA's event loop.

    :param func: The function.
    :param args: Its positional arguments.
    :param kwargs: Its keyword arguments.
    """
    return await asyncio.to_thread(func, *args, **kwargs)
