"""`python -m mockserver` is the same as the `avatar-mock` command."""

from mockserver.cli import main

raise SystemExit(main())
