"""Enumerations of the agency registry (STYLE.md 11)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyStatus(models.TextChoices):
    """Review states of an agency (Guangdong 附件2 一(一)-(二))."""

    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("审核通过")
    RETURNED = "returned", _("退回修改")


class ReviewAction(models.TextChoices):
    SUBMIT = "submit", _("提交审核")
    APPROVE = "approve", _("审核通过")
    RETURN = "return", _("退回")


class ChangeRequestStatus(models.TextChoices):
    """A key-fact change after approval: in review until approved or returned (the
    values of ``core.decisions.DecisionStatus``)."""

    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已退回")


class HeadRole(models.TextChoices):
    """T/CECS 4.1.1-2."""

    LEGAL_REPRESENTATIVE = "legal_representative", _("法定代表人")
    TECHNICAL_HEAD = "technical_head", _("技术负责人")
    QUALITY_HEAD = "quality_head", _("质量负责人")


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Education(models.TextChoices):
    DOCTORATE = "doctorate", _("博士研究生")
    MASTER = "master", _("硕士研究生")
    BACHELOR = "bachelor", _("大学本科")
    COLLEGE = "college", _("大学专科")
    SECONDARY = "secondary", _("中专及以下")


class TitleLevel(models.TextChoices):
    """Level of the professional title; counts feed T/CECS 4.1.1-1 head counts."""

    NONE = "none", _("无")
    JUNIOR = "junior", _("初级")
    INTERMEDIATE = "intermediate", _("中级")
    SENIOR = "senior", _("高级")


class OtherCertificateKind(models.TextChoices):
    """Guangdong 附件2 二(八)."""

    GEOTECHNICAL = "geotechnical", _("注册岩土工程师")
    STRUCTURAL = "structural", _("注册结构工程师")
    OTHER = "other", _("其他")


class EquipmentStatus(models.TextChoices):
    """Nanchang 二(一)3 设备状态."""

    IN_USE = "in_use", _("在用")
    STOPPED = "stopped", _("停用")
    RETIRED = "retired", _("报废")


class CalibrationKind(models.TextChoices):
    VERIFICATION = "verification", _("检定")
    CALIBRATION = "calibration", _("校准")
    SELF_CHECK = "self_check", _("自检/自校")


class AgencyCertificateKind(models.TextChoices):
    """Guangdong 附件2 二(四): CMA is required, CNAS optional."""

    CMA = "cma", _("检验检测机构资质认定证书（CMA）")
    CNAS = "cnas", _("实验室认可证书（CNAS）")


class BranchKind(models.TextChoices):
    """Guangdong 附件2 二(十)."""

    BRANCH_OFFICE = "branch_office", _("分公司")
    SUBSIDIARY = "subsidiary", _("子公司")


class FindingSeverity(models.TextChoices):
    CRITICAL = "critical", _("严重")
    WARNING = "warning", _("提示")


class FindingRule(models.TextChoices):
    """Qualification conformity (T/CECS 4.1.3, 4.1.1-8) and certificate hanging (7.2.2-1)."""

    QUALIFICATION_MISSING = "qualification_missing", _("未登记资质证书")
    QUALIFICATION_EXPIRED = "qualification_expired", _("资质证书已过期")
    OUT_OF_QUALIFICATION = "out_of_qualification", _("检测专项超出资质范围")
    CMA_MISSING = "cma_missing", _("CMA 证书缺失或已过期")
    PARAMETER_WITHOUT_EQUIPMENT = "parameter_without_equipment", _("必备参数无有效检定/校准的设备")
    CALIBRATION_EXPIRED = "calibration_expired", _("设备检定/校准已过期")
    CALIBRATION_EXPIRING = "calibration_expiring", _("设备检定/校准 30 日内到期")
    SPECIALTY_WITHOUT_STAFF = "specialty_without_staff", _("检测专项无持有效上岗证的人员")
    SPECIALTY_WITHOUT_SIGNATORY = "specialty_without_signatory", _("检测专项无报告批准人")
    PERSON_IN_TWO_AGENCIES = "person_in_two_agencies", _("同一身份证号在多家机构任职（疑似证书挂靠）")
    CERTIFICATE_SHARED = "certificate_shared", _("同一上岗证被多人使用")


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class RegistryLogKind(models.TextChoices):
    """Kinds the registry appends to the transparency log (CONTRACT §5); renderers in
    ``registry/kinds.py``."""

    AGENCY_APPROVAL = "agency_approval", _("检测机构审核通过")
    # An agency renames itself: its organisation (logged at creation) is logged again, so
    # that the self-audit's re-rendering of the organisation matches its latest entry.
    ORGANISATION_RENAME = "organisation_rename", _("单位更名")
