from __future__ import annotations

import pytest

from tests.builders import Scenario
from tests.conftest import GraphQLClient, Tokens


@pytest.fixture
def given(gql: GraphQLClient, tokens: Tokens) -> Scenario:
    return Scenario(gql, tokens)
