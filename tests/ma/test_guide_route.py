"""
The guide inside Music Assistant: served at /alexa_auth/guide, and every link points there.

MA's dynamic routes are answered without MA's login, so a link opened from MA's UI in a new
tab shows the guide. The route is registered once per server however many instances run,
kept while an instance or a setup flow may show a link, and dropped with the last one. Links
carry MA's base URL (the frontend opens only absolute http(s) links): help links, alerts,
``last_error``, health warnings and button outcomes alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from music_assistant_alexa.guide import GUIDE_ROUTE, GuideSlug, web_linker
from music_assistant_alexa.ma.constants import ACTION_REFRESH, CONF_TOTP_KEY
from music_assistant_alexa.ma.context import AdapterContext
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from tests.helpers import TEST_EMAIL

from .support import FORM, add, fire_timers, form, ma_guide, settle, texts

if TYPE_CHECKING:
    from aiohttp import web
    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.simulator import AmazonSimulator


def _body(response: web.StreamResponse) -> str:
    body = getattr(response, "text", None)
    assert isinstance(body, str)
    return body


async def test_the_route_serves_every_section(mass: MusicAssistant) -> None:
    """GET answers the whole guide with an anchor per slug; a section; 404 and 405."""
    await add(mass)
    server = mass.webserver

    whole = await server.request("GET", GUIDE_ROUTE)
    one = await server.request("GET", f"{GUIDE_ROUTE}?section={GuideSlug.CAPTCHA}")
    unknown = await server.request("GET", f"{GUIDE_ROUTE}?section=no-such-section")
    post = await server.request("POST", GUIDE_ROUTE)

    assert whole.status == 200
    assert whole.content_type == "text/html"
    assert "script-src" not in whole.headers["Content-Security-Policy"]
    for slug in GuideSlug:
        assert f'id="{slug}"' in _body(whole), slug
    assert one.status == 200
    assert f'id="{GuideSlug.CAPTCHA}"' in _body(one)
    assert f'id="{GuideSlug.PASSKEY}"' not in _body(one)
    assert (unknown.status, post.status) == (404, 405)


async def test_one_route_for_all_instances_and_gone_with_the_last(mass: MusicAssistant) -> None:
    """Two instances share the route; it goes when the last one unloads."""
    first = await add(mass)
    second = await add(mass)
    route = AdapterContext.of(mass).guide_route
    assert list(mass.webserver.routes) == [f"*.{GUIDE_ROUTE}"]

    await mass.unload_provider(first)
    assert route.registered
    assert (await mass.webserver.request("GET", GUIDE_ROUTE)).status == 200

    await mass.unload_provider(second)
    assert not AdapterContext.of(mass).guide_route.registered
    assert (await mass.webserver.request("GET", GUIDE_ROUTE)).status == 404


async def test_a_setup_flow_holds_the_route(new_mass: MusicAssistant) -> None:
    """The first flow, before any instance exists, serves the guide its steps link to."""
    step = await new_mass.config.setup_provider("alexa_auth")
    assert AdapterContext.of(new_mass).guide_route.registered

    await new_mass.config.abort_setup_flow(step.flow_id)
    await settle(new_mass)
    assert not AdapterContext.of(new_mass).guide_route.registered


async def test_the_form_serves_the_guide_it_links_to(old_mass: MusicAssistant) -> None:
    """2.9's add dialog (no instance yet) registers the route too."""
    await form(old_mass, {**FORM, CONF_TOTP_KEY: "123456"})
    assert (await old_mass.webserver.request("GET", GUIDE_ROUTE)).status == 200


async def test_every_surface_links_to_mas_guide(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Help links, the health warning, a button's outcome and last_error use MA's base URL."""
    mass.webserver.base_url = "http://10.1.2.3:9000/"
    link = web_linker("http://10.1.2.3:9000")
    instance_id = await add(mass)
    provider = mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    simulator.revoke_refresh_tokens(TEST_EMAIL)

    notice = await provider.run_action(ACTION_REFRESH)
    await fire_timers(mass)
    health = await provider.health_entries()
    if mass.generation == "new":
        page = await mass.config.get_provider_config_entries(instance_id)
    else:
        page = list(await form(mass, FORM, instance_id=instance_id))

    assert notice.guide_url == link(GuideSlug.REAUTH_LOOP)
    assert link(GuideSlug.REAUTH_LOOP) in (mass.config.last_error_message(instance_id) or "")
    assert link(GuideSlug.REAUTH_LOOP) in texts(health)
    help_links = {e.help_link for e in page if e.help_link}
    assert help_links
    assert all(h.startswith("http://10.1.2.3:9000/alexa_auth/guide#") for h in help_links)
    assert ma_guide(GuideSlug.REAUTH_LOOP) not in texts(page)  # the old address is gone
