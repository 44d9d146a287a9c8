"""Why a live stream ended: the WebSocket close codes, documented in docs/events.md."""

from __future__ import annotations

# The run ended: its final event was sent.
RUN_ENDED = 1000
# The server is stopping its streams.
GOING_AWAY = 1001
# The credential the stream was opened with has expired.
CREDENTIAL_EXPIRED = 1008
# The server could not read what the stream needed from the database.
SERVER_ERROR = 1011
# Events of other processes may have been missed (the notification connection was
# lost); a multi-run stream cannot say which, so it asks the client to reconnect.
RECONNECT = 1012
# Too many requests with this credential: try again later.
RATE_LIMITED = 1013
# The database is away for a moment, or the server is too busy to open the stream now.
TRY_AGAIN_LATER = 1013
# A query parameter is malformed (`after` that is not a non-negative integer).
INVALID_REQUEST = 4400
UNAUTHENTICATED = 4401
# On an open stream: the access it was opened with ended (its API key was revoked, its
# member removed from the workspace). The reason says which.
REVOKED = 4401
FORBIDDEN = 4403
# The run or workflow does not exist in the caller's workspace.
NOT_FOUND = 4404
# A multi-run stream whose client fell behind by more than its queue holds.
TOO_SLOW = 4429
