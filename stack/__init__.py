"""Run the whole product: Rasa server, action server and gateway, supervised together."""
