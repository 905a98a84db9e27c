from django.urls import path

from market import views

urlpatterns = [
    path("api/health", views.health),
    path("api/register", views.register),
    path("api/login", views.login),
    path("api/companies", views.companies),
    path("api/companies/<int:company_id>/rate", views.rate),
    path("api/companies/<int:company_id>/history", views.history),
    path("api/holdings", views.holdings),
    path("api/offers", views.offers),
    path("api/offers/<str:kind>", views.place_offer),
    path("api/transactions", views.transactions),
]
