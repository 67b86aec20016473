"""A2E's task families, declared: vocabulary, renderer, price and operations of each.

Each family is one :class:`~mockserver.families.FamilySpec`; :func:`.task_endpoints.bind`
(the provider's ``bind_family``) turns it into handlers. Prices are registered with
``billing.quotes`` under the endpoint they charge for, so ``generation/quote`` quotes each
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

Face swap tasks: ``userFaceSwapTask/add``, ``/status``, ``/records``, ``/{_id}`` (GET, DELETE)
and ``/detail?_id=`` (the same record; catalog §7.9 says to serve both forms).

Catalog §7.6-7.10 and seed 004. A task goes ``initialized -> processing -> completed``, or ends
``failed``. Face swap keeps its own failure vocabulary: ``error_code`` (a string, ``"0"`` on
success, ``null`` while running) and ``faild_message`` (sic; ``null`` unless it failed).
Records add ``initialized_time``, ``processing_time`` and ``completed_time``: each the moment
the task entered that stage, ``null`` before it; ``completed_time`` is also set when the task
fails. [guess for null-before and for failures]

``video_url`` may be a video or an image (catalog §7.6): an image input gives an image result.
``duration`` is the input's length in seconds; the mock cannot see the input, so it reports
the length of the clip it serves back (1 s), 0 for an image. [guess]

``/status`` lists the caller's tasks newest first (the newest 100 [guess]); ``?_id=`` narrows
it to that task, or to ``[]`` when the id is unknown or another key's. [guess]

Face swap previews: ``userFaceSwapPreview/add`` and ``/status`` (catalog §7.4, §7.5).

A preview swaps the face into one frame (D8's example ``video_url`` is an image). It walks
``initialized -> processing -> completed`` (or ``failed``) like a face swap task [inf §14], in
the face swap vocabulary: ``error_code`` (``"0"`` on success) and ``faild_message`` (sic).
``add`` answers ``{video_url, face_url, current_status, result_url, error_code,
faild_message, _id, user_id}`` (D8).

Choices where the catalog is silent, each [guess]:

- ``status`` answers an array, as ``userFaceSwapTask/status`` does (C11 parses an object or an
  array): the caller's previews newest first (the newest 100); ``?_id=`` narrows it to that
  preview, or ``[]`` when the id is unknown or another key's (a filter, not a lookup).
- ``result_url`` is an image on the mock (png for a png input, else jpg), or an mp4 when
  ``video_url`` is a video; ``video_url`` is ``""`` when not sent.
- ``error_code``/``faild_message`` are ``null`` while running (as face swap tasks).
- it costs ``costs.faceswap_preview`` coins (0 by default), refunded on failure.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.families import FamilySpec, Lookup, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, models
from mockserver.providers.a2e.dialect import bad_request
from mockserver.providers.a2e.models import (
    LipSyncRecord,
    ModelRecord,
    TaskRecord,
    TwinRecord,
    VoiceRecord,
)
from mockserver.providers.a2e.task_endpoints import Listing, Paging
from mockserver.providers.a2e.tasks import find, find_or_refuse, hex24, newest_first, record_family
from mockserver.tasks import Task


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

DEFAULT_VIDEO_TIME = 5
VIDEO_TIMES = (5, 10, 15, 20)


# --- quotes -------------------------------------------------------------------------------


@billing.quotes("video/generate")
def video_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "video")}


@billing.quotes("userFaceSwapTask/add")
def faceswap_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "faceswap")}


@billing.quotes("userFaceSwapPreview/add")
def preview_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "faceswap_preview")}


@billing.quotes("userVoice/training")
@billing.quotes("userVideoTwin/addVoiceClone")
@billing.quotes("userVideoTwin/cloneVoice")
def clone_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "voice_clone")}


@billing.quotes("userVideoTwin/startTraining")
def training_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    diamonds = 0.0
    if body.get("image_url") and not body.get("video_url"):
        diamonds = billing.cost_of(ctx, "avatar_image_diamonds", 1)
    return {billing.DIAMONDS: diamonds}


@billing.quotes("userVideoTwin/continueTranining")
def continue_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.DIAMONDS: billing.cost_of(ctx, "continue_training_diamonds", 1)}


@billing.quotes("userCaptionRemoval/start")
def caption_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "caption_removal")}


@billing.quotes("userDubbing/startDubbing")
def dubbing_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "dubbing")}


def image2video_coins(
    ctx: RequestContext, video_time: int, model_version: str = "a2e"
) -> int | float:
    """``costs.image2video_per_5s``, or ``image2video_per_5s:<model_version>`` where the
    scenario prices that version apart (a2e-v2 "costs more per second"; a2e-v2-flash "uses
    a2e pricing") [doc]; an omitted version is a2e, the default of every role but Ultra."""
    base = billing.cost_of(ctx, "image2video_per_5s", 100)
    per_5s = billing.cost_of(ctx, f"image2video_per_5s:{model_version}", base)
    coins = per_5s * video_time / 5
    return int(coins) if coins.is_integer() else coins


@billing.quotes("userImage2Video/start")
def image2video_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    video_time = body.get("video_time", DEFAULT_VIDEO_TIME)
    if video_time not in VIDEO_TIMES:
        raise bad_request(f"video_time must be one of {', '.join(map(str, VIDEO_TIMES))}")
    version = str(body.get("model_version", "a2e"))
    return {billing.COINS: image2video_coins(ctx, video_time, version)}


@billing.quotes("talkingVideo/start")
def talking_video_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "talking_video", 13)}


