"""
What Music Assistant stores for an instance, and the secrets in it, read as each MA keeps them.

2.10+ keeps what the setup flow collected in the instance's ``setup_data`` (every string
encrypted); 2.9 keeps the form's values (secrets encrypted). A secret reaches the adapter in one
of three shapes: plaintext (typed into a dialog, or collected by a flow), an encrypted string
(``_encrypted_...``, a stored raw value) or MA's placeholder ``this_value_is_encrypted`` (an
untouched secret field of 2.9's edit dialog); each is turned into the real value here, and none
is ever written into a message, a log line or a config entry.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from music_assistant_models.constants import SECURE_STRING_SUBSTITUTE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from music_assistant.mass import MusicAssistant

_LOGGER = logging.getLogger(__name__)

#: Prefix of a value encrypted by MA's config controller (``ENCRYPT_SUFFIX`` in MA).
ENCRYPTED_PREFIX: Final = "_encrypted_"
#: MA's settings path of the provider configs.
PROVIDERS_PATH: Final = "providers"


def configured_instances(mass: MusicAssistant) -> set[str]:
    """
    Return the ids of every provider instance in MA's configuration (ours and others).

    :param mass: The MusicAssistant instance.
    """
    return {str(instance_id) for instance_id in mass.config.get(PROVIDERS_PATH) or {}}


def stored_value(mass: MusicAssistant, instance_id: str, key: str) -> Any:
    """
    Return a stored value of an instance (decrypted): the setup data's, else the config's.

    :param mass: The MusicAssistant instance.
    :param instance_id: The provider instance id.
    :param key: The config key.
    """
    setup_data = mass.config.get(f"{PROVIDERS_PATH}/{instance_id}/setup_data")
    if isinstance(setup_data, dict) and key in setup_data:
        # The setup data has the last word, a cleared value (None) included: an instance
        # carried over from 2.9 also has its old values, which must not come back through it.
        raw = setup_data[key]
    else:
        raw = mass.config.get_raw_provider_config_value(instance_id, key)
    return _decrypted(mass, raw)


def stored_text(mass: MusicAssistant, instance_id: str, key: str) -> str:
    """
    Return a stored value of an instance as text ("" when it is not a string or not set).

    :param mass: The MusicAssistant instance.
    :param instance_id: The provider instance id.
    :param key: The config key (a secret's too: the plaintext is returned).
    """
    value = stored_value(mass, instance_id, key)
    return value if isinstance(value, str) else ""


def stored_secret(mass: MusicAssistant, instance_id: str, key: str) -> str | None:
    """
    Return an instance's stored secret in plaintext, or None.

    :param mass: The MusicAssistant instance.
    :param instance_id: The provider instance id.
    :param key: The config key of the secret.
    """
    return stored_text(mass, instance_id, key) or None


def form_value(
    mass: MusicAssistant, instance_id: str | None, values: Mapping[str, Any] | None, key: str
) -> Any:
    """
    Return a form field's real value: the form's (a secret's placeholder: the stored one).

    A field missing from the form is the stored value too; an empty secret field is None.

    :param mass: The MusicAssistant instance.
    :param instance_id: The existing instance, or None in the add dialog.
    :param values: The form values passed to ``get_config_entries``.
    :param key: The config key.
    """
    raw = (values or {}).get(key, SECURE_STRING_SUBSTITUTE)
    if raw == SECURE_STRING_SUBSTITUTE:
        return stored_value(mass, instance_id, key) if instance_id else None
    return _decrypted(mass, raw)


def _decrypted(mass: MusicAssistant, raw: Any) -> Any:
    if not isinstance(raw, str) or not raw.startswith(ENCRYPTED_PREFIX):
        return raw
    try:
        value = mass.config.decrypt_string(raw)
    except Exception:  # noqa: BLE001 - MA raises its own or cryptography's errors here
        # The value is not logged: it is a secret, even when it cannot be decrypted.
        _LOGGER.warning("A stored secret could not be decrypted; enter it again")
        return None
    if value == SECURE_STRING_SUBSTITUTE:
        # MA's placeholder stored as the value: an API client saved a form without leaving the
        # untouched secret out (MA's own frontend does). It is no secret: treat it as missing.
        return None
    return value if isinstance(value, str) else None


def clear_stored_value(mass: MusicAssistant, instance_id: str, key: str) -> None:
    """
    Clear a stored value of an instance, wherever its generation of MA keeps it.

    :param mass: The MusicAssistant instance.
    :param instance_id: The provider instance id.
    :param key: The config key.
    """
    base = f"{PROVIDERS_PATH}/{instance_id}"
    for where in ("setup_data", "values"):
        if mass.config.get(f"{base}/{where}/{key}") is not None:
            mass.config.set(f"{base}/{where}/{key}", None)


def stored_last_error(mass: MusicAssistant, instance_id: str) -> str | None:
    """
    Return why an instance last failed, as MA keeps it (2.9: a string; 2.10+: its message).

    :param mass: The MusicAssistant instance.
    :param instance_id: The provider instance id.
    """
    raw = mass.config.get(f"{PROVIDERS_PATH}/{instance_id}/last_error")
    if isinstance(raw, dict):
        raw = raw.get("message")
    return raw if isinstance(raw, str) and raw.strip() else None
