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

# Collect static files for whitenoise into /app/staticfiles. The secret key is
# a throwaway that exists only for this RUN step; it is not in the image env.
RUN DJANGO_SECRET_KEY=build-only-not-secret \
    MNR_FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktbm90LWEtc2VjcmV0LTAwMDA= \
    MNR_BLIND_INDEX_KEY=build-only-not-secret \
    python manage.py collectstatic --noinput

USER app

EXPOSE 8000

# The slim image has no curl: probe /healthz with the standard library.
# urlopen raises on 503 (database unreachable) or connection errors -> exit 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30", "--access-logfile", "-"]
