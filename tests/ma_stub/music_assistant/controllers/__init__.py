"""Controllers of the Music Assistant server (only the config controller is stood in for)."""
