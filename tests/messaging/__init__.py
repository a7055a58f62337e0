import pytest

# The shared checks of the wire format report like test code does.
pytest.register_assert_rewrite("tests.messaging.broker")
