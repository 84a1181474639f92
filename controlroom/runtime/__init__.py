"""How a controlroom process runs: its lifespan, the processing role and the periodic chores."""
