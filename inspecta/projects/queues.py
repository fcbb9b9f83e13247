"""What the home page shows of projects: the projects in the person's scope."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.core.appconfig import HomeFigure
from inspecta.core.permissions import is_member, is_operator

from .models import Project


def home_figures(actor: Any) -> list[HomeFigure]:
    if not (is_member(actor) or is_operator(actor)):
        return []
    count = Project.objects.restrict(actor).count()
    return [HomeFigure("projects", _("工程项目"), count, reverse("projects:project_list"))]
