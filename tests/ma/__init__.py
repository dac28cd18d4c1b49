"""Tests of the Music Assistant adapter, against a stand-in for the MA server."""
