"""The relay's task families, declared: vocabulary, renderer, price and operations.

Quota (scenario ``costs.<family>``, currency ``quota``) is taken at submit and given back when
the task ends in failure, the way new-api refunds failed tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.context import RequestContext
from mockserver.families import FamilySpec, IdStyle, PriceRule, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.relay import bodies, models, videos
from mockserver.providers.relay.provider import provider


def cost_of(name: str) -> PriceRule:
    """The price rule reading the scenario's ``costs.<name>`` (0 when it names none)."""

    def price(ctx: RequestContext, body: Mapping[str, Any]) -> float:
        return float(ctx.config.costs.get(name, 0))

    return price


AVATAR = provider.declare(
    FamilySpec(
        family=TaskFamily(
            provider="relay",
            name="avatar",
            states=("NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS"),
            success="SUCCESS",
            failure="FAILURE",
        ),
        render=models.task_view,
        submit="createAvatarGeneration",
        status=(Status("getAvatarTask", id_field="id"),),
        price=cost_of("avatar"),
        new_id=IdStyle.HEX32,
        failure_fields=("fail_reason",),
        options={"params": bodies.avatar_params},
    )
)


GENERATION = provider.declare(
    FamilySpec(
        family=TaskFamily(
            provider="relay",
            name="video",
            states=("NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS"),
            success="SUCCESS",
            failure="FAILURE",
        ),
        render=models.generation_view,
        submit="createVideoGeneration",
        status=(Status("getVideoGeneration", id_field="task_id"),),
        price=cost_of("video"),
        new_id=IdStyle.HEX32,
        failure_fields=("fail_reason",),
        options={
            "params": bodies.generation_params,
            "accepted": models.generation_accepted,
            "found": models.bare,
        },
    )
)


SUNO = provider.declare(
    FamilySpec(
        family=TaskFamily(
            provider="relay",
            name="suno",
            states=("NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS"),
            success="SUCCESS",
            failure="FAILURE",
        ),
        render=models.suno_view,
        submit="submitSunoTask",
        status=(Status("fetchSunoTask", id_field="id"),),
        batch="fetchSunoTasks",
        price=cost_of("suno"),
        new_id=IdStyle.UUID4,
        failure_fields=("fail_reason",),
        options={"params": bodies.suno_params},
    )
)


def _kling(name: str, submit: str, status: str) -> FamilySpec:
    return FamilySpec(
        family=TaskFamily(
            provider="relay",
            name=name,
            states=("NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS"),
            success="SUCCESS",
            failure="FAILURE",
        ),
        render=models.kling_view,
        submit=submit,
        status=(Status(status, id_field="task_id"),),
        price=cost_of("kling"),
        new_id=IdStyle.HEX32,
        failure_fields=("fail_reason",),
        options={
            "params": bodies.kling_params,
            "accepted": models.kling_accepted,
            "found": models.kling_answer,
        },
    )


KLING_TEXT = provider.declare(_kling("kling_text2video", "klingText2Video", "getKlingText2Video"))
KLING_IMAGE = provider.declare(
    _kling("kling_image2video", "klingImage2Video", "getKlingImage2Video")
)


# OpenAI's video object (/v1/videos), as new-api serves it: the family's vocabulary is
# OpenAI's; its routes refuse in OpenAI's envelope (x-dialect: openai in the document).
OPENAI_VIDEO = provider.declare(
    FamilySpec(
        family=TaskFamily(
            provider="relay",
            name=videos.VIDEO_FAMILY,
            states=("queued", "in_progress"),
            success="completed",
            failure="failed",
        ),
        render=videos.video_view,
        submit="createVideo",
        status=(Status("getVideo", id_field="video_id"),),
        price=cost_of("openai_video"),
        failure_fields=("code", "message"),
        options=videos.OPTIONS,
    )
)
