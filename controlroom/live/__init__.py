"""The live read model: projections of SQL into Redis, and the one reader of a room's live state."""
