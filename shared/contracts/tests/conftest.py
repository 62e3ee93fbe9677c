"""Fixtures for the contract tests."""

from __future__ import annotations

from typing import Any

import pytest

from clikopro_contracts.examples import example


@pytest.fixture
def accepted() -> dict[str, Any]:
    """A fresh ProposalAccepted example envelope (has nested tasks)."""
    return example("ProposalAccepted", 1)
