"""One package per provider. Each registers itself on import (see mockserver.registry)."""
