"""Accounts over the API: the same allocation rules as the pages."""

from datetime import datetime

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from inspecta.core.api_base import AuthedRequest
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.filtersets import api_filter
from inspecta.core.pagination import Pages

from . import permissions, selectors, services
from .choices import Role
from .filtersets import UserFilterSet
from .models import Organisation, User

router = Router(tags=["用户与组织"])


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    level: str
    region: str
    parent_id: int | None
    log_index: int | None = Field(None, description="透明日志中最新条目的序号；待入树时为空")

    @staticmethod
    def resolve_region(obj: Organisation) -> str:
        return obj.region_id


class UserOut(Schema):
    id: int
    username: str
    full_name: str
    organisation: OrganisationOut | None
    roles: list[str]
    is_active: bool
    date_joined: datetime
    log_index: int | None = Field(None, description="透明日志中最新条目的序号；待入树时为空")

    @staticmethod
    def resolve_roles(obj: User) -> list[str]:
        return sorted(g.role for g in obj.role_grants.all())


class UserFilter(Schema):
    q: str = ""
    role: Role | None = None
    is_active: bool | None = None


class UserCreateIn(Schema):
    username: str = Field(..., min_length=3, max_length=150, pattern=r"^[A-Za-z0-9_.@-]+$")
    full_name: str = Field(..., min_length=1, max_length=64)
    organisation_id: int
    role: Role
    password: str = Field(..., min_length=8, max_length=128)
    mobile: str = Field("", pattern=r"^(1\d{10})?$")
    email: str = ""


@router.get("/me", response=UserOut, summary="当前用户")
def me(request: AuthedRequest) -> User:
    return selectors.user_get(actor=request.auth, pk=request.auth.pk)


@router.get("/users", response=list[UserOut], summary="账号列表（本人管理范围）")
@paginate(Pages, page_size=50)
def users(request: AuthedRequest, filters: Query[UserFilter]) -> object:
    data = {"q": filters.q, "role": filters.role.value if filters.role else None, "is_active": filters.is_active}
    return api_filter(UserFilterSet, data, selectors.user_list(actor=request.auth), request=request)


@router.get("/users/{user_id}", response=UserOut, summary="账号详情")
def user(request: AuthedRequest, user_id: int) -> User:
    try:
        return selectors.user_get(actor=request.auth, pk=user_id)
    except User.DoesNotExist as exc:
        raise Http404(_("用户不存在或不在您的管理范围内。")) from exc


@router.post("/users", response={201: UserOut}, summary="分配账号（自上而下）")
def user_create(request: AuthedRequest, payload: UserCreateIn) -> Status[User]:
    actor = request.auth
    org = selectors.organisation_list(actor=actor, action="change").filter(pk=payload.organisation_id).first()
    if org is None or not permissions.may_allocate(actor, org, payload.role.value):  # type: ignore[arg-type]
        raise AppError(ErrorCode.ALLOCATION_FORBIDDEN, _("无权为该单位分配该角色的账号。"))
    created = services.user_create(
        actor=actor,  # type: ignore[arg-type]
        username=payload.username,
        full_name=payload.full_name,
        organisation=org,
        roles=[payload.role.value],
        password=payload.password,
        mobile=payload.mobile,
        email=payload.email,
    )
    return Status(201, created)


@router.post("/users/{user_id}/disable", response=UserOut, summary="停用账号（立即结束会话）")
def user_disable(request: AuthedRequest, user_id: int) -> User:
    target = user(request, user_id)
    if not permissions.may_manage(request.auth, target):  # type: ignore[arg-type]
        raise AppError(ErrorCode.MANAGE_FORBIDDEN, _("无权管理该账号。"))
    return services.user_disable(actor=request.auth, user=target, request=request)  # type: ignore[arg-type]


@router.get("/organisations", response=list[OrganisationOut], summary="单位列表")
@paginate(Pages, page_size=100)
def organisations(request: AuthedRequest) -> object:
    return selectors.organisation_list(actor=request.auth)
