"""``probe`` and ``thumbnail`` on real media made by ffmpeg, PDFs, and job retention.

Videos and audio are generated in the test's tmp dir with ffmpeg's lavfi sources
(``testsrc`` + ``sine``) and probed by the real ffprobe. Without ffprobe/ffmpeg those
tests skip with the reason; ``PASTEFILE_REQUIRE_SERVICES=1`` turns that into a
failure (``.ci/run`` installs Debian's ffmpeg).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageStat
from pypdf import PdfWriter
from sqlalchemy import insert, select, update

from pastefile.composition import Services
from pastefile.db.jobs import Job
from pastefile.db.models import File
from pastefile.db.types import utcnow
from pastefile.jobs.runners.threads import ThreadRunner
from pastefile.services.accounts import Permission, Principal
from tests.support.images import image_bytes
from tests.support.jobs import drain_jobs, start_thread_runner, wait_for
from tests.support.settings import REQUIRE_SERVICES
from tests.support.uploads import upload

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "upload_jobs": ["probe", "thumbnail"],
        "job_retry_base_seconds": 0.05,
        "job_retry_max_seconds": 0.2,
    }


@pytest.fixture
def media_tools() -> None:
    missing = [tool for tool in ("ffprobe", "ffmpeg") if shutil.which(tool) is None]
    if not missing:
        return
    message = f"{' and '.join(missing)} not installed (apt-get install ffmpeg)"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; PASTEFILE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(f"{message}; install it to run the audio/video job tests")


def ffmpeg(tmp_path: Path, name: str, *args: str) -> bytes:
    """Run ffmpeg into ``tmp_path / name`` and return the bytes it made."""
    out = tmp_path / name
    command = ["ffmpeg", "-v", "error", "-nostdin", "-y", *args, str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return out.read_bytes()


def make_video(tmp_path: Path, ext: str, size: str = "160x120", seconds: float = 2.0) -> bytes:
    """``testsrc`` pictures and a 440 Hz ``sine``: h264/aac in mp4, vp8/opus in webm."""
    codecs = {
        "mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
        "webm": ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"],
    }[ext]
    sources = [
        *("-f", "lavfi", "-i", f"testsrc=size={size}:rate=10:duration={seconds}"),
        *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
    ]
    return ffmpeg(tmp_path, f"clip.{ext}", *sources, *codecs, "-shortest")


def make_audio(tmp_path: Path, ext: str) -> bytes:
    codec = {"mp3": "libmp3lame", "ogg": "libvorbis"}[ext]
    source = ("-f", "lavfi", "-i", "sine=frequency=440:duration=2")
    return ffmpeg(tmp_path, f"tone.{ext}", *source, "-c:a", codec)


def pdf_bytes(pages: int) -> bytes:
    writer = PdfWriter()
    for n in range(pages):
        writer.add_blank_page(width=200 + n, height=300)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def user_token(services: Services, name: str = "mia") -> str:
    user = services.accounts.create_user(name, "a long enough password", Permission.LOGIN)
    owner = Principal(user.id, name, Permission.LOGIN, frozenset({"read", "upload"}))
    return services.accounts.create_token(owner, "media", ["read", "upload"])[1]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def upload_as(client: FlaskClient, token: str, data: bytes, name: str) -> dict[str, Any]:
    """Upload with a token (so the jobs are the user's), answering the upload's JSON."""
    form = {"file": (io.BytesIO(data), name)}
    response = client.post("/", data=form, headers=auth(token))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def jobs_by_kind(client: FlaskClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """The upload's jobs as the API shows them to their owner."""
    shown = [client.get(f"/api/v1/jobs/{i}", headers=auth(token)).get_json() for i in body["jobs"]]
    return {job["kind"]: job for job in shown}


def file_status(services: Services, public_id: str) -> str:
    with services.db.read() as session:
        return str(session.scalar(select(File.status).where(File.public_id == public_id)))


# --- probe: video and audio ----------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.usefixtures("media_tools")
@pytest.mark.parametrize(("ext", "codecs"), [("mp4", ["h264", "aac"]), ("webm", ["vp8", "opus"])])
def test_probe_of_a_video_reports_duration_codecs_and_size(
    client: FlaskClient, services: Services, tmp_path: Path, ext: str, codecs: list[str]
) -> None:
    token = user_token(services)
    body = upload_as(client, token, make_video(tmp_path, ext), f"clip.{ext}")
    assert body["mimetype"] == f"video/{ext}" and len(body["jobs"]) == 2
    assert file_status(services, body["id"]) == "processing"
    drain_jobs(services)
    probe = jobs_by_kind(client, token, body)["probe"]
    assert probe["status"] == "succeeded", probe["error"]
    result = probe["result"]
    assert result["duration"] == pytest.approx(2.0, abs=0.1)
    assert result["codecs"] == codecs
    assert (result["width"], result["height"]) == (160, 120)
    # The size is stored on the file: the API and the card show it.
    shown = client.get(f"/api/v1/files/{body['id']}", headers=auth(token)).get_json()
    assert shown["image"] == {"width": 160, "height": 120}
    card = client.get(f"/p/{body['id']}", headers={"Accept": "application/json"}).get_json()
    assert card["image_size"] == [160, 120]
    assert file_status(services, body["id"]) == "ready"


@SQLITE_ONLY
@pytest.mark.usefixtures("media_tools")
@pytest.mark.parametrize(
    ("ext", "mimetype", "codec"), [("mp3", "mpeg", "mp3"), ("ogg", "ogg", "vorbis")]
)
def test_probe_of_audio_reports_duration_and_codec(
    client: FlaskClient, services: Services, tmp_path: Path, ext: str, mimetype: str, codec: str
) -> None:
    token = user_token(services)
    body = upload_as(client, token, make_audio(tmp_path, ext), f"tone.{ext}")
    assert body["mimetype"] == f"audio/{mimetype}"
    assert len(body["jobs"]) == 1  # no thumbnail for audio
    drain_jobs(services)
    probe = jobs_by_kind(client, token, body)["probe"]
    assert probe["status"] == "succeeded", probe["error"]
    assert probe["result"]["duration"] == pytest.approx(2.0, abs=0.1)
    assert probe["result"]["codecs"] == [codec]
    assert "width" not in probe["result"]
    shown = client.get(f"/api/v1/files/{body['id']}", headers=auth(token)).get_json()
    assert shown["image"] is None


@SQLITE_ONLY
@pytest.mark.usefixtures("media_tools")
def test_cover_art_does_not_make_audio_a_video(
    client: FlaskClient, services: Services, tmp_path: Path
) -> None:
    make_audio(tmp_path, "mp3")
    (tmp_path / "cover.png").write_bytes(image_bytes("PNG", (50, 40)))
    inputs = ("-i", str(tmp_path / "tone.mp3"), "-i", str(tmp_path / "cover.png"))
    streams = ("-map", "0", "-map", "1", "-c:a", "copy", "-c:v", "png")
    cover = ("-disposition:v:0", "attached_pic", "-id3v2_version", "3")
    tagged = ffmpeg(tmp_path, "album.mp3", *inputs, *streams, *cover)
    token = user_token(services)
    body = upload_as(client, token, tagged, "album.mp3")
    drain_jobs(services)
    result = jobs_by_kind(client, token, body)["probe"]["result"]
    assert result["codecs"] == ["mp3"] and "width" not in result
    assert result["duration"] == pytest.approx(2.0, abs=0.1)


@SQLITE_ONLY
@pytest.mark.usefixtures("media_tools")
def test_a_video_stored_sideways_reports_its_displayed_size(
    client: FlaskClient, services: Services, tmp_path: Path
) -> None:
    """Phones store upright video as landscape frames plus a rotation; show it upright."""
    make_video(tmp_path, "mp4")
    rotated = ffmpeg(
        tmp_path, "upright.mp4", "-i", str(tmp_path / "clip.mp4"), "-c", "copy",
        "-metadata:s:v:0", "rotate=90",
    )  # fmt: skip
    token = user_token(services)
    body = upload_as(client, token, rotated, "upright.mp4")
    drain_jobs(services)
    jobs = jobs_by_kind(client, token, body)
    assert (jobs["probe"]["result"]["width"], jobs["probe"]["result"]["height"]) == (120, 160)
    poster = jobs["thumbnail"]["result"]["variants"][0]
    assert (poster["width"], poster["height"]) == (120, 160)


# --- thumbnail: the video poster frame --------------------------------------------------


@SQLITE_ONLY
@pytest.mark.usefixtures("media_tools")
@pytest.mark.parametrize(
    ("size", "seconds", "poster_size"),
    [
        ("160x120", 2.0, (160, 120)),  # a frame one second in, at the video's size
        ("1280x720", 0.5, (960, 540)),  # shorter than a second: the first frame; bounded
    ],
)
def test_thumbnail_stores_and_serves_a_video_poster(
    client: FlaskClient,
    services: Services,
    tmp_path: Path,
    size: str,
    seconds: float,
    poster_size: tuple[int, int],
) -> None:
    token = user_token(services)
    body = upload_as(client, token, make_video(tmp_path, "mp4", size, seconds), "clip.mp4")
    poster_url = f"/i/{body['id']}/poster"
    assert client.get(poster_url).status_code == 404  # not made yet
    drain_jobs(services)
    thumbnail = jobs_by_kind(client, token, body)["thumbnail"]
    assert thumbnail["status"] == "succeeded", thumbnail["error"]
    (made,) = thumbnail["result"]["variants"]
    assert (made["width"], made["height"]) == poster_size

    served = client.get(poster_url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["ETag"] == f'"{made["sha256"]}"'
    assert served.headers["X-Image-Size"] == "{}x{}".format(*poster_size)
    with Image.open(io.BytesIO(served.data)) as im:
        assert im.format == "JPEG" and im.size == poster_size
        # testsrc's colour bars, not a black or grey frame
        assert max(ImageStat.Stat(im).stddev) > 30
    again = client.get(poster_url, headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304


@SQLITE_ONLY
def test_an_image_has_no_poster(client: FlaskClient, services: Services) -> None:
    response = upload(client, image_bytes("PNG", (64, 48)), "pic.png")
    drain_jobs(services)
    missing = client.get(f"/i/{response.get_json()['id']}/poster")
    assert missing.status_code == 404
    assert missing.get_json()["code"] == "not_found"


# --- hostile input ---------------------------------------------------------------------


@pytest.fixture
def runner(services: Services) -> ThreadRunner:
    """One worker thread: a failing media job must not stop the next one."""
    return start_thread_runner(services, workers=1)


def fake_mp4() -> bytes:
    """An MP4 header (libmagic says video/mp4) followed by noise: no playable stream."""
    return b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(8000)


@SQLITE_ONLY
@pytest.mark.usefixtures("media_tools")
def test_garbage_claiming_to_be_a_video_fails_cleanly_and_the_worker_goes_on(
    client: FlaskClient, services: Services, runner: ThreadRunner, tmp_path: Path
) -> None:
    token = user_token(services)
    body = upload_as(client, token, fake_mp4(), "clip.mp4")
    assert body["mimetype"] == "video/mp4"
    for job_id in body["jobs"]:
        wait_for(lambda j=job_id: services.jobs.get(j).status in ("succeeded", "failed"))
    jobs = jobs_by_kind(client, token, body)
    storage_root = str(services.settings.storage_url).removeprefix("file://")
    for kind, tool in (("probe", "ffprobe"), ("thumbnail", "ffmpeg")):
        job = jobs[kind]
        assert job["status"] == "failed" and job["attempts"] == 1  # permanent: no retries
        assert job["error"].startswith(f"UnreadableMedia: {tool} could not read it: ")
        assert "moov atom not found" in job["error"]
        assert storage_root not in job["error"] and " @ 0x" not in job["error"]
        assert "traceback" not in job  # operators only
    assert file_status(services, body["id"]) == "failed"
    assert client.get(f"/i/{body['id']}/poster").status_code == 404

    # The same worker thread takes the next job as if nothing happened.
    good = upload_as(client, token, make_video(tmp_path, "mp4"), "good.mp4")
    for job_id in good["jobs"]:
        wait_for(lambda j=job_id: services.jobs.get(j).status == "succeeded")
    assert runner._thread is not None and runner._thread.is_alive()


@SQLITE_ONLY
@pytest.mark.usefixtures("media_tools")
def test_a_playlist_posing_as_a_video_is_not_followed(
    client: FlaskClient, services: Services, tmp_path: Path
) -> None:
    """An HLS playlist naming another local file: ffmpeg would read that file (and make
    its poster). libmagic calls playlists text, so pretend it said video/mp4."""
    make_video(tmp_path, "mp4")  # someone else's video, at a path the uploader guessed
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:2", "#EXTINF:2.0,", str(tmp_path / "clip.mp4")]
    playlist = "\n".join([*lines, "#EXT-X-ENDLIST", ""]).encode()
    (tmp_path / "list").write_bytes(playlist)
    plain = ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv"]
    followed = subprocess.run([*plain, str(tmp_path / "list")], capture_output=True, check=False)
    assert b"h264" in followed.stdout  # what an unrestricted ffprobe does with it
    token = user_token(services)
    body = upload_as(client, token, playlist, "list.m3u8")
    with services.db.write() as session:
        stmt = update(File).where(File.public_id == body["id"]).values(mimetype="video/mp4")
        session.execute(stmt)
    probe = services.jobs.submit("probe", file_id=_file_id(services, body["id"]))
    poster = services.jobs.submit("thumbnail", file_id=_file_id(services, body["id"]))
    drain_jobs(services)
    for job in (services.jobs.get(probe.id), services.jobs.get(poster.id)):
        assert job.status == "failed" and "[hls] Format not on whitelist" in str(job.error)
    assert client.get(f"/i/{body['id']}/poster").status_code == 404


def _file_id(services: Services, public_id: str) -> int:
    with services.db.read() as session:
        return int(session.scalar(select(File.id).where(File.public_id == public_id)) or 0)


@SQLITE_ONLY
def test_without_ffprobe_a_probe_notes_it_and_a_poster_fails_readably(
    client: FlaskClient, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine without ffmpeg: the video is stored; its jobs say what is missing."""
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no ffprobe, no ffmpeg
    token = user_token(services)
    body = upload_as(client, token, fake_mp4(), "clip.mp4")
    drain_jobs(services)
    jobs = jobs_by_kind(client, token, body)
    assert jobs["probe"]["status"] == "succeeded"
    assert jobs["probe"]["result"]["skipped"] == "ffprobe is not installed"
    assert jobs["thumbnail"]["status"] == "failed"
    assert "need ffmpeg, which is not installed" in jobs["thumbnail"]["error"]


@SQLITE_ONLY
@pytest.mark.usefixtures("media_tools")
@pytest.mark.parametrize("settings_overrides", [{}], indirect=False)
def test_by_default_a_video_gets_its_poster_and_an_image_no_extra_job(
    client: FlaskClient, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default PASTEFILE_UPLOAD_JOBS: a poster for videos where ffmpeg is installed;
    without ffmpeg no poster job is started (it could only fail)."""
    token = user_token(services)
    video = upload_as(client, token, make_video(tmp_path, "mp4"), "clip.mp4")
    assert sorted(jobs_by_kind(client, token, video)) == ["probe", "thumbnail"]
    image = upload_as(client, token, image_bytes("PNG", (64, 48)), "pic.png")
    assert sorted(jobs_by_kind(client, token, image)) == ["probe"]
    drain_jobs(services)
    assert client.get(f"/i/{video['id']}/poster").status_code == 200
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    bare = upload_as(client, token, fake_mp4(), "bare.mp4")
    assert sorted(jobs_by_kind(client, token, bare)) == ["probe"]


# --- PDF -----------------------------------------------------------------------------------


@SQLITE_ONLY
def test_probe_counts_the_pages_of_a_pdf(client: FlaskClient, services: Services) -> None:
    token = user_token(services)
    body = upload_as(client, token, pdf_bytes(5), "five.pdf")
    assert body["mimetype"] == "application/pdf" and len(body["jobs"]) == 1
    drain_jobs(services)
    probe = jobs_by_kind(client, token, body)["probe"]
    assert probe["status"] == "succeeded", probe["error"]
    assert probe["result"]["pages"] == 5
    assert file_status(services, body["id"]) == "ready"


# --- APP_ENV=testing: no runner in the app ---------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize("settings_overrides", [{}])  # the default: uploads start a probe
def test_queued_jobs_in_testing_leave_the_file_usable(
    client: FlaskClient, services: Services
) -> None:
    """Without a runner a file stays ``processing``: usable everywhere, and My files says
    so until the jobs run."""
    data = image_bytes("PNG", (64, 48))
    token = user_token(services)
    body = upload_as(client, token, data, "pic.png")
    assert services.jobs.get(body["jobs"][0]).status == "queued"
    card = client.get(f"/p/{body['id']}", headers={"Accept": "application/json"})
    assert card.status_code == 200 and card.get_json()["image_size"] == [64, 48]
    assert "status" not in card.get_json()
    assert client.get(f"/p/{body['id']}", headers={"Accept": "text/html"}).status_code == 200
    assert client.get(f"/i/{body['id']}").data == data
    assert "status" not in client.get(f"/api/v1/files/{body['id']}", headers=auth(token)).get_json()

    polled = f"/me/files/status?id={body['id']}"
    assert client.get(polled, headers=auth(token)).get_json() == {body["id"]: "processing"}
    listed = client.get("/me/files?view=list", headers=auth(token)).get_data(as_text=True)
    assert 'data-status="processing"' in listed
    (done,) = drain_jobs(services)
    assert done.status == "succeeded"
    assert client.get(polled, headers=auth(token)).get_json() == {body["id"]: "ready"}
    listed = client.get("/me/files?view=list", headers=auth(token)).get_data(as_text=True)
    assert 'data-status="ready"' in listed


@SQLITE_ONLY
def test_jobs_of_a_file_deleted_before_they_ran_end_cancelled_not_failed(
    client: FlaskClient, services: Services
) -> None:
    """The operator's job list shows why they ended; nothing there to retry or look into."""
    roles = Permission.LOGIN | Permission.OPERATOR
    user = services.accounts.create_user("olga", "a long enough password", roles)
    scopes = ["read", "upload", "delete"]
    olga = Principal(user.id, "olga", roles, frozenset(scopes))
    token = services.accounts.create_token(olga, "media", scopes)[1]
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    pdf = io.BytesIO()
    writer.write(pdf)
    body = upload_as(client, token, pdf.getvalue(), "gone.pdf")
    assert body["jobs"]
    assert client.delete(f"/api/v1/files/{body['id']}", headers=auth(token)).status_code == 204
    drain_jobs(services)
    listed = client.get("/api/v1/jobs?status=cancelled", headers=auth(token)).get_json()
    assert {j["id"]: (j["status"], j["message"]) for j in listed} == {
        job_id: ("cancelled", "the job's file was deleted") for job_id in body["jobs"]
    }
    assert client.get("/api/v1/jobs?status=failed", headers=auth(token)).get_json() == []


# --- retention of finished jobs (gc), on every database ---------------------------------


def _age(services: Services, job_id: int, status: str, days: float) -> None:
    finished = utcnow() - timedelta(days=days)
    with services.db.write() as session:
        values: dict[str, Any] = {"status": status, "finished_at": finished}
        session.execute(update(Job).where(Job.id == job_id).values(**values))


def _old_rows(count: int, days: float, **values: Any) -> list[dict[str, Any]]:
    when = utcnow() - timedelta(days=days)
    row = {"kind": "expire_sweep", "queue": "long", "status": "succeeded", "params": {}}
    return [{**row, "created_at": when, "updated_at": when, "finished_at": when, **values}] * count


def _run_gc(services: Services) -> Job:
    job = services.jobs.submit("gc")
    drain_jobs(services)
    done = services.jobs.get(job.id)
    assert done.status == "succeeded", done.error
    return done


def _job_ids(services: Services) -> set[int]:
    with services.db.read() as session:
        return set(session.scalars(select(Job.id)))


def test_gc_prunes_finished_jobs_past_their_retention(services: Services) -> None:
    cases = {  # name: (status, days since it finished, kept?)
        "recent success": ("succeeded", 29, True),
        "old success": ("succeeded", 31, False),
        "old cancel": ("cancelled", 31, False),
        "failure past the success retention": ("failed", 60, True),
        "old failure": ("failed", 91, False),
    }
    ids = {name: services.jobs.submit("expire_sweep").id for name in cases}
    for name, (status, days, _) in cases.items():
        _age(services, ids[name], status, days)
    # Old but unfinished: a queued job waiting out a backoff, and one running elsewhere.
    later = utcnow() + timedelta(days=1)
    waiting = services.jobs.submit("expire_sweep").id
    with services.db.write() as session:
        session.execute(update(Job).where(Job.id == waiting).values(run_after=later))
        unfinished = {"finished_at": None, "worker": "elsewhere:1", "lease_until": later}
        session.execute(insert(Job), _old_rows(1, 400, status="running", **unfinished))
        session.execute(insert(Job), _old_rows(1100, 40))  # more than one batch
    with services.db.read() as session:
        running = session.scalar(select(Job.id).where(Job.status == "running"))

    gc = _run_gc(services)
    assert gc.result["pruned_jobs"] == 1100 + 3
    kept = {ids[name] for name, (_, _, keep) in cases.items() if keep}
    assert _job_ids(services) == kept | {waiting, running, gc.id}


@pytest.mark.parametrize(
    "settings_overrides", [{"job_retention_days": 0, "job_failed_retention_days": 0}]
)
@SQLITE_ONLY
def test_a_retention_of_zero_keeps_finished_jobs_forever(services: Services) -> None:
    with services.db.write() as session:
        session.execute(insert(Job), _old_rows(3, 3650))
        session.execute(insert(Job), _old_rows(2, 3650, status="failed"))
    assert _run_gc(services).result["pruned_jobs"] == 0
    assert len(_job_ids(services)) == 6
