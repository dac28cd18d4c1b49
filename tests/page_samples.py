"""
Sample Amazon sign-in pages for the page classifier's tests, kept as files in fixtures/pages.

Written for these tests from the documented structure of Amazon's authportal pages (form ids,
field names, error-box markup and texts); they are not captured pages. Each keeps the parts the
classifier must see or must ignore: the real forms and ids, hidden fields, the <noscript>
notice every Amazon page carries, inline scripts and styles, and some unrelated chrome. The
builders below make small ad-hoc pages in the same chrome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

PAGES: Final = Path(__file__).parent / "fixtures" / "pages"
EMAIL: Final = "jane.doe@example.com"
HOST: Final = "https://www.amazon.com"
SIGN_IN_URL: Final = f"{HOST}/ap/signin?openid.mode=checkid_setup&openid.assoc_handle=amzn_dp"
#: Amazon's text on the forced-passkey sample.
PASSKEY_TEXT: Final = (
    "This device does not support passkeys. For security reasons, please sign in on the device "
    "where you created your passkey."
)
#: Amazon's text on the unusual-activity sample.
UNUSUAL_ACTIVITY_TEXT: Final = (
    "We detected unusual activity on your account and have temporarily locked it to protect you."
)


def sample(name: str) -> str:
    """
    Return one sample page.

    :param name: The file name without ``.html``, e.g. ``combined``.
    :return: The page.
    """
    return (PAGES / f"{name}.html").read_text(encoding="utf-8")


#: Every sample, by name.
ALL: Final = {path.stem: path.read_text(encoding="utf-8") for path in sorted(PAGES.glob("*.html"))}

_HEAD: Final = """<!DOCTYPE html>
<html lang="en-us" class="a-no-js">
<head>
  <meta charset="utf-8">
  <title dir="ltr">{title}</title>
  <link rel="stylesheet" href="https://m.media-amazon.com/images/I/auth-portal.css">
  <style>.auth-hide {{ display: none }} #ap_container {{ width: 350px }}</style>
  <script>var ue_t0 = ue_t0 || +new Date(); window.P && P.when("A").execute(function(A) {{}});
  </script>
</head>
<body class="ap-locale-en_US a-m-us a-aui_72554-c">
<noscript>
  <div class="a-box a-alert a-alert-warning"><div class="a-box-inner">
    <h4 class="a-alert-heading">Please Enable Cookies to Continue</h4>
    <p>Please enable JavaScript in your browser to use this page.</p>
  </div></div>
</noscript>
<div id="a-page"><div class="a-section a-padding-medium auth-workflow">
  <div class="a-section a-spacing-none auth-navbar">
    <a class="a-link-nav-icon" href="https://www.amazon.com/ref=ap_frn_logo">
      <i class="a-icon a-icon-logo" role="img" aria-label="Amazon"></i></a>
  </div>
  <div id="authportal-center-section" class="a-section">
"""

_FOOT: Final = """
  </div>
  <div class="a-divider a-divider-section"><div class="a-divider-inner"></div></div>
  <div id="ap-footer" class="a-section a-spacing-top-extra-large auth-footer">
    <a class="a-link-normal" href="/gp/help/customer/display.html?nodeId=508088">
      Conditions of Use</a> &nbsp;&nbsp;
    <a class="a-link-normal" href="/gp/help/customer/display.html?nodeId=468496">
      Privacy Notice</a>
    <span class="a-size-mini a-color-secondary">&copy; 1996-2026, Amazon.com, Inc.</span>
  </div>
</div></div>
<script>
  if (window.ue) {{ ue.count("auth.page", 1); }}
  var x = "<div id='auth-error-message-box'>not markup, a string</div>";
</script>
</body>
</html>
"""


def page(title: str, body: str) -> str:
    """
    Wrap a page body in Amazon's common chrome.

    :param title: The <title> text.
    :param body: The page-specific markup.
    """
    return _HEAD.format(title=title) + body + _FOOT.format()


def error_box(*messages: str, box_id: str = "auth-error-message-box") -> str:
    """
    Render Amazon's server-side message box.

    :param messages: One list item per message.
    :param box_id: ``auth-error-message-box`` or ``auth-warning-message-box``.
    """
    kind = "error" if "error" in box_id else "warning"
    items = "".join(
        f'<li><span class="a-list-item">\n              {m}\n            </span></li>'
        for m in messages
    )
    return f"""
<div id="{box_id}" class="a-box a-alert a-alert-{kind} auth-server-side-message-box a-spacing-base"
     role="alert" aria-live="assertive">
  <div class="a-box-inner a-alert-container">
    <h4 class="a-alert-heading">There was a problem</h4>
    <i class="a-icon a-icon-alert"></i>
    <div class="a-alert-content">
      <ul class="a-unordered-list a-nostyle a-vertical a-spacing-none">{items}</ul>
    </div>
  </div>
</div>"""
