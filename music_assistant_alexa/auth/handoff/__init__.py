"""
The hand-off of this session to Music Assistant's built-in ``alexa`` provider (its Echo players).

- :mod:`.writer`: :class:`~.writer.AlexaHandoff` writes the session into the provider's cookie
  file, verified first, and looks after stale files of the same account;
- :mod:`.file_formats`: the cookie-file layouts alexapy and aiohttp read (pickle, JSON);
- :mod:`.probe`: asks Amazon whose a cookie file is and whether it still works;
- :mod:`.record`: remembers the files we wrote, so that a user's own sign-in is never fought;
- :mod:`.disk`: names, modes and atomic writes in Music Assistant's data folder;
- :mod:`.errors`: what can go wrong, each with its guide section.

Like the rest of the auth core, it never imports Music Assistant.
"""
