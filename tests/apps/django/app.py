"""A one-file Django project with Django's own sessions (the cache backend, in memory; the
`sessionid` cookie), served by the standard library's WSGI server on 127.0.0.1:
- `/admin/`: Django's admin site, a real application with a login form and CSRF tokens (a
  superuser `admin` is created at start, password `$ADMIN_PASSWORD`; SQLite in `$APP_DIR`);
- `/kill-session`: the `ORIGIN_KILL_URL` page, loaded from the file `$KILL_PAGE` (the tests
  take it from docs/guard-mode.md as written);
- `/echo`: every cookie as Django reads it (`request.COOKIES`, django.http.cookie's
  parse_cookie) and as the standard library's `http.cookies.SimpleCookie` reads the same
  header, and whose session Django attached; `/echo?as=NAME` starts a session owned by NAME.

Usage: python app.py PORT
"""

import http.cookies
import os
import sys

import django
from django.conf import settings

APP_DIR = os.environ.get("APP_DIR", ".")
settings.configure(
    DEBUG=False,
    SECRET_KEY="django test key, not a secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    INSTALLED_APPS=[
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(APP_DIR, "db.sqlite3")}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    SESSION_ENGINE="django.contrib.sessions.backends.cache",
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    USE_TZ=True,
    # Errors go to stderr (the test's output), not to mail.
    LOGGING={
        "version": 1,
        "handlers": {"stderr": {"class": "logging.StreamHandler"}},
        "loggers": {
            "django.request": {"handlers": ["stderr"], "level": "ERROR"},
            "django.server": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        },
    },
)
django.setup()

from django.contrib import admin  # noqa: E402 (after settings)
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import run  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
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


def kill_page():
    """The ORIGIN_KILL_URL view from $KILL_PAGE (a Python file defining `kill_session`)."""
    source = os.environ.get("KILL_PAGE")
    if not source:
        return lambda request: HttpResponse("no kill page", status=404)
    scope = {"__name__": "kill_page"}
    with open(source, encoding="utf-8") as f:
        exec(compile(f.read(), source, "exec"), scope)  # noqa: S102 (the docs' own code, by design)
    return scope["kill_session"]


urlpatterns = [
    path("admin/", admin.site.urls),
    path("kill-session", kill_page()),
    path("echo", echo),
    path("", index),
]


if __name__ == "__main__":
    call_command("migrate", verbosity=0, interactive=False)
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.test", os.environ.get("ADMIN_PASSWORD", "admin-test-pass"))
    # Django's own threaded HTTP/1.1 server (runserver's, without the autoreloader): the
    # edge's calls (ORIGIN_KILL_URL) may overlap a page, and its connections are kept alive.
    print("listening", flush=True)
    run("127.0.0.1", int(sys.argv[1]), get_wsgi_application(), threading=True)
