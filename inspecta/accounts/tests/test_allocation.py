"""Top-down account allocation (Guangdong 附件2 一(一)) through services, pages and API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from inspecta.accounts import services
from inspecta.accounts.choices import AuthorityLevel, OrganisationKind, Role
from inspecta.accounts.models import User
from inspecta.core.testing.access import assert_gets_nothing, assert_list_excludes, login_verified
from inspecta.core.testing.factories import PASSWORD, region

pytestmark = pytest.mark.django_db


def _create(actor, org, role, username):
    return services.user_create(
        actor=actor, username=username, full_name="新用户", organisation=org, roles=[role], password=PASSWORD
    )


def test_chain_operator_province_city_district(tree):
    province_admin = _create(tree["operator"], tree["gd"], Role.AUTHORITY_ADMIN, "new_gd_admin")
    city_admin = _create(province_admin, tree["gz"], Role.AUTHORITY_ADMIN, "new_gz_admin")
    district_admin = _create(city_admin, tree["th"], Role.AUTHORITY_ADMIN, "new_th_admin")
    supervisor = _create(city_admin, tree["gz"], Role.AUTHORITY_SUPERVISOR, "new_gz_sup")
    inspector = _create(city_admin, tree["gz_station"], Role.STATION_INSPECTOR, "new_gz_insp")
    assert city_admin.created_by == province_admin
    assert district_admin.roles == {Role.AUTHORITY_ADMIN}
    assert supervisor.organisation == tree["gz"] and inspector.organisation == tree["gz_station"]
    assert supervisor.must_change_password is True


@pytest.mark.parametrize(
    ("actor", "org", "role"),
    [
        ("gz_admin", "sz", Role.AUTHORITY_ADMIN),  # a sibling city
        ("gz_admin", "gd", Role.AUTHORITY_SUPERVISOR),  # the level above
        ("gz_admin", "gz", Role.AUTHORITY_ADMIN),  # a peer admin of its own department
        ("gd_admin", "th", Role.AUTHORITY_ADMIN),  # skipping a level
        ("th_admin", "gz", Role.AUTHORITY_SUPERVISOR),  # upwards
        ("gz_supervisor", "gz", Role.AUTHORITY_SUPERVISOR),  # not an admin
        ("operator", "gz", Role.AUTHORITY_ADMIN),  # operator creates province admins only
    ],
)
def test_allocation_outside_subtree_is_refused(tree, actor, org, role):
    before = User.objects.count()
    with pytest.raises(PermissionDenied):
        _create(tree[actor], tree[org], role, "intruder")
    assert User.objects.count() == before


def test_role_must_fit_the_organisation(tree):
    with pytest.raises(ValidationError):
        _create(tree["gz_admin"], tree["gz_station"], Role.AUTHORITY_ADMIN, "wrong_role")
    assert not User.objects.filter(username="wrong_role").exists()


def test_visibility_is_the_subtree(tree):
    visible = set(User.objects.restrict(tree["gz_admin"]).values_list("username", flat=True))
    assert visible == {"gz_admin", "gz_supervisor", "gz_inspector", "th_admin"}
    assert set(User.objects.restrict(tree["gd_admin"]).values_list("username", flat=True)) >= {
        "gz_admin",
        "sz_admin",
        "th_admin",
        "sz_supervisor",
    }
    assert "operator" not in set(User.objects.restrict(tree["gd_admin"]).values_list("username", flat=True))
    assert set(User.objects.restrict(tree["gz_supervisor"]).values_list("username", flat=True)) == {"gz_supervisor"}


def test_city_admin_cannot_see_another_city_pages_and_api(client, tree):
    login_verified(client, tree["gz_admin"])
    sz_admin = tree["sz_admin"]
    assert_list_excludes(
        client,
        "/accounts/users/",
        present=["gz_supervisor", "th_admin"],
        absent=["sz_admin", "sz_supervisor", "gd_admin"],
    )
    assert_gets_nothing(
        client,
        [
            f"/accounts/users/{sz_admin.pk}/",
            f"/accounts/users/{sz_admin.pk}/history/",
            f"/api/v1/accounts/users/{sz_admin.pk}",
        ],
        secrets=[sz_admin.full_name, "sz_admin"],
    )
    body = client.get("/api/v1/accounts/users").json()
    assert {u["username"] for u in body["items"]} == {"gz_admin", "gz_supervisor", "gz_inspector", "th_admin"}


def test_outsider_cannot_disable_or_reset(client, tree):
    login_verified(client, tree["gz_admin"])
    target = tree["sz_supervisor"]
    for action in ("disable", "reset-password", "reset-2fa"):
        response = client.post(f"/accounts/users/{target.pk}/{action}/")
        assert response.status_code == 404
    response = client.post(f"/api/v1/accounts/users/{target.pk}/disable")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    target.refresh_from_db()
    assert target.is_active is True


def test_create_page_offers_only_allowed_allocations(client, tree):
    login_verified(client, tree["gz_admin"])
    page = client.get("/accounts/users/new/").content.decode()
    assert f'value="{tree["th"].pk}:authority_admin"' in page
    assert f'value="{tree["gz"].pk}:authority_supervisor"' in page
    assert f'value="{tree["sz"].pk}:' not in page
    forged = client.post(
        "/accounts/users/new/",
        {
            "allocation": f"{tree['sz'].pk}:authority_admin",
            "username": "forged",
            "full_name": "伪造",
            "password": PASSWORD,
        },
    )
    assert forged.status_code == 400
    assert not User.objects.filter(username="forged").exists()


def test_province_admin_creates_city_admin_through_page(client, tree):
    login_verified(client, tree["gd_admin"])
    response = client.post(
        "/accounts/users/new/",
        {
            "allocation": f"{tree['sz'].pk}:authority_admin",
            "username": "sz_admin2",
            "full_name": "深圳新管理员",
            "mobile": "13800138000",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="sz_admin2")
    assert created.organisation == tree["sz"] and created.is_authority_admin and created.created_by == tree["gd_admin"]
    detail = client.get(response["Location"]).content.decode()
    assert 'data-testid="issued-password"' in detail  # generated password shown once
    assert 'data-testid="issued-password"' not in client.get(response["Location"]).content.decode()


def test_create_page_bad_input_changes_nothing(client, tree):
    login_verified(client, tree["gd_admin"])
    before = User.objects.count()
    for data in (
        {"allocation": f"{tree['sz'].pk}:authority_admin", "username": "x", "full_name": "短"},  # username too short
        {"allocation": f"{tree['sz'].pk}:authority_admin", "username": "okname", "full_name": "名", "mobile": "123"},
        {
            "allocation": f"{tree['sz'].pk}:authority_admin",
            "username": "okname",
            "full_name": "名",
            "password": "short",
        },
        {"allocation": f"{tree['sz'].pk}:authority_admin", "username": "gz_admin", "full_name": "重名"},
    ):
        response = client.post("/accounts/users/new/", data)
        assert response.status_code == 400, data
    assert User.objects.count() == before


def test_api_create_and_errors(client, tree):
    login_verified(client, tree["gz_admin"])
    ok = client.post(
        "/api/v1/accounts/users",
        {
            "username": "api_sup",
            "full_name": "接口创建",
            "organisation_id": tree["gz"].pk,
            "role": "authority_supervisor",
            "password": PASSWORD,
        },
        content_type="application/json",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["roles"] == ["authority_supervisor"]
    forbidden = client.post(
        "/api/v1/accounts/users",
        {
            "username": "api_sz",
            "full_name": "越权",
            "organisation_id": tree["sz"].pk,
            "role": "authority_admin",
            "password": PASSWORD,
        },
        content_type="application/json",
    )
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "allocation_forbidden"
    weak = client.post(
        "/api/v1/accounts/users",
        {
            "username": "api_weak",
            "full_name": "弱密码",
            "organisation_id": tree["gz"].pk,
            "role": "authority_supervisor",
            "password": "password1",
        },
        content_type="application/json",
    )
    assert weak.status_code == 400
    assert weak.json()["error"]["code"] == "validation_failed"
    malformed = client.post("/api/v1/accounts/users", "{not json", content_type="application/json")
    assert malformed.status_code in (400, 422)
    assert "error" in malformed.json()
    assert not User.objects.filter(username__in=["api_sz", "api_weak"]).exists()


def test_organisation_creation_follows_the_tree(tree):
    city = services.organisation_create(
        actor=tree["gd_admin"],
        name="佛山局",
        kind=OrganisationKind.AUTHORITY,
        level=AuthorityLevel.CITY,
        region=region("440600"),
        parent=tree["gd"],
    )
    assert city.tree_path == f"{tree['gd'].tree_path}{city.pk}/"
    with pytest.raises(PermissionDenied):
        services.organisation_create(
            actor=tree["gz_admin"],
            name="越界",
            kind=OrganisationKind.AUTHORITY,
            level=AuthorityLevel.DISTRICT,
            region=region("440303"),
            parent=tree["gz"],
        )
    with pytest.raises(ValidationError):
        services.organisation_create(
            actor=tree["gd_admin"],
            name="层级错",
            kind=OrganisationKind.AUTHORITY,
            level=AuthorityLevel.CITY,
            region=region("440106"),
            parent=tree["gd"],
        )


def test_organisation_pages_are_scoped(client, tree):
    login_verified(client, tree["gz_admin"])
    assert_list_excludes(
        client, "/accounts/organisations/", present=["广州局", "天河局", "广州监督站"], absent=["深圳局", "运维"]
    )
    assert client.get(f"/accounts/organisations/{tree['th'].pk}/history/").status_code == 200
    assert_gets_nothing(client, [f"/accounts/organisations/{tree['sz'].pk}/history/"], secrets=["深圳局"])


def test_city_admin_creates_station_through_page(client, tree):
    login_verified(client, tree["gz_admin"])
    response = client.post(
        "/accounts/organisations/new/", {"kind": "station", "name": "广州第二监督站", "region": "440100"}
    )
    assert response.status_code == 302
    from inspecta.accounts.models import Organisation

    station = Organisation.objects.get(name="广州第二监督站")
    assert station.parent == tree["gz"] and station.level == "city"
    bad = client.post("/accounts/organisations/new/", {"kind": "authority", "name": "越界区", "region": "440303"})
    assert bad.status_code == 400
    assert not Organisation.objects.filter(name="越界区").exists()


def test_api_shows_log_index_of_sequenced_accounts(client, tree):
    from inspecta.ledger.services import sequence_pending

    sequence_pending()
    login_verified(client, tree["gz_admin"])
    body = client.get("/api/v1/accounts/users").json()
    indexes = [u["log_index"] for u in body["items"]]
    assert all(isinstance(i, int) for i in indexes), indexes
    assert len(set(indexes)) == len(indexes)
    me = client.get("/api/v1/accounts/me").json()
    assert me["log_index"] in indexes


def test_bad_account_action_input_re_renders_the_page_with_400_and_changes_nothing(client, tree):
    from inspecta.core.testing.access import login_verified

    login_verified(client, tree["gz_admin"])
    user = tree["gz_supervisor"]
    before = (user.full_name, user.email, user.password)
    page = client.post(f"/accounts/users/{user.pk}/edit/", {"full_name": "", "mobile": "", "email": "不是邮箱"})
    assert page.status_code == 400 and "invalid-feedback" in page.content.decode()
    page = client.post(f"/accounts/users/{user.pk}/reset-password/", {"password": "short"})
    assert page.status_code == 400 and 'data-testid="reset-error"' in page.content.decode()
    user.refresh_from_db()
    assert (user.full_name, user.email, user.password) == before
    page = client.post(f"/accounts/users/{user.pk}/edit/", {"full_name": "刘洋", "mobile": "", "email": ""})
    assert page.status_code == 302
    user.refresh_from_db()
    assert user.full_name == "刘洋"
