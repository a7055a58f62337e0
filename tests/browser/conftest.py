"""A headless Chromium for the page tests; a missing one fails them (`make test` installs it)."""

import pytest

from tests.browser.chromium import Chromium, ChromiumMissing, chromium_executable


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the tests of a module, killed and its profile removed after them."""
    try:
        executable = chromium_executable()
    except ChromiumMissing as missing:
        pytest.fail(str(missing), pytrace=False)
    with Chromium(executable) as chromium:
        yield chromium
