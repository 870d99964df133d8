"""gunicorn settings from the environment: PORT, WORKERS, HOST, THREADS, TIMEOUT.

Threads (gthread workers) by default: a request spends much of its time waiting for the
database (a commit waits for the disk), and threads let one worker overlap those waits.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "4"))
timeout = int(os.environ.get("TIMEOUT", "60"))
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# The longest request line gunicorn accepts (its maximum); longer URLs get its own 414.
limit_request_line = 8190
