"""Every setting Takt reads, with its default, in one object.

``create_app`` loads this, then ``instance/takt.cfg``, then ``TAKT_*``
environment variables (``TAKT_SECRET_KEY=…``), then ``DATABASE_URL`` and
``REDIS_URL`` as the deployment shapes name them, then test overrides.
"""


class DefaultConfig:
    #: SQLAlchemy URL; empty means an SQLite file in the instance folder (embedded default).
    DATABASE_URL = ""
    #: redis://… switches background jobs to RQ workers (``takt worker``); empty runs them in-process.
    REDIS_URL = ""
    #: RQ queue name shared by web processes and workers.
    RQ_QUEUE = "takt"
    #: Signs session cookies; empty means one is generated once and kept in the instance folder.
    SECRET_KEY = ""
    #: How long a web process may keep serving the version it last saw live before asking again
    #: (a publish in another process reaches this one within that time; in the same process at once).
    LIVE_VERSION_CACHE_SECONDS = 2.0
    #: Print every SQL statement (debugging).
    SQL_ECHO = False
    #: Threads for in-process background jobs (embedded shape).
    JOB_THREADS = 2
    #: Rows per statement on the record service's bulk path.
    BULK_BATCH_SIZE = 2000
    #: Imports and exports above this many rows run as background jobs.
    JOB_ROW_THRESHOLD = 5000
    #: Where uploaded attachments are stored (relative to the instance folder).
    UPLOAD_FOLDER = "uploads"
    #: Largest accepted upload, in bytes.
    MAX_CONTENT_LENGTH = 200 * 1024 * 1024
    #: Languages the UI speaks; the first is the default.
    LANGUAGES = ("en", "zh")
    #: Session cookie flags (set SESSION_COOKIE_SECURE when served over HTTPS).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    #: Failed logins allowed per username and address within LOGIN_WINDOW_SECONDS.
    LOGIN_ATTEMPTS = 5
    LOGIN_WINDOW_SECONDS = 300
    #: Seconds between webhook delivery attempts (one attempt per entry).
    WEBHOOK_RETRY_DELAYS = (0, 2, 8)
    #: Seconds to wait for a webhook endpoint to answer.
    WEBHOOK_TIMEOUT = 10
    #: How often ``takt scheduler`` looks for scheduled automations that are due.
    SCHEDULER_INTERVAL_SECONDS = 30
