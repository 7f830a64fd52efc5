"""Production settings: no start with a published key, `check --deploy` clean over HTTPS, and a
Content-Security-Policy on every response that the shop and the admin both live within."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

REPO = Path(settings.BASE_DIR)


def _manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items()
             if not name.startswith(("DJANGO_", "SECURE_"))}
    # A data folder of its own, so no local key is written into the shared one.
    clean.update(COMMERCE_DATA_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=clean,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("key", ["dev-only-insecure-key-change-me-in-any-deployment", "compose-only-change-me"])
def test_the_shop_refuses_to_start_with_debug_off_and_a_published_key(tmp_path, key):
    result = _manage(tmp_path, "check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=key)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is a published placeholder" in result.stderr


def test_without_a_key_the_shop_uses_the_local_stacks_own_key(tmp_path):
    result = _manage(tmp_path, "check", DJANGO_DEBUG="0")

    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "secret-key.txt").read_text().strip()) >= 50


def test_check_deploy_reports_no_issues_with_production_settings_over_https(tmp_path):
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING",
                     DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_HTTPS="1")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_over_https_pages_redirect_but_load_balancer_probes_do_not(tmp_path):
    probe = ("from django.test import Client; c = Client(); "
             "print(c.get('/search/').status_code, c.get('/readyz').status_code, c.get('/healthz').status_code)")
    result = _manage(tmp_path, "shell", "-c", probe,
                     DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_HTTPS="1")

    assert result.returncode == 0, result.stderr
    search, readyz, healthz = result.stdout.splitlines()[-1].split()
    assert search == "301"
    assert readyz != "301" and healthz != "301"


@pytest.mark.parametrize("path", ["/", "/no-such-page/", "/static/commerce/shop.css", "/images/mug/1f2a44.svg",
                                  "/admin/login/"])
def test_every_response_carries_the_content_security_policy(client, path):
    response = client.get(path)

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def _assets_obey_the_policy(client, html: str) -> None:
    """No inline script or style block (the policy would block them); every asset is this site's."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script"
    assert "<style" not in html, "an inline style block"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"
    assets = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html) + re.findall(r'<link[^>]*\bhref="([^"]+)"', html)
    assert assets
    for url in assets:
        assert url.startswith("/"), f"{url} is not from this site"
        assert client.get(url).status_code == 200, url


@pytest.mark.usefixtures("catalog")
def test_the_storefront_lives_within_its_content_security_policy(client, catalog):
    for path in ("/", "/search/?q=shirt", f"/products/{catalog.products[0].slug}/"):
        _assets_obey_the_policy(client, client.get(path).content.decode())


def test_the_admin_renders_and_its_scripts_and_styles_are_allowed(client):
    client.force_login(get_user_model().objects.create_superuser("operator", password="not-used-here-1"))

    for path in ("/admin/", "/admin/auth/user/", "/admin/auth/user/add/"):
        response = client.get(path)
        assert response.status_code == 200, path
        _assets_obey_the_policy(client, response.content.decode())


@pytest.mark.parametrize("path", ["/accounts/register/", "/accounts/login/", "/accounts/password/reset/",
                                  "/accounts/profile/", "/accounts/tokens/", "/orders/"])
def test_pages_with_forms_let_the_browser_send_its_origin_with_their_posts(client, path):
    # A "no-referrer" policy makes browsers send `Origin: null` with a form's POST, which Django's
    # CSRF check refuses: every account form (and the nav's sign-out) would answer 403.
    client.force_login(get_user_model().objects.create_user("origin@example.com", password="a-long-password-1"))
    if path in ("/accounts/register/", "/accounts/login/", "/accounts/password/reset/"):
        client.logout()
    response = client.get(path)

    assert response.status_code == 200
    policies = [response.get("Referrer-Policy", ""),
                *re.findall(r'<meta name="referrer" content="([^"]+)"', response.content.decode())]
    assert "no-referrer" not in policies and "same-origin" in policies
