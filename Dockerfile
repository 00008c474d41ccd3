# MNR application image: Django (gunicorn), Celery worker and Celery beat all
# run from this one image; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV DJANGO_SETTINGS_MODULE=config.settings \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Unprivileged runtime user (fixed UID so volume permissions are predictable).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app

WORKDIR /app

# Dependencies first, so the layer is cached until the lock file changes.
# --require-hashes: every package (and every transitive one) must match a hash.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# Application source (see .dockerignore); no package to install.
COPY . .

# Collect static files for whitenoise into /app/staticfiles. The keys are
# random throwaways that exist only for this RUN step; they are not in the image.
RUN env $(python -m common.keys | xargs) python manage.py collectstatic --noinput

# The signed checkpoints of the access log (MNR_AUDIT_CHECKPOINT_DIR): a new
# named volume mounted here starts with this directory's owner and mode.
RUN install -d -o app -g app -m 0750 /var/lib/mnr/audit-checkpoints

USER app

EXPOSE 8000

# The slim image has no curl: probe /healthz with the standard library.
# urlopen raises on 503 (database unreachable) or connection errors -> exit 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30", "--access-logfile", "-"]
