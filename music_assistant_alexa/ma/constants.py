"""
Keys shared by the Music Assistant adapter: the provider's domain, config keys and action ids.

The config keys are also the keys of the stored values in Music Assistant's ``settings.json``
(older MA) and of the setup data (newer MA): renaming one loses the user's settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from music_assistant_models.enums import ProviderFeature

#: The provider offers no media features: it signs in and keeps the session.
SUPPORTED_FEATURES: Final[set[ProviderFeature]] = set()

#: The provider's domain; also the folder name under ``music_assistant/providers``. It must not
#: be "alexa", which is Music Assistant's own (player) provider.
DOMAIN: Final = "alexa_auth"

# --- credentials (the add form on older MA, the setup flow on newer MA) -----------------------
CONF_EMAIL: Final = "amazon_email"
CONF_PASSWORD: Final = "amazon_password"  # noqa: S105 - a config key, not a password
CONF_TOTP_KEY: Final = "amazon_2fa_key"
CONF_MARKETPLACE: Final = "amazon_domain"
SECRET_KEYS: Final = frozenset({CONF_PASSWORD, CONF_TOTP_KEY})

# --- options ---------------------------------------------------------------------------------
CONF_REFRESH_ENABLED: Final = "cookie_refresh_enabled"
CONF_REFRESH_INTERVAL: Final = "cookie_refresh_interval_days"
CONF_NOTIFY: Final = "notify_on_failure"
DEFAULT_REFRESH_INTERVAL: Final = 7
REFRESH_INTERVAL_RANGE: Final = (5, 13)

# --- form plumbing ---------------------------------------------------------------------------
#: Hidden value naming a session signed in from the form (or the setup flow) that the instance
#: takes over when it loads. A random id, never a secret.
CONF_PENDING_SESSION: Final = "pending_session"
CONF_CAPTCHA_ANSWER: Final = "amazon_captcha_answer"
#: The id the MA frontend adds to the values of every get_entries call of one dialog.
SESSION_ID: Final = "session_id"

# --- action ids (ACTION entries' ``action``) -------------------------------------------------
# Prefixed: MA's frontend looks up ``settings.<action>.label`` before using our button text, so
# a bare "sign_in" could pick up one of MA's own translations.
ACTION_SIGN_IN: Final = "alexa_sign_in"
ACTION_CHECK_KEY: Final = "alexa_check_2fa_key"
ACTION_TEST: Final = "alexa_test_auth"
ACTION_REFRESH: Final = "alexa_refresh_now"
ACTION_RESET: Final = "alexa_reset_auth"

#: Folder under ``mass.storage_path`` holding one sub-folder per instance.
STORAGE_FOLDER: Final = "alexa_auth"
#: Folder (inside STORAGE_FOLDER) for sessions signed in from a form before Save/finish.
PENDING_FOLDER: Final = ".pending"
