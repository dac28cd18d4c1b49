"""
Names the Music Assistant adapter shares: the domain, config keys, action ids, entry keys, folders.

The config keys are also the keys of the stored values in Music Assistant's ``settings.json``
(2.9) and of the setup data (2.10+): renaming one loses the user's settings. Entry and action
keys are prefixed: MA's frontend looks up ``settings.<key>.label`` first, so a bare "sign_in"
could pick up one of MA's own translations.
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
#: MA names a provider's instances ``<domain>--<random>``.
INSTANCE_PREFIX: Final = f"{DOMAIN}--"

# --- credentials (the settings form on 2.9, the setup flow on 2.10+) ---------------------------
CONF_EMAIL: Final = "amazon_email"
CONF_PASSWORD: Final = "amazon_password"  # noqa: S105 - a config key, not a password
CONF_TOTP_KEY: Final = "amazon_2fa_key"
CONF_MARKETPLACE: Final = "amazon_domain"
#: How the account signs in: :data:`METHOD_PASSWORD` (by itself, with the stored password and
#: 2FA key) or :data:`METHOD_BROWSER` (the user, in their own browser; nothing is stored).
CONF_SIGN_IN_METHOD: Final = "amazon_sign_in_method"
METHOD_PASSWORD: Final = "password"  # noqa: S105 - a choice, not a password
METHOD_BROWSER: Final = "browser"

# --- options ---------------------------------------------------------------------------------
CONF_REFRESH_ENABLED: Final = "cookie_refresh_enabled"
CONF_REFRESH_INTERVAL: Final = "cookie_refresh_interval_days"
CONF_NOTIFY: Final = "notify_on_failure"
#: Hand the session to MA's own alexa (player) provider when it signs in the same account.
CONF_ALEXA_PLAYERS: Final = "alexa_players_handoff"
DEFAULT_REFRESH_INTERVAL: Final = 7
REFRESH_INTERVAL_RANGE: Final = (5, 13)

# --- form plumbing ---------------------------------------------------------------------------
#: Hidden value naming a session signed in from the form (or the setup flow) that the instance
#: takes over when it loads. A random id, never a secret.
CONF_PENDING_SESSION: Final = "pending_session"
CONF_CAPTCHA_ANSWER: Final = "amazon_captcha_answer"
#: The address of Amazon's last page of a sign-in in the browser, pasted by the user.
CONF_FINAL_ADDRESS: Final = "amazon_final_address"
#: Hidden value naming the pending folder (and link) of a sign-in in the browser that waits
#: for its address, so that 2.9's form finds it again after a restart. Never a secret.
CONF_BROWSER_ATTEMPT: Final = "browser_sign_in_attempt"
#: The id the MA frontend adds to the values of every get_entries call of one dialog.
SESSION_ID: Final = "session_id"

# --- action ids (ACTION entries' ``action``) -------------------------------------------------
ACTION_SIGN_IN: Final = "alexa_sign_in"
ACTION_CHECK_KEY: Final = "alexa_check_2fa_key"
ACTION_TEST: Final = "alexa_test_auth"
ACTION_REFRESH: Final = "alexa_refresh_now"
ACTION_RESET: Final = "alexa_reset_auth"
ACTION_SHOW_CODE: Final = "alexa_show_2fa_code"
ACTION_BROWSER: Final = "alexa_sign_in_browser"
ACTION_BROWSER_FINISH: Final = "alexa_finish_browser_sign_in"

# --- keys of the entries that show text --------------------------------------------------------
ENTRY_STATUS: Final = "alexa_status"
ENTRY_PROBLEM: Final = "alexa_problem"
ENTRY_NOTICE: Final = "alexa_notice"  # + "_<n>"
ENTRY_CHECK: Final = "alexa_check"  # + "_<n>"
ENTRY_KEY_CODE: Final = "alexa_2fa_key_code"
ENTRY_KEY_PROBLEM: Final = "alexa_2fa_key_problem"
ENTRY_CAPTCHA: Final = "alexa_captcha"
ENTRY_CAPTCHA_IMAGE: Final = "alexa_captcha_image"
ENTRY_HEADING: Final = "alexa_heading"
ENTRY_INTRO: Final = "alexa_intro"
ENTRY_NOT_RUNNING: Final = "alexa_not_running"
ENTRY_BROWSER_LINK: Final = "alexa_browser_link"
ENTRY_BROWSER_COPY: Final = "alexa_browser_copy"
#: The captcha step's "sign in in my browser instead" (+ "_<n>" for the picture's number).
ENTRY_USE_BROWSER: Final = "alexa_use_browser"

# --- setup-flow steps (also the keys of their strings in strings.json) ---------------------------
STEP_USER: Final = "user"
STEP_SIGN_IN: Final = "sign_in"
STEP_CAPTCHA: Final = "captcha"
STEP_BROWSER: Final = "browser"

# --- labels the texts refer to -------------------------------------------------------------------
SIGN_IN_LABEL: Final = "Sign in now"
CONTINUE_LABEL: Final = "Continue sign-in"
REFRESH_LABEL: Final = "Refresh now"
BROWSER_LABEL: Final = "Sign in in my browser"
BROWSER_FINISH_LABEL: Final = "Finish sign-in"
#: The setup flow's choice of :data:`METHOD_BROWSER`, and the field it is made in.
BROWSER_CHOICE_LABEL: Final = "In my browser"
METHOD_FIELD_LABEL: Final = "How to sign in"

#: Folder under ``mass.storage_path`` holding one sub-folder per instance.
STORAGE_FOLDER: Final = "alexa_auth"
#: Folder (inside STORAGE_FOLDER) for sessions signed in before their instance runs.
PENDING_FOLDER: Final = ".pending"
