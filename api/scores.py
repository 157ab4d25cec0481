"""``GET /api/v1/scores/{code}``: a partner reads a score with the citizen's one-time code.

Band, score and computed time, nothing else, and only if the citizen made the code to share
the score ("Share my score instead" in /share): a code for yes/no answers only is 403
``score_not_shared`` and stays usable for one check (api.checks). 404 for a code that never
existed, 410 for one that has expired or was used: both tell the partner to ask the citizen
for a new one.
"""

from __future__ import annotations

from aiohttp import web

from api import schemas
from api.app import PARTNER_KEY, RouteAdder
from api.errors import SCORE_NOT_SHARED, ApiError, respond
from services.sharing import CodeNotFound, CodeSpent, ScoreNotShared, SharingService

SCORES_SHARING_KEY: web.AppKey[SharingService] = web.AppKey("scores_sharing", SharingService)


async def get_score(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    sharing = request.app[SCORES_SHARING_KEY]
    try:
        if len(code) > 32:
            raise CodeNotFound()
        shared = await sharing.read_with_code(request[PARTNER_KEY].id, code)
    except CodeNotFound as problem:
        raise ApiError(404, str(problem)) from None
    except CodeSpent as problem:
        raise ApiError(410, str(problem)) from None
    except ScoreNotShared as problem:
        raise ApiError(403, str(problem), error=SCORE_NOT_SHARED) from None
    return respond(
        schemas.SharedScore.model_validate(
            {"band": shared.band, "score": shared.score, "computed_at": shared.computed_at}
        )
    )


def score_routes(sharing: SharingService) -> RouteAdder:
    def add(app: web.Application) -> None:
        app[SCORES_SHARING_KEY] = sharing
        app.router.add_get("/scores/{code}", get_score, name="partner.score")

    return add
