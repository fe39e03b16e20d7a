"""gunicorn settings: `gunicorn -c config/gunicorn.conf.py` (see docs/production.md).

Every value can be overridden from the environment, so one file serves production, the
benchmark and the drills.
"""

import multiprocessing
import os

wsgi_app = os.environ.get("GUNICORN_APP", "config.wsgi:application")
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: 2 × cores + 1 (gunicorn's own advice); each holds one PostgreSQL connection.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * multiprocessing.cpu_count() + 1)))
worker_class = "sync"
# A request that takes longer than this is killed and answered 502 by the proxy; imports of
# large files go through `manage.py import_survey`, not a web request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 2
# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Logs to stdout/stderr: the service manager (systemd, docker) collects and rotates them.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
# Only the proxy in front may set X-Forwarded-*; the default trusts 127.0.0.1 alone.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Load the app in each worker (not the master), so `kill -HUP` reloads new code cleanly.
preload_app = False
