"""Cost of the one scoping mechanism on a list read.

Figure: scoped user-list page reads per second for a city admin (``User.objects.restrict``
+ the selector's joins) against the baseline of the same query without the scope
filter, over 5,000 accounts in 40 organisations.
"""

from __future__ import annotations

import argparse

from _django import emit, per_second, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5000)
    args, _unknown = parser.parse_known_args()
    setup_django()
    from django.contrib.auth.hashers import make_password

    from inspecta.accounts.models import Organisation, RoleGrant, User
    from inspecta.accounts.selectors import user_list
    from inspecta.core.testing.factories import authority_tree

    tree = authority_tree()
    orgs = list(Organisation.objects.filter(kind="authority"))
    UNUSABLE = make_password(None)  # bulk rows never sign in
    users = [
        User(username=f"bench{i}", full_name=f"测试{i}", organisation=orgs[i % len(orgs)], password=UNUSABLE)
        for i in range(args.users)
    ]
    User.objects.bulk_create(users, batch_size=1000)
    RoleGrant.objects.bulk_create(
        [RoleGrant(user=u, role="authority_supervisor") for u in User.objects.filter(username__startswith="bench")],
        batch_size=1000,
    )
    actor = User.objects.get(pk=tree["gz_admin"].pk)

    def scoped() -> None:
        list(user_list(actor=actor)[:25])

    def unscoped() -> None:
        qs = User.objects.select_related("organisation", "organisation__region").prefetch_related("role_grants")
        list(qs.order_by("organisation__tree_path", "username")[:25])

    emit(
        "user_list_scoped_reads",
        per_second(scoped),
        "reads/s",
        "user_list_unscoped_reads",
        per_second(unscoped),
        users=args.users,
    )


if __name__ == "__main__":
    main()
