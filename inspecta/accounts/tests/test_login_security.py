"""Login security (GB/T 22239 level 2 + OWASP ASVS L2)."""

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from inspecta.accounts import services
from inspecta.accounts.choices import AuthEventKind
from inspecta.accounts.models import AuthEvent
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice, offset: int = 0) -> str:
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset)).zfill(device.digits)


def _login(client: Client, username: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.mark.parametrize(
    ("password", "reason"),
    [("Ab1!", "too short"), ("abcdefgh1", "two classes"), ("Password1", "common"), ("Password123", "common")],
)
def test_password_rules(password, reason):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_strong_password_passes():
    validate_password("Kq7#vR2pLm")


def test_five_failures_lock_the_account_even_for_the_right_password(client, tree):
    statuses = [_login(client, "gz_supervisor", "Wrong#Pass1").status_code for _i in range(5)]
    assert statuses == [400, 400, 400, 400, 403]  # the fifth consecutive failure locks
    locked = _login(client, "gz_supervisor")  # sixth attempt, correct password
    assert locked.status_code == 403
    assert "锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # every refused attempt is logged, the one refused by the lock included
    assert AuthEvent.objects.filter(username="gz_supervisor", kind=AuthEventKind.LOGIN_FAILED).count() == 6
    assert AuthEvent.objects.filter(username="gz_supervisor", kind=AuthEventKind.LOCKED_OUT).exists()


def test_lock_expires_after_cool_off(client, tree):
    from axes.models import AccessAttempt

    for _i in range(5):
        _login(client, "gz_supervisor", "Wrong#Pass1")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = _login(client, "gz_supervisor")
    assert response.status_code == 302


def test_success_resets_consecutive_failures(client, tree):
    for _i in range(4):
        _login(client, "gz_supervisor", "Wrong#Pass1")
    assert _login(client, "gz_supervisor").status_code == 302
    client.logout()
    for _i in range(4):
        assert _login(client, "gz_supervisor", "Wrong#Pass1").status_code == 400
    assert _login(client, "gz_supervisor").status_code == 302


@override_settings(INSPECTA_MAX_FAILURES_PER_HOUR=3, AXES_FAILURE_LIMIT=50)
def test_hourly_failure_ceiling(client, tree):
    for _i in range(3):
        _login(client, "gz_supervisor", "Wrong#Pass1")
    response = _login(client, "gz_supervisor")
    assert response.status_code == 429
    assert AuthEvent.objects.filter(username="gz_supervisor", kind=AuthEventKind.THROTTLED).count() == 1


def test_login_rotates_session_id_and_logs_event(client, tree):
    client.get("/accounts/login/")
    client.cookies["sessionid"] = "x" * 32
    anonymous = client.session
    anonymous["probe"] = 1
    anonymous.save()
    before = anonymous.session_key
    _login(client, "gz_supervisor")
    assert client.session.session_key != before
    event = AuthEvent.objects.get(username="gz_supervisor", kind=AuthEventKind.LOGIN_SUCCEEDED)
    assert event.ip == "127.0.0.1" and event.user == tree["gz_supervisor"]


def test_second_factor_required_for_authority_roles(client, tree):
    user = tree["gz_supervisor"]
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = _login(client, "gz_supervisor")
    assert response["Location"] == "/accounts/otp/"
    assert client.get("/").status_code == 302  # nothing else until verified
    api = client.get("/api/v1/accounts/me")
    assert api.status_code == 401 and api.json()["error"]["code"] == "login_incomplete"
    assert (
        client.post("/accounts/otp/", {"token": "000000" if _code(device) != "000000" else "111111"}).status_code == 400
    )
    # django-otp throttles the next try for a second after a failure; the user waits.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    assert client.post("/accounts/otp/", {"token": _code(device)}).status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/accounts/me").json()["username"] == "gz_supervisor"
    kinds = set(AuthEvent.objects.filter(username="gz_supervisor").values_list("kind", flat=True))
    assert {AuthEventKind.LOGIN_SUCCEEDED, AuthEventKind.OTP_FAILED, AuthEventKind.OTP_SUCCEEDED} <= kinds


def test_enrolment_then_recovery_code_works_once(client, tree):
    _login(client, "gz_supervisor")
    setup = client.get("/accounts/otp/setup/")
    assert setup.status_code == 200 and "<svg" in setup.content.decode()
    device = TOTPDevice.objects.get(user=tree["gz_supervisor"], confirmed=False)
    confirm = client.post("/accounts/otp/setup/", {"token": _code(device)})
    assert confirm.status_code == 302
    codes = client.session["recovery_codes"]
    assert len(codes) == 10
    client.get("/accounts/otp/recovery-codes/")
    assert "recovery_codes" not in client.session  # shown once
    client.post("/accounts/logout/")
    _login(client, "gz_supervisor")
    assert client.post("/accounts/otp/", {"token": codes[0]}).status_code == 302
    client.post("/accounts/logout/")
    _login(client, "gz_supervisor")
    assert client.post("/accounts/otp/", {"token": codes[0]}).status_code == 400


def test_second_factor_is_configurable(client, tree):
    with override_settings(INSPECTA_2FA_REQUIRED_ROLES=[]):
        assert _login(client, "gz_supervisor")["Location"] == "/"


def test_expired_password_forces_change(client, tree):
    user = tree["gz_supervisor"]
    user.password_changed_at = timezone.now() - timedelta(days=91)
    user.save(update_fields=["password_changed_at"])
    login_verified(client, user)
    assert client.get("/")["Location"] == "/accounts/password/"
    page = client.get("/accounts/password/").content.decode()
    assert "90" in page
    bad = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password": "password", "new_password_again": "password"}
    )
    assert bad.status_code == 400
    ok = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password": "Fresh#Pass77", "new_password_again": "Fresh#Pass77"},
    )
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Fresh#Pass77") and not user.password_expired
    assert client.get("/").status_code == 200


