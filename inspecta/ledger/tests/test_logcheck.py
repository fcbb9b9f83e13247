"""The offline verifier and the witness: only public endpoints and a key."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from inspecta.ledger import logcheck, services, store
from inspecta.ledger.choices import FindingKind
from inspecta.ledger.models import AuditFinding, SigningKey, WitnessedCheckpoint
from inspecta.ledger.note import Checkpoint as CheckpointBody
from inspecta.ledger.note import sign_checkpoint
from inspecta.ledger.testing import append
from inspecta.ledger.witness import WitnessAlarm, witness_observe

VECTORS = Path(__file__).parent / "vectors"
NODE = "http://node.test"


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.mark.parametrize(
    "path", sorted((VECTORS / "inclusion").rglob("*.json")), ids=lambda p: str(p.relative_to(VECTORS))
)
def test_logcheck_inclusion_vectors(path: Path) -> None:
    """The stand-alone checker is an independent implementation: it must pass the vectors too."""
    data = _load(path)
    args = (
        _b64(data["leafHash"]),
        data["leafIdx"],
        data["treeSize"],
        [_b64(p) for p in data["proof"] or []],
        _b64(data["root"]),
    )
    if data["wantErr"]:
        with pytest.raises(logcheck.CheckError):
            logcheck.verify_inclusion(*args)
    else:
        logcheck.verify_inclusion(*args)


@pytest.mark.parametrize(
    "path", sorted((VECTORS / "consistency").rglob("*.json")), ids=lambda p: str(p.relative_to(VECTORS))
)
def test_logcheck_consistency_vectors(path: Path) -> None:
    data = _load(path)
    args = (
        data["size1"],
        data["size2"],
        [_b64(p) for p in data["proof"] or []],
        _b64(data["root1"]),
        _b64(data["root2"]),
    )
    if data["wantErr"]:
        with pytest.raises(logcheck.CheckError):
            logcheck.verify_consistency(*args)
    else:
        logcheck.verify_consistency(*args)


def _fetcher(client: Client, base: str = NODE):
    def fetch(url: str) -> bytes:
        assert url.startswith(base)
        response = client.get(url[len(base) :])
        if response.status_code != 200:
            raise logcheck.FetchError(f"{url}: HTTP {response.status_code}")
        return response.content

    return fetch


def _run(fetch, *args: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    status = logcheck.main(["--url", NODE, "--json", *args], fetch=fetch, out=out)
    return status, json.loads(out.getvalue())


@pytest.mark.django_db
def test_check_verifies_checkpoint_inclusion_and_consistency(client, tmp_path):
    append(10)
    services.sequence_pending()
    services.checkpoint_publish()
    key = SigningKey.objects.get(is_active=True).verifier_key
    state = tmp_path / "checkpoint.txt"
    fetch = _fetcher(client)

    status, result = _run(fetch, "--key", key, "--state", str(state), "--index", "0", "--index", "9")
    assert status == 0, result
    assert result["size"] == 10 and [e["index"] for e in result["entries"]] == [0, 9]
    assert state.read_text().startswith(services.log_origin() + "\n10\n")

    append(7, start=10)
    services.sequence_pending()
    services.checkpoint_publish()
    status, result = _run(fetch, "--key", key, "--state", str(state), "--index", "16")
    assert status == 0, result
    assert result["consistent_with"] == 10 and result["size"] == 17

    # Another key: the checkpoint is not trusted.
    other = "other.example/log+00000000+AQ" + "A" * 42 + "="
    status, result = _run(fetch, "--key", other)
    assert status == 1

    # A forged saved checkpoint (same size, another root, signed by the node's key): a fork.
    signer = services.signer_for(SigningKey.objects.get(is_active=True))
    state.write_text(sign_checkpoint(CheckpointBody(signer.name, 17, b"\x07" * 32), [signer]))
    status, result = _run(fetch, "--key", key, "--state", str(state))
    assert status == 1 and "fork" in result["error"]


@pytest.mark.django_db
def test_check_rejects_a_lying_node(client):
    append(8)
    services.sequence_pending()
    services.checkpoint_publish()
    key = SigningKey.objects.get(is_active=True).verifier_key
    honest = _fetcher(client)

    def lying(url: str) -> bytes:
        body = honest(url)
        if "/entries/3" in url:
            data = json.loads(body)
            data["entry"] = base64.b64encode(b'{"forged":true}').decode()
            data.pop("leaf_hash")
            return json.dumps(data).encode()
        return body

    status, result = _run(lying, "--key", key, "--index", "3")
    assert status == 1 and "inclusion" in result["error"]
    status, result = _run(honest, "--index", "3")  # key fetched from the node (TOFU)
    assert status == 0 and "warning" in result


@pytest.mark.django_db
def test_witness_keeps_consistent_checkpoints_and_alarms_on_a_fork(client):
    append(4)
    services.sequence_pending()
    services.checkpoint_publish()
    fetch = _fetcher(client)
    first = witness_observe(source=NODE, fetch=fetch)
    assert first.size == 4 and first.previous_size is None and first.stored
    again = witness_observe(source=NODE, fetch=fetch)
    assert not again.stored
    append(5, start=4)
    services.sequence_pending()
    services.checkpoint_publish()
    grown = witness_observe(source=NODE, fetch=fetch)
    assert (grown.size, grown.previous_size) == (9, 4)
    assert WitnessedCheckpoint.objects.count() == 2

    signer = services.signer_for(SigningKey.objects.get(is_active=True))
    forged = sign_checkpoint(CheckpointBody(signer.name, 9, b"\x01" * 32), [signer])

    def forking(url: str) -> bytes:
        return forged.encode() if url.endswith("/checkpoint") else fetch(url)

    with pytest.raises(WitnessAlarm):
        witness_observe(source=NODE, fetch=forking)
    finding = AuditFinding.objects.get(rule=FindingKind.WITNESS_FORK)
    assert finding.severity == "critical" and finding.details["size"] == 9
    assert WitnessedCheckpoint.objects.count() == 2
    assert store.tree_size() == 9


@pytest.mark.django_db(transaction=True)
def test_check_command_over_http_against_the_live_server(live_server, tmp_path):
    """`inspecta log check` with nothing but the URL and the key, through real HTTP."""
    from click.testing import CliRunner

    from inspecta.cli import main

    append(12)
    services.sequence_pending()
    services.checkpoint_publish()
    key_file = tmp_path / "node.vkey"
    key_file.write_text(SigningKey.objects.get(is_active=True).verifier_key + "\n")
    state = tmp_path / "state.txt"
    args = ["log", "check", "--url", live_server.url, "--key", f"@{key_file}", "--state", str(state)]
    result = CliRunner().invoke(main, [*args, "--index", "0", "--index", "11"])
    assert result.exit_code == 0, result.output
    assert "OK entry 11" in result.output and state.exists()
    append(3, start=12)
    services.sequence_pending()
    services.checkpoint_publish()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "consistent with the saved checkpoint of size 12" in result.output
    result = CliRunner().invoke(main, ["log", "check", "--url", live_server.url, "--index", "99"])
    assert result.exit_code == 2 and "entry_not_found" not in result.output and "HTTP 404" in result.output
