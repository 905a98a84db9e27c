from django.urls import path

from market import views

# The names are the request classes (Locust's request names).
urlpatterns = [
    path("api/health", views.health, name="health"),
    path("api/register", views.register, name="register"),
    path("api/login", views.login, name="login"),
    path("api/companies", views.companies, name="companies"),
    path("api/companies/<int:company_id>/rate", views.rate, name="rate"),
    path("api/companies/<int:company_id>/history", views.history, name="history"),
    path("api/holdings", views.holdings, name="holdings"),
    path("api/offers", views.offers, name="offers"),
    path("api/offers/<str:kind>", views.place_offer, name="offer"),
    path("api/transactions", views.transactions, name="transactions"),
]
