"""Enumerations of reports (STYLE.md 11)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Conclusion(models.TextChoices):
    """检测结论 (Nanchang 三(一))."""

    QUALIFIED = "qualified", _("合格")
    NONCONFORMING = "nonconforming", _("不合格")
    NO_VERDICT = "no_verdict", _("不作判定")


class ReportStatus(models.TextChoices):
    """Public status of a report (CONTRACT §6)."""

    VALID = "valid", _("有效")
    AMENDED = "amended", _("已变更")
    REVOKED = "revoked", _("已撤销")


class AmendmentStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class CheckAction(models.TextChoices):
    """What a failed acceptance check does: refuse, or accept with a finding."""

    REJECT = "reject", _("拒绝接收")
    FLAG = "flag", _("接收并记录问题")


class CheckCode(models.TextChoices):
    """Stable codes of the acceptance checks (T/CECS 4.3.4; Nanchang 三(一))."""

    AGENCY_NOT_APPROVED = "agency_not_approved", _("检测机构未通过审核")
    CAPABILITY_MISSING = "capability_missing", _("检测能力不覆盖该检测项目/参数")
    TESTER_CERTIFICATE_INVALID = "tester_certificate_invalid", _("检测人员检测日无有效上岗证")
    SIGNATORY_NOT_AUTHORISED = "signatory_not_authorised", _("授权签字人无该签字范围或场所")
    EQUIPMENT_NOT_CALIBRATED = "equipment_not_calibrated", _("仪器设备未登记或检测日不在检定/校准有效期内")
    AGENCY_NOT_PARTY = "agency_not_party", _("检测机构不是该项目的参建方")
    TOO_MANY_AGENCIES = "too_many_agencies", _("同一项目同一检测项目超过两家检测机构")
    APPROVAL_TRAIL_INVALID = "approval_trail_invalid", _("三级审批记录不完整或时间顺序不正确")
    SAMPLE_CHAIN_INCOMPLETE = "sample_chain_incomplete", _("报告所列样品未经见证取样、封样和本机构收样")
    REPORT_DATA_MISMATCH = "report_data_mismatch", _("检测报告与上传的检测数据不相符")
    REPORT_DATA_MISSING = "report_data_missing", _("报告所列样品没有上传检测数据")


class ReportLogKind(models.TextChoices):
    """Kinds the reports app appends to the transparency log (CONTRACT §5); renderers in
    ``reports/kinds.py``."""

    REPORT_VERSION = "report_version", _("报告版本")
    REPORT_AMENDMENT = "report_amendment", _("报告变更")
    REPORT_REVOCATION = "report_revocation", _("报告撤销")


class DraftStatus(models.TextChoices):
    """Where a report prepared on the web stands in the three-level sign-off
    (Nanchang 三(一); Guangxi 第十一条): each level signs with its own account."""

    TESTING = "testing", _("待检测人签署")
    REVIEWING = "reviewing", _("待审核人签署")
    APPROVING = "approving", _("待授权签字人批准")
    RETURNED = "returned", _("已退回")
    ISSUED = "issued", _("已签发")
