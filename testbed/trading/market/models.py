"""The trading platform's data: accounts with a cash balance, companies and
their current rate, a rate history, holdings, offers, matched transactions and
a log of balance updates."""
from django.conf import settings
from django.db import models


class Account(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    balance = models.DecimalField(max_digits=14, decimal_places=2, default=100000)


class Company(models.Model):
    symbol = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=100)


class StockRate(models.Model):
    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="rate")
    rate = models.DecimalField(max_digits=12, decimal_places=2)
    updated = models.DateTimeField(auto_now=True)


class RateHistory(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    rate = models.DecimalField(max_digits=12, decimal_places=2)
    time = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["company", "time"])]


class Holding(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    quantity = models.IntegerField(default=0)

    class Meta:
        unique_together = [("user", "company")]


class Offer(models.Model):
    BUY, SELL = "buy", "sell"
    OPEN, MATCHED, EXPIRED = "open", "matched", "expired"
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    kind = models.CharField(max_length=4)
    quantity = models.IntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=8, default=OPEN, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["company", "kind", "status", "price"])]


class Transaction(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    quantity = models.IntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    time = models.DateTimeField(auto_now_add=True, db_index=True)
    settled = models.BooleanField(default=False)


class BalanceUpdate(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    reason = models.CharField(max_length=40)
    time = models.DateTimeField(auto_now_add=True)
