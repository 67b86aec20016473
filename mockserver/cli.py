"""The ``avatar-mock`` command: serve | check-config | openapi | coverage | routes | contract
| state."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from mockserver.scenario import Scenario

from mockserver import statecli, workers
from mockserver.issuer import SECRET_ENV
from mockserver.loops import LOOP_ENV, LOOPS, LoopError, resolve

ADMIN_TOKEN_ENV = "AVATAR_MOCK_ADMIN_TOKEN"


def _speed(text: str) -> float:
    """``--speed``: a plain decimal from 0 to numbers.MAX_SPEED (argparse's float takes nan)."""
    from mockserver.numbers import MAX_SPEED, NumberError, parse_number

    try:
        return parse_number(text, "--speed", minimum=0, maximum=MAX_SPEED)
    except NumberError as err:
        raise argparse.ArgumentTypeError(err.reason) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="avatar-mock",
        description="A faithful local stand-in for asynchronous AI-avatar provider APIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    source = serve.add_mutually_exclusive_group()
    source.add_argument("--config", metavar="FILE", help="scenario YAML laid over the default")
    source.add_argument("--scenario", metavar="NAME", help="a preset from fixtures/scenarios")
    serve.add_argument("--watch", action="store_true", help="reload --config when the file changes")
    serve.add_argument("--seed", type=int, help="override the scenario's seed")
    serve.add_argument(
        "--clock",
        choices=("real", "virtual"),
        default="virtual",
        help="virtual (default) runs at --speed and can be advanced; real cannot",
    )
    serve.add_argument("--speed", type=_speed, default=1.0, help="virtual clock speed (0 freezes)")
    serve.add_argument(
        "--provider",
        action="append",
        metavar="NAME",
        help="serve only this provider (repeatable; default: all)",
    )
    serve.add_argument("--strict", action="store_true", help="validate every response")
    serve.add_argument(
        "--admin-token",
        default=os.environ.get(ADMIN_TOKEN_ENV),
        help=f"bearer token for /__mock/ off loopback (or ${ADMIN_TOKEN_ENV})",
    )
    serve.add_argument(
        "--admin-open",
        action="store_true",
        help="open /__mock/ without a token even off loopback (trusted networks only)",
    )
    serve.add_argument("--public-url", help="origin to put in links (default: the request's)")
    serve.add_argument(
        "--secret",
        default=os.environ.get(SECRET_ENV),
        help="secret replicas share to verify each other's signed links, 16+ characters "
        f"(or ${SECRET_ENV}, which keeps it out of the process list); default: random",
    )
    workers.add_arguments(serve)
    serve.add_argument("--log-level", default="WARNING")
    serve.add_argument(
        "--loop",
        choices=LOOPS,
        default=os.environ.get(LOOP_ENV) or None,
        help=f"event loop (or ${LOOP_ENV}); default uvloop where installed, else asyncio",
    )
    limits = serve.add_argument_group("connection limits")
    limits.add_argument(
        "--header-timeout",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="close a connection whose request head is not complete in time (default 10; 0: off)",
    )
    limits.add_argument(
        "--keepalive-timeout",
        type=_seconds,
        default=75.0,
        metavar="SECONDS",
        help="close an idle keep-alive connection after this long (default 75)",
    )
    limits.add_argument(
        "--max-connections",
        type=_positive_int,
        metavar="N",
        help="answer 503 to connections past N open (default: the file limit less 128, "
        "at most 4096)",
    )
    limits.add_argument(
        "--max-header-size",
        type=_positive_int,
        default=8190,
        metavar="BYTES",
        help="longest request line or header line (default 8190; longer: 400)",
    )

    check = sub.add_parser("check-config", help="validate a scenario file")
    check.add_argument("file")

    spec = sub.add_parser("openapi", help="print a provider's OpenAPI document")
    spec.add_argument("provider")
    spec.add_argument("--json", action="store_true", help="as JSON instead of YAML")

    coverage = sub.add_parser(
        "coverage",
        help="print a provider's coverage page: every operation, how it is known, the evidence",
    )
    coverage.add_argument("provider")

    routes = sub.add_parser("routes", help="list the routes the server registers")
    routes.add_argument("--provider", action="append", metavar="NAME")

    statecli.add_parser(sub, ADMIN_TOKEN_ENV, os.environ.get(ADMIN_TOKEN_ENV))

    contract = sub.add_parser(
        "contract",
        help="check a server (the mock or the real provider) against a provider's contract",
        description="Runs the black-box contract suite (pytest) against BASE_URL. Anything "
        "after -- goes to pytest (e.g. -- -x -k auth).",
    )
    contract.add_argument("--provider", required=True, help="youcam, relay or a2e")
    contract.add_argument("--base-url", default="http://127.0.0.1:8080")
    contract.add_argument("--api-key", default="sk-contract-suite")
    contract.add_argument("--other-api-key", help="a second key, for tenant isolation")
    contract.add_argument(
        "--allow-spend", action="store_true", help="run the checks that start paid tasks"
    )
    contract.add_argument("--target", choices=("auto", "mock", "real"), default="auto")
    contract.add_argument("--poll-timeout", type=float, default=1800.0, metavar="SECONDS")
    contract.add_argument("--report-json", metavar="FILE", help="per-operation verdict as JSON")
    contract.add_argument("--junit-xml", metavar="FILE", help="JUnit XML (pytest's --junitxml)")
    contract.add_argument("pytest_args", nargs="*", help=argparse.SUPPRESS)
    return parser


def _seconds(text: str) -> float:
    """A ``serve`` flag in seconds, read by the one number reader (finite, 0..1 day)."""
    from mockserver.numbers import NumberError, parse_number

    try:
        return parse_number(text, "seconds", minimum=0, maximum=86_400)
    except NumberError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from exc


def _positive_int(text: str) -> int:
    from mockserver.numbers import NumberError, parse_number

    try:
        return int(parse_number(text, "value", minimum=1, maximum=10_000_000, integer=True))
    except NumberError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from exc


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while the server is built; what was built is then frozen.

    Start-up allocates the long-lived part of the process (modules, parsed contracts, routes)
    and next to no garbage, so collections during it are passes that find next to nothing,
    ~50-90 ms of them before the first answer. Frozen afterwards (gc.freeze), those objects
    are also left out of later full collections; the price is that the few cycles start-up
    leaves behind (~1,700 objects, a few hundred KB, mostly classes attrs rebuilds at import)
    are never reclaimed.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _serve(args: argparse.Namespace) -> int:
    if args.workers > 1 and args.worker_index is None:
        scenario = _scenario(args)  # it may name the store the workers share
        if isinstance(scenario, int):
            return scenario
        return workers.supervise(args, args.argv, scenario)
    try:
        args.loop = resolve(args.loop)
    except LoopError as exc:  # --loop uvloop where it is missing, or a bad $AVATAR_MOCK_LOOP
        print(f"avatar-mock: {exc}", file=sys.stderr)
        return 2
    with collection_paused():
        built = _build(args)
    if isinstance(built, int):
        return built
    from mockserver.server import ConnectionLimits, serve

    limits = ConnectionLimits(
        header_timeout=args.header_timeout or None,
        keepalive_timeout=args.keepalive_timeout,
        max_field_size=args.max_header_size,
        **({"max_connections": args.max_connections} if args.max_connections else {}),
    )
    serve(built, args.host, args.port, limits, args.loop, reuse_port=args.worker_index is not None)
    return 0


def _build(args: argparse.Namespace) -> web.Application | int:
    """The application ``serve`` runs, or the exit code when it cannot start."""
    from mockserver.app import create_app
    from mockserver.clock import make_clock
    from mockserver.keys import PROVIDERS_KEY
    from mockserver.state import ServerOptions

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    scenario = _scenario(args)
    if isinstance(scenario, int):
        return scenario
    if args.seed is not None:
        scenario.seed = args.seed
    state = _state_url(args.state, scenario)
    if state is None:
        return 2
    options = ServerOptions(
        strict=args.strict,
        providers=tuple(args.provider) if args.provider else None,
        bind_host=args.host,
        admin_token=args.admin_token,
        admin_open=args.admin_open,
        public_url=args.public_url,
        secret=args.secret,
        state=state,
    )
    try:
        app = create_app(scenario, make_clock(args.clock, args.speed), options)
    except Exception as exc:  # a spec/handler mismatch or an unknown provider
        print(f"avatar-mock: cannot start: {exc}", file=sys.stderr)
        return 2
    if args.watch:
        if not args.config:
            print("avatar-mock: --watch needs --config FILE", file=sys.stderr)
            return 2
        from mockserver.watch import watch

        watch(app, args.config)
    names = ", ".join(p.name for p in app[PROVIDERS_KEY])
    worker = args.worker_index
    who = "avatar-mock" if worker is None else f"avatar-mock worker {worker} (pid {os.getpid()})"
    print(
        f"{who} serving {names} on http://{args.host}:{args.port} "
        f"(clock {args.clock}, seed {scenario.seed}, loop {args.loop}, state {state}); "
        "control API at /__mock/",
        flush=True,
    )
    return app


def _scenario(args: argparse.Namespace) -> Scenario | int:
    """The scenario ``--config`` or ``--scenario`` names, or 2 after saying what is wrong."""
    from mockserver.scenario import ScenarioError, load

    try:
        return load(args.config, args.scenario)
    except ScenarioError as exc:
        print(f"avatar-mock: invalid scenario {exc.source}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2


def _state_url(flag: str | None, scenario: Scenario) -> str | None:
    """The store this process uses (mockserver.stateurl's rule), checked by opening it: one
    that cannot be reached or read stops start-up here, with what to do. None: refused."""
    from mockserver.stateurl import MEMORY, refusal, state_url

    url = state_url(flag, scenario)
    why = None if url == MEMORY else refusal(url)
    if why is not None:
        print(f"avatar-mock: cannot start: {why}", file=sys.stderr)
        return None
    return url


def _check_config(args: argparse.Namespace) -> int:
    from mockserver.scenario import ScenarioError, load

    try:
        scenario = load(args.file)
    except ScenarioError as exc:
        print(f"{exc.source}: invalid", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"{args.file}: ok (seed {scenario.seed}, providers: {', '.join(scenario.providers)})")
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from mockserver.registry import providers
    from mockserver.resources import spec_path
    from mockserver.spec import load_document

    if args.provider not in providers():
        print(
            f"avatar-mock: no provider {args.provider!r}; known: {', '.join(providers())}",
            file=sys.stderr,
        )
        return 2
    if args.json:
        print(json.dumps(load_document(args.provider), indent=2))
    else:
        sys.stdout.write(spec_path(args.provider).read_text(encoding="utf-8"))
    return 0


def _coverage(args: argparse.Namespace) -> int:
    """The page the contracts package holds (contracts/<provider>/COVERAGE.md), as it is."""
    from mockserver.resources import contracts_dir

    pages = sorted(p.parent.name for p in contracts_dir().glob("*/COVERAGE.md"))
    if args.provider not in pages:
        print(
            f"avatar-mock: no coverage page for {args.provider!r}; known: {', '.join(pages)}",
            file=sys.stderr,
        )
        return 2
    page = contracts_dir() / args.provider / "COVERAGE.md"
    sys.stdout.write(page.read_text(encoding="utf-8"))
    return 0


def _routes(args: argparse.Namespace) -> int:
    from mockserver.app import create_app
    from mockserver.keys import ROUTES_KEY
    from mockserver.state import ServerOptions

    app = create_app(
        options=ServerOptions(providers=tuple(args.provider) if args.provider else None)
    )
    for route in app[ROUTES_KEY]:
        provider, method, path = route["provider"], route["method"], route["path"]
        print(f"{provider:<7} {method:<7} {path}  ({route['operation_id']})")
    return 0


def _contract(args: argparse.Namespace) -> int:
    """Run the suite in-process with pytest; its exit code is ours (0: the contract holds)."""
    try:
        import pytest
    except ImportError:
        print("avatar-mock contract needs pytest: pip install 'avatar-mock[test]'", file=sys.stderr)
        return 2
    from mockserver.resources import contracts_dir

    suite = str(contracts_dir() / "suite")
    argv = [suite, "--rootdir", suite, "-c", os.devnull, "-p", "no:cacheprovider"]
    for plugin in ("aiohttp", "asyncio", "hypothesispytest"):  # the suite needs none of them
        argv += ["-p", f"no:{plugin}"]
    # This process imported mockserver already, so pytest cannot rewrite the asserts of the
    # plugin's package (installed wheels only); that is expected, not worth a warning.
    argv += ["-q", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    argv += ["--provider", args.provider, "--base-url", args.base_url]
    argv += ["--api-key", args.api_key, "--target", args.target]
    argv += ["--poll-timeout", str(args.poll_timeout)]
    for flag, value in (
        ("--other-api-key", args.other_api_key),
        ("--report-json", args.report_json),
        ("--junitxml", args.junit_xml),
    ):
        if value:
            argv += [flag, os.path.abspath(value) if flag != "--other-api-key" else value]
    if args.allow_spend:
        argv.append("--allow-spend")
    return int(pytest.main([*argv, *args.pytest_args]))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what a worker is started with
    command = {
        "serve": _serve,
        "check-config": _check_config,
        "openapi": _openapi,
        "coverage": _coverage,
        "routes": _routes,
        "contract": _contract,
        "state": statecli.run,
    }[args.command]
    return command(args)


if __name__ == "__main__":
    raise SystemExit(main())
