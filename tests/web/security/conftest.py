from tests.web.console.conftest import console

__all__ = ["console"]
