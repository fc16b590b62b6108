"""parley.client: an asyncio client for Parley's protocol (docs/client.md).

`VisitorClient` is the LiveChat Customer SDK's surface for a visitor, `OperatorClient`
the operator side for integrations; both reconnect by themselves and resume without
losing or repeating a message. Every error is a `ClientError` with a `.code`.
"""

from parley.client.connection import Timing
from parley.client.errors import ERROR_CODES, ClientError, sdk_code
from parley.client.operator import OperatorClient
from parley.client.visitor import Credentials, VisitorClient

__all__ = ["ERROR_CODES", "ClientError", "Credentials", "OperatorClient", "Timing", "VisitorClient",
           "sdk_code"]
