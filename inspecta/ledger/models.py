"""The transparency log: entries, stored tree, signed checkpoints, keys, findings.

T/CECS 2.0.15, 4.1.2, 4.3.3-2, 7.2.3 ("blockchain evidence": tamper-evident, traceable
key-node data); CONTRACT §5. An append-only RFC 9162 Merkle tree whose leaves are the
RFC 8785 canonical JSON of the logged records; see ``docs/ledger.md``.

Nothing here is updated through the application except what the sequencer does
once per entry (assigning ``index``/``sequenced_at``): ``Entry.save`` refuses
updates, ``EntryQuerySet.update`` refuses any other column, deletes are refused.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspecta.core.findings import Finding
from inspecta.core.permissions import is_operator
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import FindingKind, FindingSeverity, KeyAlgorithm

__all__ = [
    "AuditFinding",
    "Checkpoint",
    "CheckpointTimestamp",
    "Entry",
    "LogImmutable",
    "SequencerState",
    "SigningKey",
    "TreeNode",
    "WitnessedCheckpoint",
]


class LogImmutable(Exception):
    """Raised when code tries to change or remove what the log has recorded."""


SEQUENCER_FIELDS = frozenset({"index", "sequenced_at"})


class EntryQuerySet(models.QuerySet["Entry"]):
    """Entries are insert-only; only the sequencer may fill in ``index``/``sequenced_at``."""

    def update(self, **kwargs: Any) -> int:
        if not set(kwargs) <= SEQUENCER_FIELDS:
            raise LogImmutable("log entries cannot be changed")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LogImmutable("log entries cannot be deleted")

    def sequenced(self) -> EntryQuerySet:
        return self.filter(index__isnull=False)

    def pending(self) -> EntryQuerySet:
        return self.filter(index__isnull=True)


class Entry(models.Model):
    """One logged record version (T/CECS 4.1.2, 7.2.3; CONTRACT §5).

    ``entry`` is the RFC 8785 (JCS) canonical JSON of the record, its kind and id,
    its logging time and the SHA-256 of each file it references; ``leaf_hash`` is
    ``SHA-256(0x00 || entry)`` (RFC 9162 §2.1.1). The row is written in the same
    transaction as the record (``services.log_append``); the sequencer later gives
    it its gap-free ``index`` in the tree. ``index`` is null while pending.
    """

    index = models.BigIntegerField(_("序号"), null=True, blank=True, unique=True)
    kind = models.CharField(_("类型"), max_length=64, db_index=True)
    record_type = models.CharField(_("记录类别"), max_length=100)
    record_id = models.CharField(_("记录编号"), max_length=64)
    entry = models.BinaryField(_("条目"))
    leaf_hash = models.BinaryField(_("叶哈希"), max_length=32)
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    sequenced_at = models.DateTimeField(_("入树时间"), null=True, blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("存证条目")
        verbose_name_plural = _("存证条目")
        ordering = ["pk"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="ledger_entry_record")]

    def __str__(self) -> str:
        where = f"#{self.index}" if self.index is not None else _("待入树")
        return f"{where} {self.kind} {self.record_type}:{self.record_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LogImmutable("log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise LogImmutable("log entries cannot be deleted")

    @property
    def is_pending(self) -> bool:
        return self.index is None


class TreeNode(models.Model):
    """Hash of one perfect subtree of the log (RFC 9162; ``inspecta.ledger.merkle``).

    The node ``(level, index)`` covers leaves ``[index << level, (index + 1) << level)``;
    level 0 rows are the leaf hashes. Written once by the sequencer, never changed:
    any root or proof of any size needs O(log n) of these rows (T/CECS 7.2.3).
    The primary key is the node's position in append order
    (``store.stored_hash_index``, as Go's ``tlog.StoredHashIndex``), so a proof is one
    primary-key lookup of a list of integers and inserts go to the end of the index.
    """

    id = models.BigIntegerField(_("存储位置"), primary_key=True)
    level = models.PositiveSmallIntegerField(_("层"))
    index = models.BigIntegerField(_("序号"))
    hash = models.BinaryField(_("哈希"), max_length=32)

    class Meta:
        verbose_name = _("树节点")
        verbose_name_plural = _("树节点")

    def __str__(self) -> str:
        return f"({self.level}, {self.index})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LogImmutable("tree nodes cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise LogImmutable("tree nodes cannot be deleted")


class SequencerState(models.Model):
    """The single row the sequencer locks: how many leaves the stored tree holds, and
    the log's origin as fixed at the node's first start.

    ``select_for_update`` on this row (PostgreSQL) serialises sequencer runs, so
    indexes are consecutive without gaps; SQLite serialises writers by itself.
    """

    size = models.BigIntegerField(_("树大小"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    # the log's origin line and key name, fixed at the node's first start and never
    # changed once a checkpoint is signed with it (``services.log_origin``)
    origin = models.CharField(_("日志名称"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("排序器状态")
        verbose_name_plural = _("排序器状态")

    def __str__(self) -> str:
        return str(self.size)


class SigningKey(models.Model):
    """A checkpoint signing key (C2SP signed-note; T/CECS 2.0.15, 8.x; GB/T 39786).

    Ed25519 signs every checkpoint; an SM2-with-SM3 key signs a second line when
    ``INSPECTA_LOG_SM2_SIGNATURE`` is on (``inspecta.ledger.sm2``). The private key is
    stored encrypted (``inspecta.ledger.keys``); the verifier key string is public and
    kept after rotation so that old checkpoints stay verifiable (the key history is
    public). At most one key per algorithm is active.
    """

    name = models.CharField(_("密钥名称"), max_length=200)
    algorithm = models.CharField(
        _("签名算法"), max_length=16, choices=KeyAlgorithm.choices, default=KeyAlgorithm.ED25519
    )
    key_hash = models.CharField(_("密钥标识"), max_length=8)
    verifier_key = models.CharField(_("验证公钥"), max_length=400, unique=True)
    encrypted_private_key = models.BinaryField(_("加密私钥"))
    is_active = models.BooleanField(_("当前使用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["algorithm"], condition=models.Q(is_active=True), name="ledger_signingkey_one_active_per_alg"
            )
        ]

    def __str__(self) -> str:
        return self.verifier_key


class Checkpoint(models.Model):
    """A signed tree head as published (C2SP tlog-checkpoint; CONTRACT §5).

    ``note`` is exactly the text served by ``GET /api/v1/log/checkpoint``; every
    checkpoint is kept, so consistency between any two can be proved.
    """

    size = models.BigIntegerField(_("树大小"), db_index=True)
    root = models.BinaryField(_("根哈希"), max_length=32)
    note = models.TextField(_("签名检查点"))
    key = models.ForeignKey(SigningKey, verbose_name=_("签名密钥"), on_delete=models.PROTECT, related_name="+")
    sm2_key = models.ForeignKey(
        SigningKey,
        verbose_name=_("SM2 签名密钥"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text=_("第二签名行（SM2-SM3，GB/T 39786）所用的密钥，未启用时为空。"),
    )
    created_at = models.DateTimeField(_("签发时间"), default=timezone.now)

    class Meta:
        verbose_name = _("检查点")
        verbose_name_plural = _("检查点")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.size} @ {self.created_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LogImmutable("checkpoints cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise LogImmutable("checkpoints cannot be deleted")


class CheckpointTimestamp(models.Model):
    """The RFC 3161 timestamp of a checkpoint from the configured TSA (T/CECS 4.1.2, 7.2.3).

    ``imprint`` is SHA-256 of the checkpoint *body* (the signed note text
    ``origin\nsize\nbase64(root)\n``, identical for every checkpoint of one tree
    size whatever key signed it); ``token`` is the DER ``TimeStampToken`` (CMS
    ``ContentInfo``) the TSA returned for it. The row is queued when the checkpoint
    is published and filled by the ``ledger_timestamp`` job; failures are kept in
    ``attempts``/``last_error`` and retried with back-off. Once obtained, a token is
    never changed or removed.
    """

    checkpoint = models.OneToOneField(
        Checkpoint, verbose_name=_("检查点"), on_delete=models.PROTECT, related_name="timestamp"
    )
    imprint = models.BinaryField(_("摘要"), max_length=32)
    tsa_url = models.CharField(_("时间戳服务地址"), max_length=500)
    token = models.BinaryField(_("时间戳令牌"), null=True, blank=True)
    tsa_name = models.CharField(_("时间戳机构"), max_length=500, blank=True)
    gen_time = models.DateTimeField(_("时间戳时间"), null=True, blank=True)
    serial_number = models.CharField(_("时间戳序列号"), max_length=100, blank=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(_("最近尝试时间"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("检查点时间戳")
        verbose_name_plural = _("检查点时间戳")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.checkpoint_id} {self.gen_time or '-'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and CheckpointTimestamp.objects.filter(pk=self.pk, token__isnull=False).exists():
            raise LogImmutable("an obtained timestamp cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise LogImmutable("checkpoint timestamps cannot be deleted")


class WitnessedCheckpoint(models.Model):
    """A checkpoint of another node as seen by ``inspecta log witness``.

    Kept per source so that each new one is checked for consistency with the last,
    and two different roots for one size (a fork) raise a finding.
    """

    source = models.CharField(_("来源地址"), max_length=300, db_index=True)
    origin = models.CharField(_("日志名称"), max_length=200)
    verifier_key = models.CharField(_("验证公钥"), max_length=400)
    size = models.BigIntegerField(_("树大小"))
    root = models.BinaryField(_("根哈希"), max_length=32)
    note = models.TextField(_("签名检查点"))
    fetched_at = models.DateTimeField(_("获取时间"), default=timezone.now)

    class Meta:
        verbose_name = _("见证检查点")
        verbose_name_plural = _("见证检查点")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.origin} {self.size}"


class AuditFinding(Finding):
    """Something the self-audit or a witness found wrong (T/CECS 7.2.3).

    Critical findings mean the log and the database disagree: a record changed
    behind the platform's back, a corrupt tree, a bad signature, a fork.
    """

    clause = "T/CECS 7.2.3"
    rules = FindingKind

    severity = models.CharField(_("级别"), max_length=16, choices=FindingSeverity.choices, db_index=True)
    rule = models.CharField(_("类别"), max_length=32, choices=FindingKind.choices, db_index=True)
    detail = models.CharField(_("摘要"), max_length=500)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计发现")
        verbose_name_plural = _("审计发现")
        ordering = ["-since", "-pk"]

    def __str__(self) -> str:
        return self.detail

    # the log is the platform's, not a region's: operators read it
    scoping = Scoping(grants={"view": (Grant(Reach.ALL, is_operator),)})
