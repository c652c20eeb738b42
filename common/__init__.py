"""What the action server and the gateway both use: the bot protocol, triage cues, label names,
observability. It imports nothing of the project but `config`, so every layer may import it."""
