"""The browser client's error table (widget.core.client) is the Python client's (parley.client)."""

from parley.client import errors
from widget.core import client


def test_the_browser_and_python_clients_map_codes_alike() -> None:
    assert client.ERROR_CODES == errors.ERROR_CODES
    for code, (reason, _retry) in errors.CLOSE_REASONS.items():
        assert client.close_reason(code)[0] == reason
