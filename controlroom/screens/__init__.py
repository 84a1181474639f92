"""The screens people run a show on: the panel registry, the fan-out hub, every
websocket and the screen pages. Only the app uses this floor."""
