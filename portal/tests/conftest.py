import pytest


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


@pytest.fixture
def captured_invitations(monkeypatch):
    """Each call of ``learner_invitations_queue`` (its learner ids), instead of sending emails."""
    calls = []

    def fake_queue(*, learners, invited_by=None):
        calls.append([getattr(u, "pk", u) for u in learners])

    monkeypatch.setattr("academy.services.learner_invitations_queue", fake_queue)
    return calls
