"""Resets the market to a known state: companies, rates and a rate history
(the rows the analytical requests aggregate); no users, offers or trades."""
import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from market.models import Company, RateHistory, StockRate


class Command(BaseCommand):
    help = "Reset the market: COMPANIES companies with HISTORY rate rows each."

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=int, default=50)
        parser.add_argument("--history", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, companies, history, seed, **kw):
        rng = random.Random(seed)
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE market_balanceupdate, market_transaction, market_offer, market_holding, "
                "market_ratehistory, market_stockrate, market_company, market_account, authtoken_token, "
                "auth_user RESTART IDENTITY CASCADE")
        now = timezone.now()
        for i in range(companies):
            company = Company.objects.create(symbol="C%03d" % i, name="Company %d" % i)
            rate = Decimal(rng.randint(1000, 50000)) / 100
            rows = []
            for k in range(history):
                rate = max(Decimal("1.00"), (rate * Decimal(str(1 + rng.uniform(-0.01, 0.01)))).quantize(Decimal("0.01")))
                rows.append(RateHistory(company=company, rate=rate, time=now - timedelta(seconds=2 * (history - k))))
            RateHistory.objects.bulk_create(rows, batch_size=5000)
            StockRate.objects.create(company=company, rate=rate)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE") if connection.in_atomic_block is False else None
        self.stdout.write("seeded %d companies, %d history rows, %d users" % (companies, companies * history, User.objects.count()))
