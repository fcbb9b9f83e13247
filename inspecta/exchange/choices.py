"""Enumerations of the exchange API (STYLE.md 11; T/CECS 6.0.5-6.0.8)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuthMethod(models.TextChoices):
    """Signature algorithms of CONTRACT §2 (RFC 9421 algorithm names)."""

    HMAC_SHA256 = "hmac-sha256", _("HMAC-SHA256（平台签发密钥）")
    ED25519 = "ed25519", _("Ed25519（接入方登记公钥）")


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class KeyStatus(models.TextChoices):
    """A key is usable while ``active``, or ``retiring`` until its ``not_after``."""

    AWAITING_PUBLIC_KEY = "awaiting_public_key", _("待登记公钥")
    ACTIVE = "active", _("有效")
    RETIRING = "retiring", _("轮换过渡期")
    REVOKED = "revoked", _("已吊销")


class Scope(models.TextChoices):
    """What a client may do; requested in the application, granted on approval. Each
    scope opens named operations (docs/integration/scopes.md); the operations' auth
    declares them (``exchange.auth.SignatureAuth``), and what the client reaches inside
    an operation is its organisation's scope (``core.scoping``)."""

    FILES_UPLOAD = "files:upload", _("上传文件")
    REPORTS_SUBMIT = "reports:submit", _("报送检测报告并读取本单位的报告")
    RECORDS_SUBMIT = "records:submit", _("报送检测合同等检测记录")
    TESTS_SUBMIT = "tests:submit", _("上传检测数据（原始记录、仪器采集数据）并读取本单位的检测数据")
    WARNINGS_ANSWER = "warnings:answer", _("读取本单位的预警，签收并报送处置情况")
    CUSTODY_WRITE = "custody:write", _("取样送检：代本单位人员办理取样、见证、收样、委托、养护和运输环节")
    REGISTRY_READ = "registry:read", _("读取机构名录（人员、设备、签字人、场所）和资质目录代码")
    SYNC_PUSH = "sync:push", _("下级平台上报工程项目（登记和修改）")
    SYNC_PULL = "sync:pull", _("获取下发数据：机构名录变更订阅（增量同步）")
    PROJECTS_READ = "projects:read", _("读取本辖区工程项目（共享给其他平台）")
    PROJECTS_WRITE = "projects:write", _("登记和修改本辖区工程项目（仅主管部门）")


class ReceiptStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    PROCESSING = "processing", _("处理中")
    SUCCEEDED = "succeeded", _("处理完成")
    FAILED = "failed", _("处理失败")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")


class FindingKind(models.TextChoices):
    ERROR_RATE = "error_rate", _("错误率超过阈值")
    SILENT = "silent", _("接入方长时间无调用")


class UploadState(models.TextChoices):
    RECEIVING = "receiving", _("上传中")
    COMPLETE = "complete", _("已完成")
    TERMINATED = "terminated", _("已终止")
    EXPIRED = "expired", _("已过期")
