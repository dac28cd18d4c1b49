"""
The auth core: sign in to Amazon, register a device, keep cookies and tokens fresh.

Nothing here imports Music Assistant or the simulator: the provider adapter and the CLI sit on
top of it, and the simulator is the other side of the same protocol.
"""

from __future__ import annotations

from .browser_sign_in import BrowserSignInLink
from .errors import AlexaAuthError, ErrorCategory, browser_sign_in_helps
from .pages import CaptchaKind, OtpDevice, OtpMethod, Page, PageKind, ParsedForm, classify_page
from .session import AuthSessionManager, ResetResult, SessionStatus
from .totp import KeyProblem, TotpKey, parse_totp_key

__all__ = [
    "AlexaAuthError",
    "AuthSessionManager",
    "BrowserSignInLink",
    "CaptchaKind",
    "ErrorCategory",
    "KeyProblem",
    "OtpDevice",
    "OtpMethod",
    "Page",
    "PageKind",
    "ParsedForm",
    "ResetResult",
    "SessionStatus",
    "TotpKey",
    "browser_sign_in_helps",
    "classify_page",
    "parse_totp_key",
]
