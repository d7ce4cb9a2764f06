"""The one place that owns a browser session: its state, the user's identity and the URL."""
