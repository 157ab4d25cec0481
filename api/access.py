"""Who may call a route, decided by its aiohttp route name, in one place.

"public.<x>" (and the names in PUBLIC_ROUTES) need no key, "partner.<x>" a data partner's key
(bz_pt_...), "operator.<x>" an operator's key (bz_op_...), any other name a sponsor key. Each
route takes exactly one kind: no key opens another kind's routes. So a new route is
authenticated by default and cannot be left open by forgetting a decorator. api.app enforces
this rule and api.openapi documents each operation's security from it, so the two cannot
disagree.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from storage.models import Sponsor

Caller = Literal["public", "partner", "operator", "sponsor"]

PUBLIC_ROUTES = frozenset({"openapi"})
PUBLIC_PREFIX = "public."
PARTNER_PREFIX = "partner."
OPERATOR_PREFIX = "operator."
BOOST_PARTNER_ROUTES = frozenset({"partner.events"})
"""The only partner routes a Boost key (a landlord, letting agent or council a citizen invited,
services.boost) may call: it reports rent and council tax for its own tenants, nothing else.
api.app refuses it everywhere else with 403, before the handler runs."""


def caller_for(route_name: str) -> Caller:
    if route_name in PUBLIC_ROUTES or route_name.startswith(PUBLIC_PREFIX):
        return "public"
    if route_name.startswith(PARTNER_PREFIX):
        return "partner"
    if route_name.startswith(OPERATOR_PREFIX):
        return "operator"
    return "sponsor"


SPONSOR_KEY: web.RequestKey[Sponsor] = web.RequestKey("sponsor", Sponsor)
"""The authenticated sponsor, set on the request by api.app's key check."""
