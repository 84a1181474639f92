"""Connectors: feeds controlroom reaches out to (an encoder, a platform's websocket or a
dashboard it polls), as opposed to pushes that come in over HTTP (`ingest/hooks.py`).

Each connector kind is one module with a `run(ctx, stop)` coroutine (see base.py); the
runner (runner.py) runs one per binding of the rooms this process's worker holds, so a
lease guards every connection: two workers never hold the same one."""