@billing.quotes("talkingPhoto/start")
def talking_photo_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "talking_photo")}


# --- what a start keeps from the request, and the records it draws ---------------------


def video_params(ctx: RequestContext) -> dict[str, Any]:
    """Refuse a ``custom_back_id`` that is not one of the caller's backgrounds. [guess: 400]"""
    back_id = ctx.body.get("custom_back_id")
    if back_id and find(ctx, BACKGROUND, back_id) is None:
        raise bad_request(f"unknown custom_back_id {back_id}")
    return dict(ctx.body)


def with_speaker_id(ctx: RequestContext, task: Task, amount: float) -> TaskRecord:
    return VoiceRecord(amount=amount, speaker_id=hex24(ctx))


def with_anchor_id(ctx: RequestContext, task: Task, amount: float) -> TaskRecord:
    return TwinRecord(amount=amount, anchor_id=hex24(ctx))


def with_marks(ctx: RequestContext, task: Task, amount: float) -> TaskRecord:
    return ModelRecord(amount=amount)


def completed_twin(ctx: RequestContext, twin_id: str) -> Task:
    """The caller's custom avatar, refused (400) unless it is completed."""
    twin = find_or_refuse(ctx, TWIN, twin_id)
    status = twin.state(ctx.now)
    if status != TWIN.success:
        raise bad_request(f"avatar {twin_id} is {status}, not completed")
    return twin


def lipsyncs_of(ctx: RequestContext, twin: Task) -> list[Task]:
    """The lip-sync trainings of a custom avatar, newest first."""
    return [t for t in newest_first(ctx, LIPSYNC) if models.lipsync_twin(ctx, t) is twin]


def lipsync_params(ctx: RequestContext) -> dict[str, Any]:
    """A completed avatar with no lip-sync model trained or training (a failed one is none)."""
    twin = completed_twin(ctx, ctx.body["_id"])
    now = ctx.now
    for earlier in lipsyncs_of(ctx, twin):
        status = earlier.state(now)
        if status != LIPSYNC.failure:
            raise bad_request(f"avatar {twin.id} already has a lip-sync model ({status})")
    return {"_id": twin.id}


def with_twin(ctx: RequestContext, task: Task, amount: float) -> TaskRecord:
    return LipSyncRecord(amount=amount, twin=find_or_refuse(ctx, TWIN, task.params["_id"]))


# --- declarations -------------------------------------------------------------------------

# The avatar family's voice clones start voices too (avatar.py).
VOICE_SPEC = FamilySpec(
    family=VOICE,
    render=models.voice_row,
    price=billing.charge_rule(clone_quote),
    submit="postApiV1UserVoiceTraining",
    status=(Status("getApiV1UserVoiceId"),),
    delete=Status("deleteApiV1UserVoiceId"),
    processing="listProcessingVoices",
    failure_fields=("failed_message",),
    options={
        "record": with_speaker_id,
        "reason": "voice_clone",
        "completed": "getApiV1UserVoiceCompletedRecord",
    },
)

# userVideoTwin/upload + training (twin_sources.py) starts a custom avatar too.
TWIN_SPEC = FamilySpec(
    family=TWIN,
    render=models.twin_row,
    price=billing.charge_rule(training_quote, billing.DIAMONDS),
    submit="postApiV1UserVideoTwinStartTraining",
    status=(Status("getApiV1UserVideoTwinId"),),
    list_all="listVideoTwins",
    processing="listProcessingVideoTwins",
    failure_fields=("failed_message",),
    options={
        "record": with_anchor_id,
        "currency": billing.DIAMONDS,
        "reason": "avatar_image",
        "lists": (Listing("getApiV1UserVideoTwinRecords"),),
    },
)

# continueTraining (twin_trainings.py) trains a lip-sync model too.
LIPSYNC_SPEC = FamilySpec(
    family=LIPSYNC,
    render=models.lipsync_row,
    price=billing.charge_rule(continue_quote, billing.DIAMONDS),
    submit="continueVideoTwinTraining",
    failure_fields=(),
    options={
        "params": lipsync_params,
        "record": with_twin,
        "currency": billing.DIAMONDS,
        "reason": "continue_training",
        "accepted": models.trained_twin,
        "completed": "listLipSyncModels",
    },
)

