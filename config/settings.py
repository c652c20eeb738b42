"""The one typed settings object of the platform.

Values come from environment variables (and a `.env` file in the project root), falling back
to embedded defaults that run everything on one machine: an SQLite file under `var/`, the
shipped demo knowledge base and the calibration file committed next to this module.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(__file__).resolve().parent

KB_CATEGORIES = (
    "billing",
    "plan",
    "network",
    "broadband",
    "number",
    "device",
    "roaming",
    "security",
    "service",
    "other",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CS_",
        env_file=PROJECT_ROOT / ".env",
        extra="ignore",
    )

    # Storage. DATABASE_URL is the conventional name, so it is accepted without the prefix.
    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'app.sqlite3'}",
        validation_alias=AliasChoices("DATABASE_URL", "CS_DATABASE_URL"),
    )
    var_dir: Path = PROJECT_ROOT / "var"
    index_dir: Path | None = None  # defaults to <var_dir>/index
    index_keep_versions: int = 3

    # Demo content loaded by setup.
    demo_kb_file: Path = PROJECT_ROOT / "kb" / "demo" / "telecom_kb.yaml"

    # Knowledge base.
    kb_categories: tuple[str, ...] = KB_CATEGORIES
    kb_channels: tuple[str, ...] = ("web", "wechat")
    max_query_chars: int = 1000

    # Lexical retrieval.
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    char_ngram_sizes: tuple[int, ...] = (1, 2)
    # Weights of the all-questions-of-an-entry field and the answer field next to the best
    # single question (chosen on the dev split, see README "Search quality").
    lexical_entry_weight: float = 0.7
    lexical_answer_weight: float = 0.3

    # Dense retrieval, the sentence-embedding half of hybrid search. The model directory may
    # hold any sentence-transformers model; by default the one this project trains and ships.
    dense_search: bool = True
    lexical_search: bool = True  # off only to measure dense search alone
    embedding_model_dir: Path = PROJECT_ROOT / "kb" / "embedding" / "model"
    # Up to this many question vectors are searched exactly; above it an HNSW graph.
    dense_exact_max: int = 50_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    # efSearch 1024 keeps recall@10 against exact search ≥ 0.97 up to a million questions at
    # about 3 ms (bench/dense_scale_bench.py sweeps it); 128 would do below 100k.
    hnsw_ef_search: int = 1024

    # Confidence calibration and decision thresholds. Every index build fits them to its KB
    # (kb/autotune.py) from the general calibration below; `kb tune` with labelled queries
    # writes `calibration_file` (default <var_dir>/search_calibration.json), used instead for
    # the KB it was tuned on. The threshold settings below override either when set.
    calibration_file: Path | None = None
    # Every index build fits the ranker, confidence and thresholds to the KB it indexes
    # (kb/autotune.py), unless the calibration file was tuned by `kb tune` on this same KB.
    auto_calibration: bool = True
    # The ranker and confidence model fitted across many KBs (kb/general_calibration.py); each
    # KB's own calibration keeps them and fits its thresholds (the keep_* switches refit them).
    general_calibration_file: Path = CONFIG_DIR / "search_calibration_general.json"
    auto_calibration_keep_ranker: bool = True
    auto_calibration_keep_confidence: bool = True
    # Held-out similar questions are a pessimistic stand-in for customers' queries (FAQ
    # authors write them to differ from the standard question): the shipped answer threshold
    # holds unless the KB's pseudo-queries answered at it are less than this share right.
    auto_answer_pseudo_precision: float = 0.75
    answer_threshold: float | None = None
    clarify_threshold: float | None = None
    answer_margin: float | None = None
    tune_answer_precision: float = 0.92  # answered queries must be this precise on dev
    tune_oos_recall: float = 0.80  # share of dev out-of-scope queries handed off
    clarify_top_k: int = 3

    # HTTP service (gateway).
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Idle keep-alive connections are closed after this many seconds. Longer than the clients'
    # and nginx's own idle limits, so the server never closes a connection at the moment a
    # client reuses it (uvicorn's 5 s default did, under load: a reset POST, not retried).
    api_keep_alive_s: int = 75
    gateway_url: str = "http://127.0.0.1:8000"
    # Shared secret the action server presents to the gateway's internal API; generated into
    # <var_dir>/service_token on first use when not set.
    service_token: str | None = None

    # Rasa server and action server.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_s: float = 10.0
    # Rasa's tracker store: "sql" (SQLite file under var/, survives restarts, or PostgreSQL when
    # rasa_tracker_postgres_url is set) or "memory".
    rasa_tracker_store: str = "sql"
    action_server_port: int = 5055
    rasa_model_dir: Path | None = None  # defaults to <var_dir>/rasa-models

    # Service levels (minutes unless named otherwise), from the customer-service manuals.
    sla_first_response_min: dict[str, int] = {"urgent": 3, "high": 5, "normal": 10}
    sla_resolution_hours: dict[str, int] = {"simple": 24, "complex": 72, "special": 72, "complaint": 72}
    business_timezone: str = "Asia/Shanghai"
    business_open: str = "09:00"
    business_close: str = "21:00"
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # Monday = 0
    # A deadline counts as at risk (the console highlights the case) in the last share of its
    # window, and a first-response deadline at the latest this many seconds before it.
    sla_at_risk_share: float = 0.2
    sla_first_response_at_risk_s: float = 120.0

    # ---- While a customer waits for an agent (gateway/handoffs/waiting.py) ----------------
    # Every message while queued gets a holding reply with the queue position and the expected
    # wait, at most one per `waiting_ack_interval_s`; a soothing message goes out by itself when
    # the first-response deadline is `waiting_soothe_before_s` away. Texts are templates with
    # {ticket} {position} {ahead} {position_text} {wait_min} {due} {resume_at}.
    waiting_ack_interval_s: float = 60.0
    waiting_soothe_before_s: float = 120.0
    waiting_sweep_interval_s: float = 10.0
    # Expected wait per customer ahead (and for the customer's own turn), in minutes.
    waiting_minutes_per_customer: float = 3.0
    waiting_ack_template: str = (
        "收到，您的消息已转给客服（工单号 {ticket}）。{position_text}，预计等待约 {wait_min} 分钟，"
        "客服最晚 {due} 前回复您。"
    )
    waiting_soothe_template: str = (
        "非常抱歉让您久等了！客服正在加紧处理，您的工单 {ticket} 排在第 {position} 位，很快就到您。"
        "不方便等待的话可以点“留言”，客服会尽快回复您。"
    )
    waiting_out_of_hours_template: str = (
        "现在是非工作时间，人工服务将于 {resume_at} 恢复，届时客服会按顺序回复您（工单号 {ticket}）。"
        "您的消息都已保存，可以继续留言。"
    )
    waiting_leave_message_template: str = (
        "好的，请把问题和方便联系的时间直接留在这里，客服会在 {due} 前回复您，回复会发到本对话，您可以先离开。"
    )
    waiting_message_left_template: str = "留言已收到（工单号 {ticket}），客服会在 {due} 前回复您。"

    # Agent assist.
    # A build artefact of the project (trained by setup), shared by every database and var dir.
    assist_model_file: Path = PROJECT_ROOT / "var" / "assist" / "ticket_classifier.pkl"
    assist_templates_file: Path = PROJECT_ROOT / "assist_api" / "assist" / "data" / "templates.yaml"
    # The suggestion ranker retrained from this database's suggestion events
    # (`python -m assist_api.assist retrain`); default var_dir/assist/suggest_ranker.json. None
    # there: the cold weights of assist_api/assist/data/suggest_ranker_cold.json.
    suggest_ranker_file: Path | None = None

    # Bot behaviour.
    handoff_after_no_answers: int = 2
    handoff_after_unhelpful: int = 2

    # ---- Browser UIs (widget, agent console, KB editor) and the widget's live stream ----
    # How often an open customer stream looks for new messages, how long one stream lasts
    # before the browser reconnects (resuming from the last message id), and the keep-alive.
    live_poll_interval_s: float = 0.25
    live_stream_max_s: float = 300.0
    live_heartbeat_s: float = 15.0
    # The agent console's streams (queue and open case) use the same three values. A browser's
    # EventSource cannot send the API key as a header, so the console trades it for a signed
    # ticket valid this long for opening streams (checked when a stream opens).
    console_stream_ticket_ttl_s: int = 60
    # How many recent conversations the editor's unanswered-questions list looks through.
    unanswered_scan_messages: int = 20_000
    # Sites allowed to embed the widget (CORS; the API's credentials are never sent cross-site).
    widget_allowed_origins: tuple[str, ...] = ("*",)

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or (self.var_dir / "index")

    @property
    def resolved_calibration_file(self) -> Path:
        return self.calibration_file or (self.var_dir / "search_calibration.json")

    @property
    def resolved_assist_model_file(self) -> Path:
        return self.assist_model_file

    @property
    def resolved_suggest_ranker_file(self) -> Path:
        return self.suggest_ranker_file or (self.var_dir / "assist" / "suggest_ranker.json")

    @property
    def resolved_rasa_model_dir(self) -> Path:
        return self.rasa_model_dir or (self.var_dir / "rasa-models")

    def resolved_service_token(self) -> str:
        """The configured token, else one generated once and kept in <var_dir>/service_token."""
        if self.service_token:
            return self.service_token
        import secrets

        path = self.var_dir / "service_token"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(32), "utf-8")
            tmp.chmod(0o600)
            try:
                tmp.rename(path) if not path.exists() else tmp.unlink()
            except FileExistsError:
                tmp.unlink()
        return path.read_text("utf-8").strip()

    # ---- WeChat official-account channel (gateway/channels/wechat) ----------------------
    # The channel answers only when the token (the one entered on the account's server
    # configuration page) is set. Safe mode (AES) also needs the EncodingAESKey and the app id;
    # the customer-service message API needs the app id and secret.
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_token: str | None = None
    wechat_encoding_aes_key: str | None = None
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    # WeChat waits 5 s for a passive reply; an answer not ready within this budget is sent
    # later through the customer-service message API (capped at 4.5 s in code).
    wechat_passive_reply_budget_s: float = 4.0
    # Requests whose timestamp is further than this from our clock are refused (replays).
    wechat_max_clock_skew_s: int = 300
    # Customer-service API delivery: attempts per message, first back-off (doubles), timeout.
    wechat_delivery_attempts: int = 5
    wechat_delivery_backoff_s: float = 2.0
    wechat_api_timeout_s: float = 5.0

    # ---- Supervisor reports, unanswered-question mining, observability (assist_api/reports) --
    # An entry is flagged for review with at least this many 没帮助 marks in the report's range
    # making up at least this share of its marks (and always once its review_due has passed).
    reports_flag_min_unhelpful: int = 3
    reports_flag_unhelpful_rate: float = 0.5
    # Unanswered-question mining: questions looked at (most recent first), the cosine distance
    # under which two questions join one cluster (average linkage), the smallest cluster shown.
    mining_max_questions: int = 5_000
    mining_distance_threshold: float = 0.5
    mining_min_cluster_size: int = 3
    # Logs: "json" (one object a line, with request and conversation ids) or "text".
    log_format: str = "json"

    # ---- Security: rate limits on the customer endpoints (assist_api/security) -------------
    # Token buckets per customer id and per client IP on POST /api/channels/web/messages, the
    # web conversation poll, its SSE stream and CSAT: `burst` requests at once, refilled at
    # `per_s` a second; over it a 429 with Retry-After and nothing stored. Kept in this
    # process's memory: each gateway process counts on its own (a shared Redis-backed limiter
    # is for the multi-replica deployment). Defaults leave room for the widget benchmark (100
    # turns from one customer as fast as the bot answers) and the browser/e2e tests; a load
    # test sending from one address raises the per-IP values or sets CS_RATE_LIMIT_ENABLED=false.
    rate_limit_enabled: bool = True
    rate_limit_customer_burst: int = 120
    rate_limit_customer_per_s: float = 5.0
    rate_limit_ip_burst: int = 600
    rate_limit_ip_per_s: float = 50.0
    rate_limit_max_keys: int = 100_000  # buckets kept in memory (least recently used dropped)
    # Behind a trusted reverse proxy only: take the client IP from the last X-Forwarded-For entry.
    rate_limit_trust_forwarded_for: bool = False

    # ---- Bad input: request-body size limit (assist_api/body_limit.py) ----------------------
    # Any request body over this many bytes is refused with 413 before it is parsed or stored
    # (a declared Content-Length at once, a chunked body as soon as it passes the limit).
    # 0 turns the limit off. The WeChat callback keeps its own, smaller 64 KiB limit.
    max_request_body_bytes: int = 1_048_576

    # ---- Replicas: shared state and recovery (deploy/, stack/cluster.py) ---------------------
    # Redis shared by every gateway replica (rate-limit buckets, the WeChat access token) and
    # Rasa's lock store. Unset: each process keeps them in memory (one-machine default).
    redis_url: str | None = None
    # Rasa's tracker store in PostgreSQL (a database on this server, created by Rasa) instead of
    # the SQLite file under var/: every Rasa replica then reads the same conversation history.
    rasa_tracker_postgres_url: str | None = None
    # Seconds a Rasa replica holds a conversation's lock at most: a killed replica's lock
    # frees after this, not after Rasa's 60 s default.
    rasa_lock_lifetime_s: int = 20
    # A customer message still without any answer this long after it was stored (its gateway
    # died mid-request, or the database went away before the reply was stored) gets the
    # apology + human offer from whichever replica sweeps first. Longer than rasa_timeout_s.
    unanswered_recovery_after_s: float = 30.0
    unanswered_recovery_interval_s: float = 5.0
    # How long the gateway keeps trying to store the bot's reply while the database is away
    # (a PostgreSQL restart) before giving up to the recovery sweep.
    reply_store_retry_s: float = 10.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
