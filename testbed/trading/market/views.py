"""The REST API. Reads are a query or two; writes enqueue Celery work; the
history endpoint aggregates many rows (the CPU-heavy analytical request)."""
import random
import statistics
from decimal import Decimal

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import transaction as db_transaction
from django.db.models import Count
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .models import Account, Holding, Offer, RateHistory, StockRate, Transaction
from .tasks import match_offers


@api_view(["GET"])
@permission_classes([AllowAny])
def health(request):
    return Response({"ok": True})


@api_view(["POST"])
@permission_classes([AllowAny])
def register(request):
    name, password = request.data.get("username"), request.data.get("password")
    if not name or not password:
        return Response({"error": "username and password required"}, status=400)
    with db_transaction.atomic():
        if User.objects.filter(username=name).exists():
            return Response({"error": "taken"}, status=409)
        user = User.objects.create_user(username=name, password=password)
        Account.objects.create(user=user)
    return Response({"id": user.id}, status=201)


@api_view(["POST"])
@permission_classes([AllowAny])
def login(request):
    user = authenticate(username=request.data.get("username"), password=request.data.get("password"))
    if user is None:
        return Response({"error": "bad credentials"}, status=401)
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    return Response({"token": token.key})


@api_view(["GET"])
def companies(request):
    rows = StockRate.objects.select_related("company").order_by("company__symbol")
    return Response([{"id": r.company_id, "symbol": r.company.symbol, "rate": str(r.rate)} for r in rows])


@api_view(["GET"])
def rate(request, company_id):
    r = StockRate.objects.filter(company_id=company_id).first()
    if r is None:
        return Response({"error": "no such company"}, status=404)
    return Response({"company": company_id, "rate": str(r.rate), "updated": r.updated.isoformat()})


@api_view(["GET"])
def holdings(request):
    rows = Holding.objects.filter(user=request.user).select_related("company")
    cash = Account.objects.get(user=request.user).balance
    return Response({"cash": str(cash), "holdings": [{"symbol": h.company.symbol, "quantity": h.quantity} for h in rows]})


@api_view(["POST"])
def place_offer(request, kind):
    if kind not in (Offer.BUY, Offer.SELL):
        return Response({"error": "kind must be buy or sell"}, status=404)
    try:
        company_id = int(request.data["company"])
        quantity = int(request.data["quantity"])
        price = Decimal(str(request.data["price"])).quantize(Decimal("0.01"))
    except (KeyError, ValueError, ArithmeticError):
        return Response({"error": "company, quantity and price required"}, status=400)
    offer = Offer.objects.create(user=request.user, company_id=company_id, kind=kind, quantity=quantity, price=price)
    match_offers.delay(company_id)
    return Response({"id": offer.id}, status=201)


@api_view(["GET"])
def offers(request):
    rows = Offer.objects.filter(user=request.user, status=Offer.OPEN).order_by("-created")[:50]
    return Response([{"id": o.id, "kind": o.kind, "quantity": o.quantity, "price": str(o.price)} for o in rows])


@api_view(["GET"])
def transactions(request):
    mine = Transaction.objects.filter(buyer=request.user) | Transaction.objects.filter(seller=request.user)
    rows = mine.order_by("-time")[:50]
    return Response([{"id": t.id, "quantity": t.quantity, "price": str(t.price), "time": t.time.isoformat()} for t in rows])


@api_view(["GET"])
def history(request, company_id):
    """Analytics over the company's whole rate history: per-minute candles,
    a moving mean, the volatility of returns and the traded volume (the
    CPU-heavy request: thousands of rows through Python)."""
    rows = list(RateHistory.objects.filter(company_id=company_id).order_by("time").values_list("time", "rate"))
    if len(rows) < 2:
        return Response({"company": company_id, "candles": 0})
    candles = {}
    for time, rate in rows:
        minute = time.replace(second=0, microsecond=0)
        low, high, total, n = candles.get(minute, (rate, rate, Decimal(0), 0))
        candles[minute] = (min(low, rate), max(high, rate), total + rate, n + 1)
    means = [float(total / n) for _, _, total, n in candles.values()]
    rates = [float(rate) for _, rate in rows]
    returns = [b / a - 1.0 for a, b in zip(rates, rates[1:]) if a]
    window = 30
    moving = [statistics.fmean(rates[max(0, i - window + 1) : i + 1]) for i in range(0, len(rates), 10)]
    volume = Transaction.objects.filter(company_id=company_id).aggregate(n=Count("id"))["n"]
    return Response(
        {
            "company": company_id,
            "candles": len(means),
            "range": [min(means), max(means)],
            "last_moving_mean": moving[-1],
            "volatility": statistics.pstdev(returns),
            "volume": volume,
            "sample": random.sample(moving, min(5, len(moving))),
        }
    )
