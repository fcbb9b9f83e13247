"""Regions and the qualification catalog over the API: for browser sessions, and for
signed exchange clients granted ``registry:read`` (the catalog codes a LIMS or a city
platform maps its own to; Guangdong 附件2 一(一), 一(四)). The auth class is named by
its import path so that this module imports nothing of the apps."""

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from inspecta.core.api_base import AuthedRequest

from . import selectors
from .filtersets import RegionFilterSet, api_filter
from .models import Region, Specialty, TestItem
from .pagination import Pages


def _read_auth() -> list[object]:
    from inspecta.core.api_base import session_auth
    from inspecta.exchange.auth import SignatureAuth
    from inspecta.exchange.choices import Scope

    return [SignatureAuth(scopes=[Scope.REGISTRY_READ.value], optional=True), session_auth]


router = Router(tags=["基础数据"], auth=_read_auth())


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None

    @staticmethod
    def resolve_parent(obj: Region) -> str | None:
        return obj.parent_id


class RegionFilter(Schema):
    q: str = ""
    parent: str | None = None


@router.get("/regions", response=list[RegionOut], summary="行政区划列表")
@paginate(Pages, page_size=100)
def regions(request: AuthedRequest, filters: Query[RegionFilter]) -> object:
    """Provinces by default; children of ``parent``; or matches of ``q`` (name or code prefix)."""

    return api_filter(RegionFilterSet, filters.dict(), selectors.region_list(actor=request.auth), request=request)


@router.get("/regions/{code}", response=RegionOut, summary="行政区划详情")
def region(request: AuthedRequest, code: str) -> Region:
    obj = Region.objects.restrict(request.auth).filter(pk=code).first()
    if obj is None:
        raise Http404(_("行政区划不存在。"))
    return obj


class ParameterLinkOut(Schema):
    code: str
    name: str
    level: str


class TestItemOut(Schema):
    code: str
    name: str
    optional_for_qualification: bool
    parameters: list[ParameterLinkOut]

    @staticmethod
    def resolve_parameters(obj: TestItem) -> list[dict[str, str]]:
        return [
            {"code": link.parameter.code, "name": link.parameter.name, "level": link.level}
            for link in obj.item_parameters.all()
        ]


class SpecialtyOut(Schema):
    code: str
    official_no: str
    name: str
    enabled: bool


@router.get("/catalog/specialties", response=list[SpecialtyOut], summary="检测专项")
def specialties(request: AuthedRequest) -> object:
    return Specialty.objects.restrict(request.auth).order_by("code")


@router.get("/catalog/specialties/{code}/items", response=list[TestItemOut], summary="检测项目及参数")
def items(request: AuthedRequest, code: str) -> object:
    if not Specialty.objects.restrict(request.auth).filter(pk=code).exists():
        raise Http404(_("检测专项不存在。"))
    return selectors.test_item_list(actor=request.auth, specialty=code)
