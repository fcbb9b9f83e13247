"""Enumerations of the transparency log (STYLE.md 11)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LogKind(models.TextChoices):
    """Kinds of logged records of the foundation (accounts, code tables); every other app
    names its own in one ``<App>LogKind`` enum, so ``Entry.kind`` is not limited to these."""

    ACCOUNT_ALLOCATION = "account_allocation", _("账号分配")
    ACCOUNT_STATUS_CHANGE = "account_status_change", _("账号启用/停用")
    ORGANISATION_CREATION = "organisation_creation", _("单位创建")
    CODE_TABLE_CHANGE = "code_table_change", _("代码表变更")


class KeyAlgorithm(models.TextChoices):
    """Signature algorithm of a checkpoint signing key (C2SP signed-note; GB/T 39786)."""

    ED25519 = "ed25519", "Ed25519"
    SM2 = "sm2", "SM2-SM3"


class FindingSeverity(models.TextChoices):
    CRITICAL = "critical", _("严重")
    WARNING = "warning", _("警告")


class FindingKind(models.TextChoices):
    """What the self-audit or a witness found (T/CECS 7.2.3)."""

    RECORD_CHANGED = "record_changed", _("记录与存证不一致")
    RECORD_MISSING = "record_missing", _("存证记录已不存在")
    ENTRY_CORRUPT = "entry_corrupt", _("存证条目损坏")
    TREE_MISMATCH = "tree_mismatch", _("默克尔树不一致")
    CHECKPOINT_INVALID = "checkpoint_invalid", _("检查点无效")
    UNVERIFIABLE_KIND = "unverifiable_kind", _("无法复核的存证类型")
    WITNESS_FORK = "witness_fork", _("日志分叉")
    WITNESS_INVALID = "witness_invalid", _("见证校验失败")
    TIMESTAMP_INVALID = "timestamp_invalid", _("时间戳与检查点不符")
