"""Web forms of the chain of custody, for phones on a building site (57号令 第十八条;
Nanchang 四(一)): projects, agencies and test items are chosen by name from lists limited
to what the acting person may choose; tags are scanned (or typed) one per line; photos
arrive as the ids of finished uploads; the position comes from the phone."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from inspecta.accounts.models import User
from inspecta.core.actors import actor_of
from inspecta.core.forms import PickerSelect, StyledForm, plain_messages
from inspecta.core.models import StoredFile, TestItem
from inspecta.projects.models import Project, ProjectParty
from inspecta.registry.models import Agency

from . import permissions
from .choices import CuringCondition, CustodyEventKind, PhotoKind
from .services import PhotoIn, TagIn


class _Named(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(getattr(obj, "name", obj))


class _Person(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name}（{obj.organisation.name}）"


class _Item(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.specialty.name}）" if getattr(obj, "specialty_id", None) else obj.name


def recordable_projects(actor: Any) -> Any:
    """The projects on which ``actor`` may record a sampling."""

    a = actor_of(actor)
    if not permissions.may_record_samples(a) or a.organisation is None:
        return Project.objects.none()
    party_of = ProjectParty.objects.filter(organisation_id=a.organisation.pk).values("project_id")
    return Project.objects.restrict(actor).filter(pk__in=party_of).order_by("-created_at")


def _file_ids(value: str) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise ValidationError(_("照片上传未完成，请重新拍摄。")) from None


class SampleRecordForm(StyledForm):
    project = _Named(
        label=_("工程项目"), queryset=Project.objects.none(), widget=PickerSelect(placeholder=_("输入项目名称搜索"))
    )
    agency = _Named(
        label=_("送检机构"), queryset=Agency.objects.none(), widget=PickerSelect(placeholder=_("输入机构名称搜索"))
    )
    test_item = _Item(
        label=_("检测项目"), queryset=TestItem.objects.none(), widget=PickerSelect(placeholder=_("输入检测项目搜索"))
    )
    part = forms.CharField(label=_("工程部位"), max_length=200)
    batch = forms.CharField(label=_("批号/代表批量"), max_length=100, required=False)
    count = forms.IntegerField(label=_("试件数量"), min_value=1, max_value=30, initial=3)
    dimensions = forms.CharField(label=_("规格尺寸"), max_length=100, required=False)
    description = forms.CharField(
        label=_("样品描述"), max_length=255, required=False, help_text=_("如强度等级、品种。")
    )
    tags = forms.CharField(
        label=_("样品标识"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_("扫描每个试件的二维码标签或芯片，每行一个；也可手工输入。"),
    )
    specimen_photos = forms.CharField(widget=forms.HiddenInput, required=False)
    placard_photos = forms.CharField(widget=forms.HiddenInput, required=False)
    latitude = forms.DecimalField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    longitude = forms.DecimalField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    accuracy_m = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        projects = recordable_projects(actor)
        agency_ids = ProjectParty.objects.filter(project__in=projects, agency__isnull=False).values("agency_id")
        choices = {
            "project": projects,
            "agency": Agency.objects.filter(pk__in=agency_ids).order_by("name"),
            "test_item": TestItem.objects.select_related("specialty").order_by("code"),
        }
        for name, queryset in choices.items():
            cast(forms.ModelChoiceField, self.fields[name]).queryset = queryset

    def clean_tags(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["tags"].splitlines() if line.strip()]

    def _photos(self, name: str, kind: str) -> list[PhotoIn]:
        ids = _file_ids(self.cleaned_data.get(name) or "")
        files = {f.pk: f for f in StoredFile.objects.restrict(self.actor).filter(pk__in=ids)}
        if len(files) != len(set(ids)):
            raise ValidationError(_("照片文件不存在，请重新拍摄。"))
        return [PhotoIn(kind, files[i]) for i in ids]

    def service_kwargs(self) -> dict[str, Any]:
        """The arguments of ``services.sample_record`` (raises ``ValidationError`` for photos
        that are not the actor's finished uploads)."""

        data = self.cleaned_data
        photos = self._photos("specimen_photos", PhotoKind.SPECIMEN) + self._photos("placard_photos", PhotoKind.PLACARD)
        return {
            "project": data["project"],
            "agency": data["agency"],
            "test_item": data["test_item"],
            "part": data["part"],
            "batch": data["batch"],
            "count": data["count"],
            "dimensions": data["dimensions"],
            "description": data["description"],
            "tags": [TagIn(t) for t in data["tags"]],
            "photos": photos,
            "latitude": data.get("latitude"),
            "longitude": data.get("longitude"),
            "accuracy_m": data.get("accuracy_m"),
        }


def commission_projects(actor: Any) -> Any:
    """The projects on which ``actor`` may fill a commission (a deliverer of a party)."""

    a = actor_of(actor)
    if not permissions.may_deliver(a) or a.organisation is None:
        return Project.objects.none()
    party_of = ProjectParty.objects.filter(organisation_id=a.organisation.pk).values("project_id")
    return Project.objects.restrict(actor).filter(pk__in=party_of).order_by("-created_at")


class _SampleChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        from .codes import display

        return f"{display(obj.code)} · {obj.test_item.name} · {obj.part}"


class CommissionForm(StyledForm):
    """The deliverer's commission (Nanchang 四(四)1): the project and the agency first;
    then the sealed samples of that project sent to that agency and not yet in a
    commission, each with its test item."""

    project = _Named(
        label=_("工程项目"), queryset=Project.objects.none(), widget=PickerSelect(placeholder=_("输入项目名称搜索"))
    )
    agency = _Named(
        label=_("检测机构"), queryset=Agency.objects.none(), widget=PickerSelect(placeholder=_("输入机构名称搜索"))
    )
    samples = _SampleChoice(
        label=_("委托样品"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("只列出已见证封样、送往该机构且尚未委托的样品。"),
    )
    notes = forms.CharField(label=_("备注"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        from .commissions import eligible_samples
        from .models import Sample

        super().__init__(*args, **kwargs)
        projects = commission_projects(actor)
        agency_ids = ProjectParty.objects.filter(project__in=projects, agency__isnull=False).values("agency_id")
        cast(forms.ModelChoiceField, self.fields["project"]).queryset = projects
        cast(forms.ModelChoiceField, self.fields["agency"]).queryset = Agency.objects.filter(
            pk__in=agency_ids
        ).order_by("name")
        self.chosen: tuple[Any, Any] | None = None
        samples: Any = Sample.objects.none()
        data = self.data
        try:
            project = projects.filter(pk=int(data.get("project") or 0)).first()
            agency = Agency.objects.filter(pk__in=agency_ids, pk=int(data.get("agency") or 0)).first()
        except (TypeError, ValueError):
            project = agency = None
        if project is not None and agency is not None:
            self.chosen = (project, agency)
            samples = eligible_samples(project=project, agency=agency).select_related("test_item")
        cast(forms.ModelMultipleChoiceField, self.fields["samples"]).queryset = samples
        # the parameters requested of each sample, among its test item's (the catalog);
        # none ticked: the test item as a whole (57号令 第二十条)
        if self.chosen is not None:
            from inspecta.core.models import TestItemParameter

            links = TestItemParameter.objects.filter(
                test_item_id__in={sample.test_item_id for sample in samples}
            ).select_related("parameter")
            by_item: dict[str, list[Any]] = {}
            for link in links.order_by("test_item_id", "level", "parameter__name"):  # 必备 first
                by_item.setdefault(link.test_item_id, []).append(link)
            for sample in samples:
                choices = [
                    (link.parameter_id, f"{link.parameter.name}（{link.get_level_display()}）")
                    for link in by_item.get(sample.test_item_id, [])
                ]
                if choices:
                    field = forms.MultipleChoiceField(
                        label=_("检测参数"),
                        choices=choices,
                        required=False,
                        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                    )
                    plain_messages(field)
                    self.fields[f"parameters_{sample.pk}"] = field

    def sample_rows(self) -> list[tuple[Any, Any]]:
        """Each sample's checkbox with its parameters' checkboxes (or ``None``)."""

        rows = []
        for box in self["samples"]:
            name = f"parameters_{box.data['value']}"
            rows.append((box, self[name] if name in self.fields else None))
        return rows

    def parameters_of(self, sample: Any) -> tuple[str, ...]:
        return tuple(self.cleaned_data.get(f"parameters_{sample.pk}") or ())


# ------------------------------------------------------------------ custody events


def _stored(actor: Any, value: str) -> list[StoredFile]:
    ids = _file_ids(value or "")
    files = {f.pk: f for f in StoredFile.objects.restrict(actor).filter(pk__in=ids)}
    if len(files) != len(set(ids)):
        raise ValidationError(_("照片文件不存在，请重新拍摄。"))
    return [files[i] for i in ids]


class _Position(StyledForm):
    latitude = forms.DecimalField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    longitude = forms.DecimalField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    accuracy_m = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor

    def position(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in ("latitude", "longitude", "accuracy_m")}


class ConcreteBatchForm(_Position):
    """混凝土进场 on the phone (Nanchang 四(一)): the pour, the concrete, the slump and its
    placard photo."""

    project = _Named(
        label=_("工程项目"), queryset=Project.objects.none(), widget=PickerSelect(placeholder=_("输入项目名称搜索"))
    )
    part = forms.CharField(label=_("浇筑部位"), max_length=200)
    volume_m3 = forms.DecimalField(label=_("方量（m³）"), min_value=Decimal("0.01"), max_digits=9, decimal_places=2)
    strength_grade = forms.CharField(label=_("强度等级"), max_length=32, help_text=_("如 C30、C35P8。"))
    curing = forms.ChoiceField(label=_("养护条件"), choices=CuringCondition.choices)
    producer = forms.CharField(label=_("生产单位（搅拌站）"), max_length=200)
    delivery_note = forms.CharField(label=_("送货单号"), max_length=64, required=False)
    produced_at = forms.DateTimeField(
        label=_("生产（出站）时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    slump_mm = forms.IntegerField(label=_("实测坍落度（mm）"), min_value=0, max_value=300, required=False)
    slump_photos = forms.CharField(widget=forms.HiddenInput, required=False)
    other_photos = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        cast(forms.ModelChoiceField, self.fields["project"]).queryset = recordable_projects(actor)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        photos = [PhotoIn(PhotoKind.SLUMP, f) for f in _stored(self.actor, data.get("slump_photos", ""))] + [
            PhotoIn(PhotoKind.OTHER, f) for f in _stored(self.actor, data.get("other_photos", ""))
        ]
        return {
            **{
                k: data[k]
                for k in ("project", "part", "volume_m3", "strength_grade", "curing", "producer", "delivery_note")
            },
            "produced_at": data.get("produced_at"),
            "slump_mm": data.get("slump_mm"),
            "photos": photos,
            **self.position(),
        }


class CustodyEventForm(_Position):
    """养护入室 / 养护出室 / 运输交接 on the phone (Nanchang 四(三)); the sample and the kind
    are fixed by the page."""

    room = forms.CharField(label=_("养护室/地点"), max_length=200, required=False)
    age_days = forms.IntegerField(label=_("龄期（天）"), min_value=1, max_value=365, required=False, initial=28)
    to_person = _Person(label=_("接收人"), queryset=User.objects.none(), required=False)
    note = forms.CharField(label=_("说明"), max_length=255, required=False)
    photos = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, actor: Any, sample: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.kind = kind
        if kind != CustodyEventKind.CURING_OUT:
            del self.fields["age_days"]
        if kind == CustodyEventKind.TRANSPORT:
            del self.fields["room"]
            orgs = ProjectParty.objects.filter(project=sample.project, organisation__isnull=False).values(
                "organisation_id"
            )
            people = User.objects.filter(organisation_id__in=orgs, is_active=True).exclude(pk=actor.pk)
            takers = [u.pk for u in people if permissions.may_record_custody(u, sample, CustodyEventKind.TRANSPORT)]
            field = cast(forms.ModelChoiceField, self.fields["to_person"])
            field.queryset = User.objects.filter(pk__in=takers).select_related("organisation").order_by("full_name")
            field.required = True
        else:
            del self.fields["to_person"]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": self.kind,
            "room": data.get("room") or "",
            "age_days": data.get("age_days"),
            "to_person": data.get("to_person"),
            "note": data.get("note") or "",
            "photos": _stored(self.actor, data.get("photos", "")),
            **self.position(),
        }
