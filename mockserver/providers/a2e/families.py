"""A2E's task families, declared: vocabulary, renderer, price and operations of each.

Each family is one :class:`~mockserver.families.FamilySpec`; :func:`.task_endpoints.bind`
(the provider's ``bind_family``) turns it into handlers. Prices are registered with
``billing.prices`` under the endpoint they charge for, so ``generation/quote`` quotes each
with the rule its start charges by. Costs come from the scenario's ``providers.a2e.costs``;
coins are charged at submit and refunded when the task fails (billing.py).

Choices where the catalog is silent, per family, each [guess] unless tagged:

- caption removal (§10): ``initialized -> processing -> completed | failed`` [inf §10]; the
  input is ``source_url`` (C1) or ``video_url`` (C13/C14), shown as ``source_url``; costs
  ``costs.caption_removal`` (0). A row is ``{_id, name, source_url, current_status,
  result_url, failed_message, failed_code, coins, createdAt, updatedAt}``.
- dubbing (§8): the same states [inf §8: C10, C15]; an audio source gets an mp3 result;
  ``costs.dubbing`` (0); ``source_lang`` defaults to ``auto``, ``num_speakers`` to 1,
  ``drop_background_audio`` to false.
- image to video (§9, seed 003): ``sent -> pending -> completed | failed``;
  ``costs.image2video_per_5s`` coins per 5 s of ``video_time`` (5, 10, 15 or 20; default 5);
  ``negative_prmpt`` (sic) accepted beside ``negative_prompt``, shown as ``negative_prompt``.
- talking video and photo (§13, D17): ``initialized -> processing -> completed | failed``;
  ``costs.talking_video`` (13, D17's example) and ``costs.talking_photo`` (0); ``cover_url``
  is a jpg on the mock from the start; ``duration`` 0 and prompts ``""`` when not sent.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.families import FamilySpec, Lookup, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, models
from mockserver.providers.a2e.dialect import bad_request
from mockserver.providers.a2e.tasks import record_family


def _family(name: str, states: tuple[str, ...], success: str = "completed") -> TaskFamily:
    return TaskFamily(provider="a2e", name=name, states=states, success=success, failure="failed")


WORKING = ("initialized", "processing")  # the newer families' working states (§14)

# A video fails while rendering (``process -> fail``), in its own words (§4.4).
VIDEO = TaskFamily(
    provider="a2e",
    name="video",
    states=("init", "start", "pending", "process", "copy"),
    success="success",
    failure="fail",
    fails_after="process",
)
FACESWAP = _family("faceswap", WORKING)
PREVIEW = _family("faceswap_preview", WORKING)
VOICE = _family("voice", ("sent", "processing"))
TWIN = _family("avatar", WORKING)
LIPSYNC = _family("lipsync", ("processing",))
CAPTION = _family("caption_removal", WORKING)
DUBBING = _family("dubbing", WORKING)
IMAGE2VIDEO = _family("image2video", ("sent", "pending"))
TALKING_VIDEO = _family("talking_video", WORKING)
TALKING_PHOTO = _family("talking_photo", WORKING)

# Plain records: no lifecycle, not offered to the control API's force.
BACKGROUND = record_family("background")
FACE_IMAGE = record_family("face_image")
USER = record_family("user")

# Families whose endpoints are still hand-written handlers: their vocabularies only.
VOCABULARIES = (VIDEO, FACESWAP, PREVIEW, VOICE, TWIN, LIPSYNC)

DEFAULT_VIDEO_TIME = 5
VIDEO_TIMES = (5, 10, 15, 20)


# --- prices -------------------------------------------------------------------------------


@billing.prices("userCaptionRemoval/start")
def caption_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "caption_removal")}


@billing.prices("userDubbing/startDubbing")
def dubbing_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "dubbing")}


def image2video_coins(ctx: RequestContext, video_time: int) -> int | float:
    per_5s = billing.cost_of(ctx, "image2video_per_5s", 100)
    coins = per_5s * video_time / 5
    return int(coins) if coins.is_integer() else coins


@billing.prices("userImage2Video/start")
def image2video_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    video_time = body.get("video_time", DEFAULT_VIDEO_TIME)
    if video_time not in VIDEO_TIMES:
        raise bad_request(f"video_time must be one of {', '.join(map(str, VIDEO_TIMES))}")
    return {billing.COINS: image2video_coins(ctx, video_time)}


@billing.prices("talkingVideo/start")
def talking_video_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "talking_video", 13)}


@billing.prices("talkingPhoto/start")
def talking_photo_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "talking_photo")}


# --- declarations -------------------------------------------------------------------------

SPECS: tuple[FamilySpec, ...] = (
    FamilySpec(
        family=CAPTION,
        render=models.caption_row,
        price=billing.charge_rule(caption_price),
        submit="startCaptionRemoval",
        status=(Status("getCaptionRemoval"), Status("getCaptionRemovalDetail", Lookup.QUERY)),
        list_all="listCaptionRemoval",
        delete=Status("deleteCaptionRemoval"),
        processing="listProcessingCaptionRemoval",
    ),
    FamilySpec(
        family=DUBBING,
        render=models.dubbing_row,
        price=billing.charge_rule(dubbing_price),
        submit="startDubbing",
        status=(Status("getDubbing"), Status("getDubbingDetail", Lookup.QUERY)),
        list_all="listDubbing",
        delete=Status("deleteDubbing"),
        processing="listProcessingDubbing",
    ),
    FamilySpec(
        family=IMAGE2VIDEO,
        render=models.image2video_row,
        price=billing.charge_rule(image2video_price),
        submit="startImage2Video",
        status=(Status("getImage2Video"),),
        list_all="listImage2Video",
        delete=Status("deleteImage2Video"),
    ),
    FamilySpec(
        family=TALKING_VIDEO,
        render=models.talking_video_row,
        price=billing.charge_rule(talking_video_price),
        submit="startTalkingVideo",
        status=(Status("getTalkingVideo"),),
        list_all="listTalkingVideos",
        delete=Status("deleteTalkingVideo"),
    ),
    FamilySpec(
        family=TALKING_PHOTO,
        render=models.talking_photo_row,
        price=billing.charge_rule(talking_photo_price),
        submit="startTalkingPhoto",
        status=(Status("getTalkingPhoto"),),
        list_all="listTalkingPhotos",
        delete=Status("deleteTalkingPhoto"),
    ),
)
