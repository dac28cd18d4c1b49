"""Tests of music-assistant-alexa."""
