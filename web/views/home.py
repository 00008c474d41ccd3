"""Home: where each role starts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in person's entry points (context processor: mnr_navigation)."""
    return render(request, "web/home.html")
