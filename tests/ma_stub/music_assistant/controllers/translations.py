"""
The translation catalog of newer Music Assistant (``controllers/translations`` @0604c404).

MA compiles every built-in provider's ``strings.json`` into one catalog when MA is *built*
(``scripts/build_translations.py``) and never reads a provider's file at run time: a provider
installed afterwards has no strings in it. The stand-in holds the few shared (``common.``)
strings that can replace a third-party provider's own text, resolves keys with MA's candidate
order (owner, then ``common.``, then bare; ``.name`` also without it) and fills ``{0}``
placeholders. :meth:`TranslationController.serving` binds it as the models' resolver, as MA
does while it serializes an API answer, so a test sees what a client would be sent.
:meth:`TranslationController.build_in` adds a provider's ``strings.json`` as the build would.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

#: Shared strings (``music_assistant/strings.json`` @c759546c) a third-party provider can meet.
COMMON_STRINGS: Final = {
    "common.errors.login_failed": "Login failed. Please check your credentials and try again.",
    "common.errors.setup_failed": "Setup failed.",
    "common.errors.invalid_token": "Invalid or expired token.",
    "common.config_entries.username.label": "Username",
    "common.config_entries.password.label": "Password",
}
_ROOTS: Final = ("provider.", "core.", "common.")


class TranslationController:
    """English catalog of fully-qualified keys, and MA's way of resolving a key in it."""

    def __init__(self) -> None:
        """Start with the shared strings only (what a stock MA knows of a third party)."""
        self.source: dict[str, str] = dict(COMMON_STRINGS)

    def build_in(self, domain: str, strings: Mapping[str, Any]) -> None:
        """
        Add a provider's ``strings.json`` under ``provider.<domain>.`` (what MA's build does).

        :param domain: The provider's domain (its folder name).
        :param strings: The parsed ``strings.json``.
        """
        self.source.update(_flatten(f"provider.{domain}", strings))

    def get_translation(
        self, key: str, owner: str | None = None, params: list[str] | None = None
    ) -> str | None:
        """
        Resolve a key, or return None so the caller keeps its own text.

        :param key: A fully-qualified or relative key.
        :param owner: The owner hint ("provider.<domain>"), for a relative key.
        :param params: Values for ``{0}``/``{1}`` placeholders.
        """
        for candidate in _candidates(key, owner):
            if (value := self.source.get(candidate)) is not None:
                if not params:
                    return value
                try:
                    return value.format(*params)
                except (IndexError, KeyError, ValueError):
                    return value
        return None

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """Bind this catalog as the models' resolver (as MA does while it serves an answer)."""
        # newer models only
        from music_assistant_models.translations import (  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
            TRANSLATION_RESOLVER,
        )

        def resolve(key: str, owner: str | None = None, params: list[str] | None = None) -> Any:
            return self.get_translation(key, owner, params)

        token = TRANSLATION_RESOLVER.set(resolve)
        try:
            yield
        finally:
            TRANSLATION_RESOLVER.reset(token)


def _flatten(prefix: str, node: Mapping[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in node.items():
        if isinstance(value, dict):
            flat.update(_flatten(f"{prefix}.{name}", value))
        elif isinstance(value, str) and not value.startswith("[%key:"):
            flat[f"{prefix}.{name}"] = value
    return flat


def _candidates(key: str, owner: str | None) -> list[str]:
    base: list[str] = []
    if key.startswith(_ROOTS):
        base.append(key)
        for prefix in ("provider.", "core."):
            if key.startswith(prefix):
                rest = key[len(prefix) :]
                if "." in rest:
                    base.append(f"common.{rest.split('.', 1)[1]}")
                break
    else:
        if owner:
            prefix = owner if owner.startswith(_ROOTS) else f"provider.{owner}"
            base.append(f"{prefix}.{key}")
        base.extend((f"common.{key}", key))
    candidates: list[str] = []
    for candidate in base:
        variants = [candidate]
        if candidate.endswith(".name"):
            variants.append(candidate.removesuffix(".name"))
        candidates.extend(v for v in variants if v not in candidates)
    return candidates
