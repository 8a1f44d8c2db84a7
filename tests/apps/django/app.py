"""A one-file Django application with Django's own sessions (the cache backend, in memory;
the `sessionid` cookie), served by the standard library's WSGI server on 127.0.0.1.

`/echo` reports every cookie as Django reads it (`request.COOKIES`, django.http.cookie's
parse_cookie) and as the standard library's `http.cookies.SimpleCookie` reads the same header,
and whose session Django attached; `/echo?as=NAME` starts a session owned by NAME.

Usage: python app.py PORT
"""

import http.cookies
import json
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="django differential test key, not a secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
    INSTALLED_APPS=["django.contrib.sessions"],
    SESSION_ENGINE="django.contrib.sessions.backends.cache",
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after settings)
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def simple_cookie(header):
    """What `http.cookies.SimpleCookie` reads (an unparsable header reads as nothing)."""
    jar = http.cookies.SimpleCookie()
    try:
        jar.load(header)
    except http.cookies.CookieError:
        return []
    return [[k, m.value] for k, m in jar.items()]


def echo(request):
    owner = request.GET.get("as")
    if owner:
        request.session["owner"] = owner
    header = request.META.get("HTTP_COOKIE", "")
    return JsonResponse(
        {
            "readers": {
                "django": [[k, v] for k, v in request.COOKIES.items()],
                "http.cookies": simple_cookie(header),
            },
            "owner": request.session.get("owner", ""),
        }
    )


def index(request):
    return HttpResponse("django\n", content_type="text/plain")


urlpatterns = [path("echo", echo), path("", index)]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = make_server("127.0.0.1", int(sys.argv[1]), get_wsgi_application(), handler_class=QuietHandler)
    print("listening", flush=True)
    server.serve_forever()
