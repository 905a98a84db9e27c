"""Settings of the testbed's trading platform.

Every address comes from the environment that testbed/runner.py sets, so the
testbed's own PostgreSQL and Redis (on their own ports) are used, never a
machine's default instances.
"""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "testbed-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "rest_framework.authtoken",
    "market",
]
MIDDLEWARE = ["market.metrics.LatencyMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "trading.urls"
WSGI_APPLICATION = "trading.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "trading",
        "USER": os.environ.get("DS_PG_USER", "trading"),
        "HOST": os.environ.get("DS_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("DS_PG_PORT", "55432"),
        # Persistent connections: one PostgreSQL backend per API worker, as a
        # production deployment would have, instead of a fork per request.
        "CONN_MAX_AGE": 600,
    }
}
# Django's default PBKDF2 (1,000,000 iterations, about half a CPU second per
# login) would make register/login dwarf every other request; the testbed's
# hasher keeps them a few times heavier than a read, as in the original.
PASSWORD_HASHERS = ["market.hashers.TestbedPBKDF2Hasher"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

CELERY_BROKER_URL = "redis://127.0.0.1:%s/0" % os.environ.get("DS_REDIS_PORT", "56379")
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ROUTES = {
    "market.tasks.match_offers": {"queue": "transactions"},
    "market.tasks.apply_balance_updates": {"queue": "balance_updates"},
    "market.tasks.change_rates": {"queue": "stock_rates"},
    "market.tasks.expire_offers": {"queue": "expire_offers"},
}
CELERY_BEAT_SCHEDULE = {
    "change-rates": {"task": "market.tasks.change_rates", "schedule": 2.0},
    "expire-offers": {"task": "market.tasks.expire_offers", "schedule": 10.0},
}
