"""
What tells Amazon a person's browser from an app: the page scripts it runs, the passkeys it holds.

Amazon's sign-in pages run scripts in a browser. One of them writes an encrypted fingerprint of
the browser into the form's hidden ``metadata1`` field (it then starts with ``ECdITeCs:``; a
client that runs no scripts sends back the placeholder the page carries). Amazon's checks against
automation (a captcha that comes back after every answer, the AWS WAF challenge, the CVF puzzle)
let a sign-in with such a fingerprint through and stop one without. A browser also holds the
user's passkeys and answers Amazon's WebAuthn challenge with one, which an app like ours cannot.

The simulator models both, so that a test can sign in "as the user's browser" (see the tests'
browser) while a client that has neither stays blocked. That is the reason a sign-in in the
user's own browser succeeds for accounts whose automatic sign-in cannot (passkey only, a captcha
loop, a robot wall; codes by text message need only a person to read them).

Both are stand-ins, by design: Amazon's real fingerprint is an XXTEA-encrypted JSON document and
a real passkey assertion an ECDSA signature over authenticator data; here a marked string and an
HMAC play their part. The name of the field that carries the assertion is not known from a
captured page (the page's script fills it in); :data:`PASSKEY_RESPONSE_FIELD` is ours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Final

#: How the fingerprint of Amazon's page scripts begins (captured pages: ``ECdITeCs:...``).
BROWSER_FINGERPRINT_PREFIX: Final = "ECdITeCs:"
#: The field the passkey form posts the browser's WebAuthn assertion in.
PASSKEY_RESPONSE_FIELD: Final = "webAuthnGetResponse"


def page_script_fingerprint(user_agent: str) -> str:
    """
    Compute what Amazon's page scripts put into ``metadata1`` when they run in a browser.

    :param user_agent: The browser's user agent (part of what the real script collects).
    :return: The fingerprint.
    """
    payload = json.dumps({"userAgent": user_agent, "nonce": secrets.token_hex(8)})
    return BROWSER_FINGERPRINT_PREFIX + base64.b64encode(payload.encode()).decode()


def ran_page_scripts(metadata1: str) -> bool:
    """
    Tell whether a posted ``metadata1`` is the fingerprint of Amazon's page scripts.

    :param metadata1: The posted value.
    :return: Whether it is (and not the page's placeholder).
    """
    return metadata1.startswith(BROWSER_FINGERPRINT_PREFIX) and len(metadata1) > len(
        BROWSER_FINGERPRINT_PREFIX
    )


@dataclass(slots=True)
class SimPasskey:
    """
    A passkey of one account, as the user's phone or password manager holds it.

    :param email: The account it signs in to.
    :param credential_id: The credential's public id.
    :param secret: What only the authenticator knows.
    """

    email: str
    credential_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def answer(self, parameters: str) -> str:
        """
        Answer a passkey form's challenge, as the browser does with the user's passkey.

        :param parameters: The form's ``webAuthnGetParametersForButton`` (base64 JSON with
            ``rpId`` and ``challenge``).
        :return: The value of :data:`PASSKEY_RESPONSE_FIELD`.
        :raises ValueError: The parameters are not a WebAuthn request.
        """
        request = json.loads(base64.b64decode(parameters))
        if not isinstance(request, dict) or not {"rpId", "challenge"} <= request.keys():
            msg = "not a WebAuthn request"
            raise ValueError(msg)
        signature = self.signature(str(request["rpId"]), str(request["challenge"]))
        response = {"id": self.credential_id, "signature": signature}
        return base64.b64encode(json.dumps(response).encode()).decode()

    def signature(self, rp_id: str, challenge: str) -> str:
        """
        Sign a relying party's challenge.

        :param rp_id: The relying party, e.g. ``amazon.com``.
        :param challenge: Its challenge.
        :return: The signature (hex).
        """
        message = f"{rp_id}\n{challenge}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


def read_passkey_response(value: str) -> tuple[str, str] | None:
    """
    Split a posted assertion into credential id and signature.

    :param value: The posted :data:`PASSKEY_RESPONSE_FIELD`.
    :return: ``(credential id, signature)``, or ``None`` when it is not an assertion.
    """
    try:
        response = json.loads(base64.b64decode(value, validate=True))
    except (ValueError, TypeError):
        return None
    if not isinstance(response, dict):
        return None
    credential_id, signature = response.get("id"), response.get("signature")
    if not isinstance(credential_id, str) or not isinstance(signature, str):
        return None
    return credential_id, signature
