"""Test helpers shipped with the chassis (a pytest plugin, like nameko's)."""
