"""The ``avatar-mock`` command: serve | check-config | openapi | routes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

ADMIN_TOKEN_ENV = "AVATAR_MOCK_ADMIN_TOKEN"


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
    serve.add_argument(
        "--watch", action="store_true", help="reload --config when the file changes"
    )
    serve.add_argument("--seed", type=int, help="override the scenario's seed")
    serve.add_argument(
        "--clock",
        choices=("real", "virtual"),
        default="virtual",
        help="virtual (default) runs at --speed and can be advanced; real cannot",
    )
    serve.add_argument("--speed", type=float, default=1.0, help="virtual clock speed (0 freezes)")
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
    serve.add_argument("--log-level", default="WARNING")

    check = sub.add_parser("check-config", help="validate a scenario file")
    check.add_argument("file")

    spec = sub.add_parser("openapi", help="print a provider's OpenAPI document")
    spec.add_argument("provider")
    spec.add_argument("--json", action="store_true", help="as JSON instead of YAML")

    routes = sub.add_parser("routes", help="list the routes the server registers")
    routes.add_argument("--provider", action="append", metavar="NAME")
    return parser


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from mockserver.app import create_app
    from mockserver.clock import make_clock
    from mockserver.keys import PROVIDERS_KEY
    from mockserver.scenario import ScenarioError, load
    from mockserver.state import ServerOptions

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        scenario = load(args.config, args.scenario)
    except ScenarioError as exc:
        print(f"avatar-mock: invalid scenario {exc.source}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    if args.seed is not None:
        scenario.seed = args.seed
    options = ServerOptions(
        strict=args.strict,
        providers=tuple(args.provider) if args.provider else None,
        bind_host=args.host,
        admin_token=args.admin_token,
        admin_open=args.admin_open,
        public_url=args.public_url,
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
    print(
        f"avatar-mock serving {names} on http://{args.host}:{args.port} "
        f"(clock {args.clock}, seed {scenario.seed}); control API at /__mock/",
        flush=True,
    )
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = {
        "serve": _serve,
        "check-config": _check_config,
        "openapi": _openapi,
        "routes": _routes,
    }[args.command]
    return command(args)


if __name__ == "__main__":
    raise SystemExit(main())
