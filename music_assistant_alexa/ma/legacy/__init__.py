"""
Code for Music Assistant 2.9 only: delete this package when 2.9 is no longer supported.

Remove ``get_config_entries`` from ``ma/__init__.py`` with it (2.10+ adds providers through
``setup_flow.py`` and asks the running instance for its options).
"""
