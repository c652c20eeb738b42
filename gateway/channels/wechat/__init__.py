"""The WeChat official-account channel: signature and replay checks, safe-mode (AES) codec,
safe XML parsing, MsgId deduplication, passive replies within WeChat's 5 s limit and the
customer-service message API (durable outbox with bounded retries) for everything later."""