def test_idle_session_expires_server_side(client, tree):
    login_verified(client, tree["gz_supervisor"])
    assert client.get("/").status_code == 200
    key = client.session.session_key
    # 31 minutes without a request: the server-side row is past its expiry.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_activity_extends_the_idle_window(client, tree, settings):
    login_verified(client, tree["gz_supervisor"])
    client.get("/")
    expiry = Session.objects.get(session_key=client.session.session_key).expire_date
    assert timedelta(minutes=29) < expiry - timezone.now() <= timedelta(minutes=30)


def test_disabling_ends_sessions_at_once(client, tree):
    victim = Client()
    _login(victim, "gz_supervisor")
    assert Session.objects.count() == 1
    login_verified(client, tree["gz_admin"])
    response = client.post(f"/accounts/users/{tree['gz_supervisor'].pk}/disable/")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=victim.session.session_key).exists()
    after = victim.get("/")
    assert after.status_code == 302 and after["Location"].startswith("/accounts/login/")
    assert _login(victim, "gz_supervisor").status_code == 400  # disabled accounts cannot sign in


def test_admin_resets_password_and_second_factor(client, tree):
    target = tree["gz_supervisor"]
    TOTPDevice.objects.create(user=target, name="phone", confirmed=True)
    login_verified(client, tree["gz_admin"])
    client.post(f"/accounts/users/{target.pk}/reset-2fa/")
    assert not TOTPDevice.objects.filter(user=target).exists()
    client.post(f"/accounts/users/{target.pk}/reset-password/", {"password": "Temp#Pass99"})
    target.refresh_from_db()
    assert target.check_password("Temp#Pass99") and target.must_change_password
    kinds = set(AuthEvent.objects.filter(user=target).values_list("kind", flat=True))
    assert {AuthEventKind.OTP_RESET, AuthEventKind.PASSWORD_RESET} <= kinds


def test_failures_counter_helper(tree):
    for _i in range(3):
        services.auth_event_record(kind=AuthEventKind.LOGIN_FAILED, username="someone")
    assert services.failures_in_last_hour("someone") == 3
