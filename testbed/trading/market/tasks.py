"""Asynchronous work on its own Celery queues (routes in settings)."""
import random
from decimal import Decimal
from datetime import timedelta

from celery import shared_task
from django.db import transaction as db_transaction
from django.db.models import F
from django.utils import timezone

from .models import Account, BalanceUpdate, Holding, Offer, RateHistory, StockRate, Transaction


@shared_task
def match_offers(company_id):
    """Matches the highest open buy with the lowest open sell while they cross."""
    matched = []
    with db_transaction.atomic():
        while True:
            buy = (Offer.objects.select_for_update(skip_locked=True)
                   .filter(company_id=company_id, kind=Offer.BUY, status=Offer.OPEN)
                   .order_by("-price", "created").first())
            sell = (Offer.objects.select_for_update(skip_locked=True)
                    .filter(company_id=company_id, kind=Offer.SELL, status=Offer.OPEN)
                    .order_by("price", "created").first())
            if buy is None or sell is None or buy.price < sell.price:
                break
            quantity = min(buy.quantity, sell.quantity)
            trade = Transaction.objects.create(company_id=company_id, buyer_id=buy.user_id, seller_id=sell.user_id,
                                               quantity=quantity, price=sell.price)
            for offer in (buy, sell):
                offer.quantity -= quantity
                offer.status = Offer.MATCHED if offer.quantity == 0 else Offer.OPEN
                offer.save(update_fields=["quantity", "status"])
            matched.append(trade.id)
    for trade_id in matched:
        apply_balance_updates.delay(trade_id)
    return len(matched)


@shared_task
def apply_balance_updates(trade_id):
    """Moves cash and shares between buyer and seller of one transaction."""
    with db_transaction.atomic():
        trade = Transaction.objects.select_for_update().get(id=trade_id)
        if trade.settled:
            return
        amount = trade.price * trade.quantity
        Account.objects.filter(user_id=trade.buyer_id).update(balance=F("balance") - amount)
        Account.objects.filter(user_id=trade.seller_id).update(balance=F("balance") + amount)
        BalanceUpdate.objects.create(user_id=trade.buyer_id, amount=-amount, reason="buy %d" % trade.id)
        BalanceUpdate.objects.create(user_id=trade.seller_id, amount=amount, reason="sell %d" % trade.id)
        for user_id, delta in ((trade.buyer_id, trade.quantity), (trade.seller_id, -trade.quantity)):
            holding, _ = Holding.objects.get_or_create(user_id=user_id, company_id=trade.company_id)
            Holding.objects.filter(id=holding.id).update(quantity=F("quantity") + delta)
        trade.settled = True
        trade.save(update_fields=["settled"])


@shared_task
def change_rates():
    """Moves every company's rate by a small random step and logs it."""
    now = timezone.now()
    rows = []
    for rate in StockRate.objects.all():
        step = Decimal(str(round(random.uniform(-0.01, 0.01), 4)))
        rate.rate = max(Decimal("1.00"), (rate.rate * (1 + step)).quantize(Decimal("0.01")))
        rate.save(update_fields=["rate", "updated"])
        rows.append(RateHistory(company_id=rate.company_id, rate=rate.rate, time=now))
    RateHistory.objects.bulk_create(rows)


@shared_task
def expire_offers():
    """Expires open offers older than one minute."""
    cutoff = timezone.now() - timedelta(minutes=1)
    return Offer.objects.filter(status=Offer.OPEN, created__lt=cutoff).update(status=Offer.EXPIRED)
