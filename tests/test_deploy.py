"""deploy/docker-compose.yml, read as Compose would read it (no docker here): two replicas of
the repository's image over one Redis 7, started with flags ``avatar-mock serve`` accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mockserver.backends import make_backend
from mockserver.cli import _parser
from mockserver.issuer import SECRET_ENV

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "deploy" / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # anchors and merges resolved


def replicas(compose: dict) -> dict[str, dict]:
    return {n: s for n, s in compose["services"].items() if "avatar-mock" in s.get("command", [])}


def test_redis_7_is_there_and_checked_before_the_replicas_start(compose):
    redis = compose["services"]["redis"]
    assert redis["image"].split(":")[1].startswith("7")
    assert "redis-cli" in redis["healthcheck"]["test"]
    for name, service in replicas(compose).items():
        assert service["depends_on"]["redis"]["condition"] == "service_healthy", name


def test_two_replicas_of_the_repository_image(compose):
    found = replicas(compose)
    assert len(found) == 2
    for service in found.values():
        context = (COMPOSE.parent / service["build"]["context"]).resolve()
        assert (context / service["build"]["dockerfile"]).is_file()
        assert (context / "pyproject.toml").is_file()
    published = [s["ports"][0].split(":")[0] for s in found.values()]
    assert len(set(published)) == 2  # each on a host port of its own


def test_each_replica_serves_on_all_interfaces_over_the_shared_redis(compose):
    for name, service in replicas(compose).items():
        command = service["command"]
        assert command[:2] == ["avatar-mock", "serve"], name
        args = _parser().parse_args(command[1:])  # the real CLI accepts every flag
        assert args.host == "0.0.0.0" and args.port == 8080
        assert args.state.startswith("redis://redis:6379/")  # the service name, in the network
        assert type(make_backend(args.state)).__name__ == "RedisBackend"


def test_the_replicas_share_the_admin_token_and_the_link_secret(compose):
    envs = [s["environment"] for s in replicas(compose).values()]
    assert envs[0] == envs[1]
    for env in envs:
        # required, never a default baked into the file: Compose refuses to start without them
        assert env["AVATAR_MOCK_ADMIN_TOKEN"].startswith("${AVATAR_MOCK_ADMIN_TOKEN:?")
        assert env[SECRET_ENV].startswith(f"${{{SECRET_ENV}:?")


def test_the_image_copies_what_the_build_needs():
    """setup.py maps contracts/ and fixtures/ into the package; without it in the image,
    ``pip install .`` finds three top-level packages and refuses to build."""
    copied = set()
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            copied.update(Path(p).name for p in line.split()[1:-1])
    assert {"pyproject.toml", "setup.py", "mockserver", "contracts", "fixtures"} <= copied
