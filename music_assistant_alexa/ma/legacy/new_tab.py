"""
Opening a page in a new tab from a button of Music Assistant 2.9's settings form.

2.9's frontend (2.17.100) shows the text of a form plainly and has no button that opens an
address. What it has is the way MA's own providers send the user to a sign-in page (MA's
``AuthenticationHelper``, which 2.9's alexa provider uses; 2.9's Audible provider does it by
hand for the very same Amazon sign-in that ends on a "page not found" address to paste back):
the server signals an ``auth_session`` event whose object id is the form's ``session_id`` and
whose data is the address. The add and edit pages listen for it while a button's request
runs; they then show "Authenticating... A new tab/popup should be opened where you can
authenticate" with a "Click here if the popup did not open" button, and 100 ms later click a
``target="_blank"`` link to the address. That notice, and its link, live only while the
button's request runs: they go when its answer comes. So the button answers only after
:attr:`~music_assistant_alexa.ma.context.AdapterContext.new_tab_hold` seconds: the tab opens
at once (a browser lets a new tab through right after the user's click), and a person whose
browser held it back has a moment to press the frontend's own button (Audible waits 15 s).
Every connected frontend gets the event; each one acts only on its own form's id. The form
shows the address as well, and its entry's help link opens it on the user's click (see
:func:`~music_assistant_alexa.ma.entries.browser_entries`), so nothing depends on the event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from music_assistant_models.enums import EventType

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.auth.clock import Clock


async def open_in_new_tab(
    mass: MusicAssistant, session_id: str | None, url: str, *, clock: Clock, hold: float
) -> bool:
    """
    Have the form's frontend open an address in a new tab, then wait while it does.

    :param mass: The MusicAssistant instance.
    :param session_id: The form's ``session_id`` (the frontend listens for it); without one
        (an API client) nothing is sent.
    :param url: The address to open.
    :param clock: The clock to wait on.
    :param hold: Seconds to keep the button's request open.
    :returns: Whether the frontend was asked.
    """
    if not session_id:
        return False
    mass.signal_event(EventType.AUTH_SESSION, session_id, url)
    await clock.sleep(hold)
    return True
