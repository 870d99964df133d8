"""gunicorn settings from the environment: PORT, WORKERS, HOST, THREADS, TIMEOUT."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "1"))
timeout = int(os.environ.get("TIMEOUT", "60"))
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
