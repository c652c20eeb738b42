"""The conversation gateway's domain code: conversations, handoffs, channels. No HTTP framework
here: `assist_api` is the HTTP layer on top of it."""
