"""The Celery application: five queues (default, transactions, balance_updates,
stock_rates, expire_offers), routed in settings.CELERY_TASK_ROUTES."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trading.settings")
app = Celery("trading")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