SPECS: tuple[FamilySpec, ...] = (
    FamilySpec(
        family=VIDEO,
        render=models.video_row,
        price=billing.charge_rule(video_quote),
        submit="postApiV1VideoGenerate",
        status=(Status("getVideoResult", Lookup.BODY),),
        list_all="listVideos",
        delete=Status("deleteVideo", Lookup.QUERY),
        failure_fields=("msg",),
        options={
            "params": video_params,
            "views": {"getVideoResult": models.video_result},
            "paging": Paging.CURRENT,
            # the older docs' awsList, by POST with the paging in the body
            "lists": (Listing("listVideosByPost", Paging.CURRENT, Lookup.BODY),),
        },
    ),
    FamilySpec(
        family=FACESWAP,
        render=models.faceswap_row,
        price=billing.charge_rule(faceswap_quote),
        submit="postApiV1UserFaceSwapTaskAdd",
        status=(
            Status("getApiV1UserFaceSwapTaskStatus", Lookup.STATUS_LIST),
            Status("getApiV1UserFaceSwapTaskId"),
            Status("getFaceSwapTaskDetail", Lookup.QUERY),
        ),
        list_all="getApiV1UserFaceSwapTaskRecords",
        delete=Status("deleteApiV1UserFaceSwapTaskId"),
        failure_fields=("faild_message", "error_code"),
        options={
            "accepted": models.faceswap_added,
            "views": {"getApiV1UserFaceSwapTaskStatus": models.faceswap_status},
        },
    ),
    FamilySpec(
        family=PREVIEW,
        render=models.preview_row,
        price=billing.charge_rule(preview_quote),
        submit="postApiV1UserFaceSwapPreviewAdd",
        status=(Status("getApiV1UserFaceSwapPreviewStatus", Lookup.STATUS_LIST),),
        failure_fields=("faild_message", "error_code"),
    ),
    VOICE_SPEC,
    TWIN_SPEC,
    LIPSYNC_SPEC,
    FamilySpec(
        family=CAPTION,
        render=models.caption_row,
        price=billing.charge_rule(caption_quote),
        submit="postApiV1UserCaptionRemovalStart",
        status=(
            Status("getApiV1UserCaptionRemovalId"),
            Status("getCaptionRemovalDetail", Lookup.QUERY),
        ),
        list_all="getApiV1UserCaptionRemovalAllRecords",
        batch="postApiV1UserCaptionRemovalBatchDetail",
        delete=Status("deleteApiV1UserCaptionRemovalId"),
        processing="listProcessingCaptionRemoval",
    ),
    FamilySpec(
        family=DUBBING,
        render=models.dubbing_row,
        price=billing.charge_rule(dubbing_quote),
        submit="postApiV1UserDubbingStartDubbing",
        status=(Status("getApiV1UserDubbingId"), Status("getDubbingDetail", Lookup.QUERY)),
        list_all="getApiV1UserDubbingAllRecords",
        delete=Status("deleteApiV1UserDubbingId"),
        processing="listProcessingDubbing",
    ),
    FamilySpec(
        family=IMAGE2VIDEO,
        render=models.image2video_row,
        price=billing.charge_rule(image2video_quote),
        submit="postApiV1UserImage2VideoStart",
        status=(Status("getApiV1UserImage2VideoId"),),
        list_all="getApiV1UserImage2VideoAllRecords",
        delete=Status("deleteApiV1UserImage2VideoId"),
        options={
            "record": with_marks,  # markShared & co. (model_roles)
            # Only initialized/completed/failed tasks delete, initialized ones refunded (the
            # reference); this mock's image2video walks sent -> pending (catalog §9).
            "delete": {"refuse": ("sent", "pending"), "refund": ("initialized",)},
        },
    ),
    FamilySpec(
        family=TALKING_VIDEO,
        render=models.talking_video_row,
        price=billing.charge_rule(talking_video_quote),
        submit="postApiV1TalkingVideoStart",
        status=(Status("getApiV1TalkingVideoId"),),
        list_all="getApiV1TalkingVideoAllRecords",
        batch="postApiV1TalkingVideoBatchDetail",
        delete=Status("deleteApiV1TalkingVideoId"),
    ),
    FamilySpec(
        family=TALKING_PHOTO,
        render=models.talking_photo_row,
        price=billing.charge_rule(talking_photo_quote),
        submit="postApiV1TalkingPhotoStart",
        status=(Status("getApiV1TalkingPhotoId"),),
        list_all="getApiV1TalkingPhotoAllRecords",
        batch="postApiV1TalkingPhotoBatchDetail",
        delete=Status("deleteApiV1TalkingPhotoId"),
    ),
)
