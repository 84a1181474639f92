"""A realistic live-commerce show simulator: a pure generator and the runner that posts it."""
